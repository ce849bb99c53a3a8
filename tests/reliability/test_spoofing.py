"""Commands that try to run where a reader would not see one.

What GitHub shows as code, hides, or quotes never runs a command; nor does
a command spelled with look-alike or invisible characters, or sent by a
bot, an edit, or a deleted user.
"""

from __future__ import annotations

from typing import Any

import pytest

from changebot.commands import parse
from changebot.commands.comment import read_comment

HIDDEN = {
    "html comment": "<!-- /changebot override hidden -->",
    "multi-line comment": "<!--\n/changebot override hidden\n-->",
    "pre block": "<pre>\n/changebot override shown as code\n</pre>",
    "script block": "<script>\n/changebot override\n</script>",
    "textarea": "<textarea>\n/changebot override\n</textarea>",
    "fenced code": "```\n/changebot override\n```",
    "tilde fence": "~~~~\n/changebot override\n~~~~",
    "indented code": "    /changebot override",
    "inline code": "`/changebot override`",
    "quote": "> /changebot override",
    "lazy quote": "> I said\n/changebot override",
    "zero-width in the name": "/change\u200bbot override",
    "zero-width before": "\u200b/changebot override",
    "fullwidth slash": "\uff0fchangebot override",
    "no-break space": "/changebot\u00a0override",
    "mid-sentence": "please /changebot override",
}


@pytest.mark.parametrize("name", sorted(HIDDEN))
def test_a_command_a_reader_cannot_see_as_one_runs_nothing(name):
    assert parse(HIDDEN[name]) == []


def test_a_visible_command_after_a_hidden_one_still_runs():
    body = "<pre>\n/changebot override\n</pre>\n\n/changebot status"

    assert [c.verb for c in parse(body)] == ["status"]


def _payload(**comment: Any) -> dict[str, Any]:
    return {
        "action": comment.pop("action", "created"),
        "comment": {"id": 1, "body": "/changebot override now", **comment},
        "issue": {"number": 7, "pull_request": {"url": "x"}, "state": "open"},
        "repository": {"full_name": "acme/infra"},
    }


@pytest.mark.parametrize(
    ("comment", "why"),
    [
        (
            {"action": "edited", "user": {"login": "admin", "type": "User"}},
            "not-created",
        ),
        ({"user": {"login": "changebot[bot]", "type": "Bot"}}, "bot"),
        ({"user": {"login": "helper", "type": "Bot"}}, "bot"),
        ({"user": {"login": "Dependabot[BOT]", "type": "User"}}, "bot"),
        ({"user": None}, "malformed"),
        ({"user": {}}, "malformed"),
    ],
    ids=[
        "edited",
        "changebot",
        "another-app",
        "bot-suffix",
        "deleted-user",
        "no-login",
    ],
)
def test_edits_bots_and_deleted_users_run_nothing(comment, why):
    assert read_comment(_payload(**comment)) == why

"""Which `issue_comment` deliveries may carry commands."""

from __future__ import annotations

from typing import Any

from changebot.commands import CommandComment, read_comment


def delivery(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "action": "created",
        "repository": {"full_name": "acme/infra"},
        "issue": {
            "number": 7,
            "state": "open",
            "user": {"login": "dev", "type": "User"},
            "pull_request": {"url": "https://api.example.test/pulls/7"},
        },
        "comment": {
            "id": 99,
            "body": "/changebot status",
            "user": {"login": "pat", "type": "User"},
            "html_url": "https://example.test/acme/infra/pull/7#issuecomment-99",
        },
    }
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        target = payload
        for key in path:
            target = target[key]
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value
    return payload


def test_a_new_comment_on_a_pull_request_is_read() -> None:
    comment = read_comment(delivery())
    assert isinstance(comment, CommandComment)
    assert (comment.repo, comment.number, comment.comment_id) == ("acme/infra", 7, 99)
    assert (comment.login, comment.author) == ("pat", "dev")
    assert comment.open and not comment.merged


def test_edited_and_deleted_comments_run_nothing() -> None:
    assert read_comment(delivery(action="edited")) == "not-created"
    assert read_comment(delivery(action="deleted")) == "not-created"


def test_bots_run_nothing_whatever_they_are_called() -> None:
    as_app = {"login": "changebot[bot]", "type": "Bot"}
    assert read_comment(delivery(comment__user=as_app)) == "bot"
    typed = {"login": "renovate", "type": "Bot"}
    assert read_comment(delivery(comment__user=typed)) == "bot"
    named = {"login": "Dependabot[BOT]", "type": "User"}
    assert read_comment(delivery(comment__user=named)) == "bot"


def test_comments_on_plain_issues_run_nothing() -> None:
    assert read_comment(delivery(issue__pull_request=None)) == "not-a-pull"


def test_comments_without_a_command_are_skipped_early() -> None:
    assert read_comment(delivery(comment__body="LGTM")) == "no-command"


def test_a_merged_pull_request_says_so() -> None:
    merged = {"url": "u", "merged_at": "2026-01-02T03:04:05Z"}
    comment = read_comment(delivery(issue__pull_request=merged, issue__state="closed"))
    assert isinstance(comment, CommandComment)
    assert comment.merged and not comment.open

"""User text that tries to trick a reader: bidi overrides, invisible characters,
HTML, Markdown and Slack mrkdwn. Every place changebot shows it (check run,
PR comment, Slack, the audit browser) shows it inert and visible.
"""

from __future__ import annotations

import json
import re

import pytest

from changebot.adapters.slack import SentNotices, SlackNotifier
from reliability.host import RATIONALE, REPO, AppHost, browser, promises_kept, sign_in
from reliability.slackroom import slack_room

pytestmark = pytest.mark.e2e

RLO = "\u202e"
INVISIBLE = ["\u202e", "\u202d", "\u2066", "\u2067", "\u200b", "\u200d", "\ufeff"]
BRANCH = f"fix-{RLO}exe.txt"
PATH = f"infra/evil{RLO}fdp\u200b.tf"
TITLE = "<script>alert(1)</script> @everyone <!channel> [win](https://evil.example)"
TRAP = (
    "<img src=x onerror=alert(1)> <!here> <@U0ADMIN> <https://evil.example|docs>"
    f" ![pixel](https://evil.example/p.png) ad\u200bmin said {RLO}ko\u2066ok"
)


@pytest.fixture
def room():
    with slack_room() as slack:
        yield slack


@pytest.fixture
def app_host(simulator, tmp_path, room):
    host = AppHost(simulator, tmp_path / "app")
    host.services.notifier = SlackNotifier(  # type: ignore[misc]
        room.url, sent=SentNotices(tmp_path / "notices.sqlite3"), sleep=lambda _: None
    )
    return host


@pytest.fixture
def merged(app_host, seeded_repo) -> int:
    """Open the hostile PR, let the App judge it, and merge it past the check."""
    app_host.listen()
    number = seeded_repo.open_pull(
        BRANCH, {PATH: "# x\n"}, title=TITLE, body=RATIONALE + "\n\n" + TRAP
    )
    app_host.work()
    seeded_repo.merge(number, login="admin")
    app_host.work()
    return number


def _outputs(host: AppHost, number: int) -> dict[str, str]:
    runs = host.simulator.check_runs(REPO, "changebot")
    comments = [c.body for c in host.simulator.comments(REPO, number)]
    return {
        "check runs": json.dumps([r.output for r in runs], ensure_ascii=False),
        "comments": "\n".join(comments),
    }


def test_the_hostile_pull_is_recorded_as_written(app_host, merged):
    [change] = [e for e in promises_kept(app_host) if e["kind"] == "change"]

    # NOTE: the log keeps the evidence byte for byte; only displays neutralise.
    assert PATH in change["paths"]
    assert TRAP in change["rationale"]
    assert change["bypassed"] is True


def test_no_invisible_or_reordering_character_reaches_a_reader(app_host, merged, room):
    shown = _outputs(app_host, merged) | {"slack": "\n".join(room.texts())}
    assert room.messages, "the bypass notice was not posted"

    for where, text in shown.items():
        hidden = sorted({f"U+{ord(c):04X}" for c in INVISIBLE if c in text})
        assert hidden == [], f"{where} carry {hidden}"
    # NOTE: Markdown escapes the plus sign; GitHub shows `‹U+202E›`.
    assert re.search(r"U\\*\+202E", shown["check runs"]), "the override is hidden"


def _unescaped_markdown(text: str) -> list[str]:
    found = re.findall(r"<(?:script|img)\b", text)
    found += re.findall(r"(?<!\\)\]\((?:https?|javascript):", text)
    found += re.findall(r"(?<![\\\w])@everyone\b", text)
    return found


def test_markdown_and_html_in_titles_and_rationales_stay_text(app_host, merged):
    for where, text in _outputs(app_host, merged).items():
        assert _unescaped_markdown(text) == [], where


def test_slack_notices_ping_nobody_and_link_nowhere(app_host, merged, room):
    for text in room.texts():
        assert not re.search(r"<[!@#]", text), text
        assert "<https://evil" not in text


def test_the_audit_browser_shows_the_entry_inert(app_host, merged, tmp_path):
    client = browser(app_host, tmp_path)
    sign_in(client, "admin")
    [change] = app_host.entries(REPO, "change")
    pages = [
        client.get("/audit/"),
        client.get(f"/audit/entries/{REPO}/{change['index']}"),
    ]

    for page in pages:
        assert page.status_code == 200, page.status_code
        html = page.get_data(as_text=True)
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        hidden = sorted({f"U+{ord(c):04X}" for c in INVISIBLE if c in html})
        assert hidden == [], hidden


@pytest.mark.parametrize("name", ["md", "mrkdwn", "plain"])
def test_every_template_output_shows_hidden_characters(name):
    from changebot.render import environment, md, mrkdwn

    text = f"a{RLO}b\u200bc\u2060d"
    escape = {"md": md, "mrkdwn": mrkdwn, "plain": str}[name]
    shown = environment().from_string("{{ text }}").render(text=escape(text))

    assert [c for c in INVISIBLE if c in shown] == []
    assert "U+202E" in shown.replace("\\", "")

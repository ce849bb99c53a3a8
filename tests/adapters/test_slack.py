"""The Slack adapter against a local HTTP server that answers as Slack does.

NOTE: slack_sdk sends through urllib, which `responses` cannot intercept
(it patches requests only), so Slack is played by a real HTTP server on
loopback with scripted answers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from changebot.adapters.queue import JobQueue
from changebot.adapters.slack import (
    AppNotifier,
    LogNotifier,
    Routing,
    SentNotices,
    SlackNotifier,
    check_blocks,
    neutralise,
    notifier_for,
)
from changebot.errors import NotifyError
from changebot.ports import Notice


@dataclass(frozen=True)
class Route:
    """A route as the config's ``notify.routes`` holds it."""

    channel: str
    kinds: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Notify:
    slack_channel: str | None = None
    slack_webhook_env: str | None = None
    slack_token_env: str | None = None
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True)
class Environment:
    name: str
    slack: str | None = None


@dataclass(frozen=True)
class Config:
    notify: Notify = field(default_factory=Notify)
    deployments: tuple[Environment, ...] = ()


class FakeSlack:
    """Record every request and answer from a script (default: 200 ok)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.script: list[tuple[int, dict[str, str], str]] = []
        self.ts = 0
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, status: int, body: str = "", **headers: str) -> None:
        self.script.append((status, headers, body))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        slack = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                size = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(size) or b"{}")
                slack.requests.append((self.path, body))
                status, headers, text = slack._next(self.path, body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()
                self.wfile.write(text.encode())

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def _next(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        if self.script:
            return self.script.pop(0)
        if path.startswith("/api/"):
            self.ts += 1
            ts = body.get("ts") or f"1700000000.{self.ts:06d}"
            answer = {"ok": True, "channel": "C0DEPLOYS", "ts": ts}
            return 200, {"Content_Type": "application/json"}, json.dumps(answer)
        return 200, {}, "ok"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    thread = threading.Thread(
        target=fake.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def waits() -> list[float]:
    return []


def notice(key: str = "deployment:acme/infra:production:7", **fields: Any) -> Notice:
    values: dict[str, Any] = {
        "kind": "deployment",
        "key": key,
        "repo": "acme/infra",
        "title": "Deployed to production",
        "text": "deployed abc1234 to production",
        "environment": "production",
        "blocks": (
            {"type": "header", "text": {"type": "plain_text", "text": "Deploy"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "*3 PRs*"}},
        ),
    }
    values.update(fields)
    return Notice(**values)


def webhook(slack: FakeSlack, waits: list[float], **kwargs: Any) -> SlackNotifier:
    return SlackNotifier(f"{slack.url}/hooks/T/B/X", sleep=waits.append, **kwargs)


def bot(slack: FakeSlack, waits: list[float], **kwargs: Any) -> SlackNotifier:
    return SlackNotifier(
        token="xoxb-test",
        api_url=f"{slack.url}/api/",
        routing=kwargs.pop("routing", Routing(default="#deploys")),
        sleep=waits.append,
        **kwargs,
    )


def test_webhook_posts_text_and_blocks(slack, waits):
    webhook(slack, waits).send(notice())

    [(path, body)] = slack.requests
    assert path == "/hooks/T/B/X"
    assert body["text"] == "deployed abc1234 to production"
    assert [b["type"] for b in body["blocks"]] == ["header", "section"]
    assert waits == []


def test_same_key_and_text_is_sent_once(slack, waits):
    notifier = webhook(slack, waits)

    notifier.send(notice())
    notifier.send(notice())

    assert len(slack.requests) == 1


def test_idempotency_survives_a_restart(slack, waits, tmp_path):
    path = tmp_path / "data" / "slack.sqlite3"

    webhook(slack, waits, sent=SentNotices(path)).send(notice())
    webhook(slack, waits, sent=SentNotices(path)).send(notice())

    assert len(slack.requests) == 1


def test_a_notice_retried_on_another_host_is_not_posted_again(slack, tmp_path):
    ledger = JobQueue(tmp_path / "queue").ledger
    hosts = [
        AppNotifier(
            {},
            data_dir=tmp_path / host,
            webhook_url=f"{slack.url}/hooks/T/B/X",
            shelf=ledger,
        )
        for host in ("web-1", "web-2")
    ]

    hosts[0].send(notice())
    hosts[1].send(notice())

    assert len(slack.requests) == 1


def test_429_waits_as_long_as_retry_after_says(slack, waits):
    slack.answer(429, "rate_limited", Retry_After="7")

    webhook(slack, waits).send(notice())

    assert waits == [7.0]
    assert len(slack.requests) == 2


def test_5xx_retries_with_growing_waits_then_gives_up(slack, waits):
    for _ in range(4):
        slack.answer(503, "service unavailable")

    with pytest.raises(NotifyError, match="failed 4 times"):
        webhook(slack, waits).send(notice())

    assert waits == [1.0, 2.0, 4.0]
    assert len(slack.requests) == 4


def test_5xx_then_success_delivers(slack, waits):
    slack.answer(500, "oops")

    webhook(slack, waits).send(notice())

    assert waits == [1.0]
    assert len(slack.requests) == 2


def test_400_is_not_retried_and_carries_slacks_error(slack, waits):
    slack.answer(400, "invalid_blocks")

    with pytest.raises(NotifyError, match="invalid_blocks"):
        webhook(slack, waits).send(notice())

    assert len(slack.requests) == 1
    assert waits == []


def test_a_refused_notice_is_tried_again_later(slack, waits):
    notifier = webhook(slack, waits)
    slack.answer(404, "no_service")

    with pytest.raises(NotifyError):
        notifier.send(notice())
    notifier.send(notice())

    assert len(slack.requests) == 2


def test_unreachable_slack_is_retried_then_reported(waits):
    notifier = SlackNotifier("http://127.0.0.1:9/hooks/x", sleep=waits.append)

    with pytest.raises(NotifyError, match="did not answer"):
        notifier.send(notice())

    assert len(waits) == 3


def test_bot_posts_once_then_updates_the_same_message(slack, waits):
    notifier = bot(slack, waits)

    notifier.send(notice(text="deploying abc1234"))
    notifier.send(notice(text="deployed abc1234"))

    (first, posted), (second, updated) = slack.requests
    assert first == "/api/chat.postMessage"
    assert posted["channel"] == "#deploys"
    assert second == "/api/chat.update"
    assert updated["channel"] == "C0DEPLOYS"
    assert updated["ts"] == "1700000000.000001"
    assert updated["text"] == "deployed abc1234"


def test_bot_api_error_with_200_is_not_retried(slack, waits):
    slack.answer(200, json.dumps({"ok": False, "error": "channel_not_found"}))

    with pytest.raises(NotifyError, match="channel_not_found"):
        bot(slack, waits).send(notice())

    assert len(slack.requests) == 1


def test_bot_429_honours_retry_after(slack, waits):
    slack.answer(
        429, json.dumps({"ok": False, "error": "ratelimited"}), Retry_After="3"
    )

    bot(slack, waits).send(notice())

    assert waits == [3.0]
    assert [p for p, _ in slack.requests] == ["/api/chat.postMessage"] * 2


def test_routes_by_kind_area_and_environment(slack, waits):
    routing = Routing(
        routes=[
            Route("#oncall", kinds=("rollback",), environments=("production",)),
            Route("#security", areas=("workflows",)),
        ],
        environments={"production": "#deploys", "staging": "#staging"},
        default="#changebot",
    )
    notifier = bot(slack, waits, routing=routing)

    notifier.send(notice("a", kind="rollback"))
    notifier.send(notice("b", kind="deployment", areas=("workflows",)))
    notifier.send(notice("c", kind="deployment", environment="staging"))
    notifier.send(notice("d", kind="override", environment=None))

    channels = [body["channel"] for _, body in slack.requests]
    assert channels == ["#oncall", "#security", "#staging", "#changebot"]


def test_env_route_sends_to_the_webhook_that_variable_holds(slack, waits):
    routing = Routing(routes=[Route("env:CHANGEBOT_SLACK_ONCALL", kinds=("rollback",))])
    notifier = webhook(
        slack,
        waits,
        routing=routing,
        webhooks={"CHANGEBOT_SLACK_ONCALL": f"{slack.url}/hooks/oncall"},
    )

    notifier.send(notice("a", kind="rollback"))
    notifier.send(notice("b", kind="deployment"))

    assert [p for p, _ in slack.requests] == ["/hooks/oncall", "/hooks/T/B/X"]


def test_mentions_in_texts_are_neutralised(slack, waits):
    evil = "<!channel> ping <@U123> in <#C999> <!here|here> <https://x.example|ok>"
    blocks = ({"type": "section", "text": {"type": "mrkdwn", "text": evil}},)

    webhook(slack, waits).send(notice(text=evil, blocks=blocks))

    [(_, body)] = slack.requests
    for text in (body["text"], body["blocks"][0]["text"]["text"]):
        assert "<!" not in text and "<@" not in text and "<#" not in text
        assert "<https://x.example|ok>" in text


def test_invalid_blocks_fall_back_to_text(slack, waits):
    too_long = {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}

    webhook(slack, waits).send(notice(blocks=(too_long,)))

    [(_, body)] = slack.requests
    assert "blocks" not in body
    assert body["text"]


def test_check_blocks_enforces_slacks_limits():
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}
    check_blocks([section] * 50)

    with pytest.raises(NotifyError, match="50"):
        check_blocks([section] * 51)
    with pytest.raises(NotifyError, match="section"):
        check_blocks(
            [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
        )


def test_neutralise_keeps_links_and_plain_text():
    assert neutralise("a < b and <https://x|y>") == "a < b and <https://x|y>"
    assert neutralise("<!here>") == "&lt;!here>"


def test_log_notifier_logs_each_key_once(caplog):
    notifier = LogNotifier()
    with caplog.at_level("INFO", logger="changebot.adapters.slack"):
        notifier.send(notice())
        notifier.send(notice())

    assert [r.getMessage() for r in caplog.records] == ["notice"]


def test_notifier_for_reads_secrets_only_from_slack_variables(tmp_path):
    quiet = Config()
    assert isinstance(notifier_for(quiet, {}), LogNotifier)

    config = Config(
        notify=Notify(slack_token_env="SLACK_BOT_TOKEN", slack_channel="#c"),
        deployments=(Environment("production", slack="#deploys"),),
    )
    built = notifier_for(config, {"SLACK_BOT_TOKEN": "xoxb-1"}, data_dir=tmp_path)
    assert isinstance(built, SlackNotifier)

    sneaky = Config(notify=Notify(slack_webhook_env="CHANGEBOT_PRIVATE_KEY"))
    with pytest.raises(NotifyError, match="not a Slack one"):
        notifier_for(sneaky, {"CHANGEBOT_PRIVATE_KEY": "secret"})

"""Slack notices through slack_sdk (the only slack_sdk import).

Two ways to reach Slack: an incoming webhook (one URL, one channel, post
only) or a bot token (any channel; one message per notice key, updated in
place with ``chat.update``). Both retry what Slack asks to be retried and
give up at once on what a retry cannot fix.

See: https://api.slack.com/messaging/webhooks
See: https://api.slack.com/apis/rate-limits
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.error import URLError

from slack_sdk.errors import SlackApiError, SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.web import WebClient
from slack_sdk.webhook import WebhookClient

from changebot.errors import NotifyError
from changebot.ports import Notice

log = logging.getLogger(__name__)
# NOTE: slack_sdk logs the URL of each webhook request at DEBUG, and an
# incoming webhook's URL is its credential.
logging.getLogger("slack_sdk.webhook").setLevel(logging.INFO)

T = TypeVar("T")

ATTEMPTS = 4
MAX_BACKOFF = 30.0
MAX_RETRY_AFTER = 300.0
TEXT_LIMIT = 40_000
STATE_FILE = "notices.sqlite3"
#: The only environment variables a repository's config may name for Slack.
SECRET_PREFIXES = ("CHANGEBOT_SLACK_", "SLACK_")
_MENTION = re.compile(r"<(?=[!@#])")


def neutralise(text: str) -> str:
    """Defuse ``<!channel>``, ``<!here>``, ``<@U..>`` and ``<#C..>`` in a text.

    Templates escape user text already; this is the last line of defence, so
    that no notice of changebot's can ever ping a channel or a person.
    """
    return _MENTION.sub("&lt;", text)


@dataclass(frozen=True)
class Destination:
    """Where one copy of a notice goes: a channel (bot token) or a webhook."""

    label: str
    channel: str | None = None
    webhook: str | None = None


class _Transient(Exception):
    """Slack asked for a retry (429, 5xx) or did not answer."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


# --- which notice goes where ------------------------------------------------


class Route(Protocol):
    """A route of the config's ``notify.routes`` (`changebot.policy.config`)."""

    @property
    def channel(self) -> str: ...
    @property
    def kinds(self) -> tuple[str, ...]: ...
    @property
    def areas(self) -> tuple[str, ...]: ...
    @property
    def environments(self) -> tuple[str, ...]: ...


class _Notify(Protocol):
    @property
    def slack_channel(self) -> str | None: ...
    @property
    def slack_webhook_env(self) -> str | None: ...
    @property
    def slack_token_env(self) -> str | None: ...
    @property
    def routes(self) -> Sequence[Route]: ...


class _Environment(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def slack(self) -> str | None: ...


class Config(Protocol):
    """The parts of a repository's config that Slack reads."""

    @property
    def notify(self) -> _Notify: ...
    @property
    def deployments(self) -> Sequence[_Environment]: ...


class Routing:
    """Choose the destinations of a notice by kind, area and environment.

    A destination is a channel (``#deploys`` or a channel id, for the bot
    token) or ``env:NAME``, an environment variable holding a webhook URL.
    """

    def __init__(
        self,
        routes: Sequence[Route] = (),
        environments: Mapping[str, str] | None = None,
        default: str | None = None,
    ) -> None:
        self.routes = tuple(routes)
        self.environments = dict(environments or {})
        self.default = default

    @classmethod
    def from_config(cls, config: Config) -> Routing:
        """Read the routes of ``notify`` and the channels of ``deployments``."""
        environments = {e.name: e.slack for e in config.deployments if e.slack}
        return cls(config.notify.routes, environments, config.notify.slack_channel)

    def destinations(self, notice: Notice) -> list[str | None]:
        """Return the destinations of ``notice``; None means the default one."""
        chosen = [r.channel for r in self.routes if _matches(r, notice)]
        if not chosen and notice.environment in self.environments:
            chosen = [self.environments[notice.environment]]
        found: list[str | None] = list(dict.fromkeys(chosen))
        return found or [self.default]


def _matches(route: Route, notice: Notice) -> bool:
    return (
        (not route.kinds or notice.kind in route.kinds)
        and (not route.environments or notice.environment in route.environments)
        and (not route.areas or bool(set(route.areas) & set(notice.areas)))
    )


# --- what was sent already ----------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """A notice already delivered to one destination."""

    digest: str
    channel: str | None
    ts: str | None


class SentNotices:
    """Remember each notice key's message per destination (SQLite, or memory)."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = str(path) if path else ":memory:"
        self._memory = sqlite3.connect(":memory:") if path is None else None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS notices (key TEXT, destination TEXT,"
                " digest TEXT, channel TEXT, ts TEXT,"
                " PRIMARY KEY (key, destination))"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if self._memory is not None:
            with self._memory:
                yield self._memory
            return
        with closing(sqlite3.connect(self._path, timeout=10)) as db, db:
            yield db

    def get(self, key: str, destination: str) -> Sent | None:
        """Return what was sent for ``key`` to ``destination``, if anything."""
        with self._connect() as db:
            row = db.execute(
                "SELECT digest, channel, ts FROM notices"
                " WHERE key = ? AND destination = ?",
                (key, destination),
            ).fetchone()
        return Sent(*row) if row else None

    def put(self, key: str, destination: str, sent: Sent) -> None:
        """Record that ``key`` reached ``destination`` as ``sent``."""
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO notices VALUES (?, ?, ?, ?, ?)",
                (key, destination, sent.digest, sent.channel, sent.ts),
            )


class Shelf(Protocol):
    """Small texts by key, shared by every host (the queue's ledger is one)."""

    def note(self, key: str, value: str) -> None:
        """Remember ``value`` under ``key``."""
        ...

    def noted(self, key: str) -> str | None:
        """Return what was noted under ``key``, or None."""
        ...


class SharedSentNotices:
    """Remember sent notices on a shelf that every web and worker host reads.

    With Redis, a job retried on another machine finds what the first one
    sent, so it updates that message instead of posting a second one.
    """

    def __init__(self, shelf: Shelf) -> None:
        self._shelf = shelf

    def get(self, key: str, destination: str) -> Sent | None:
        """Return what was sent for ``key`` to ``destination``, if anything."""
        raw = self._shelf.noted(_shelf_key(key, destination))
        return Sent(**json.loads(raw)) if raw else None

    def put(self, key: str, destination: str, sent: Sent) -> None:
        """Record that ``key`` reached ``destination`` as ``sent``."""
        self._shelf.note(_shelf_key(key, destination), json.dumps(asdict(sent)))


def _shelf_key(key: str, destination: str) -> str:
    return f"slack.sent.{key}@{destination}"


Record = SentNotices | SharedSentNotices


# --- the notifiers ----------------------------------------------------------


class LogNotifier:
    """Write notices to the log; used when no Slack is configured."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def send(self, notice: Notice) -> None:
        """Log ``notice`` once per key."""
        if notice.key in self._seen:
            return
        self._seen.add(notice.key)
        log.info(
            "notice",
            extra={"kind": notice.kind, "key": notice.key, "repo": notice.repo},
        )


class SlackNotifier:
    """Send notices to Slack by incoming webhook or with a bot token."""

    def __init__(
        self,
        webhook_url: str | None = None,
        *,
        token: str | None = None,
        routing: Routing | None = None,
        webhooks: Mapping[str, str] | None = None,
        sent: Record | None = None,
        sleep: Callable[[float], None] = time.sleep,
        api_url: str | None = None,
        timeout: int = 10,
    ) -> None:
        if not webhook_url and not token:
            raise NotifyError(
                "slack needs a webhook URL or a bot token",
                hint="set CHANGEBOT_SLACK_WEBHOOK, or notify.slack.token_env",
            )
        self._webhook_url = webhook_url
        self._routing = routing or Routing()
        self._webhooks = dict(webhooks or {})
        self._sent = sent or SentNotices()
        self._sleep = sleep
        self._timeout = timeout
        self._client: WebClient | None = None
        if token:
            self._client = WebClient(
                token=token,
                timeout=timeout,
                retry_handlers=[],
                base_url=api_url or WebClient.BASE_URL,
            )

    def send(self, notice: Notice) -> None:
        """Deliver ``notice`` to each destination; same key and text: no-op."""
        payload = _payload(notice)
        digest = hashlib.sha256(
            json.dumps(payload, sort_keys=True).encode()
        ).hexdigest()
        failures: list[NotifyError] = []
        for destination in self._destinations(notice):
            try:
                self._send_to(destination, notice.key, payload, digest)
            except NotifyError as err:
                log.warning(
                    "slack refused a notice: %s",
                    err,
                    extra={"key": notice.key, "destination": destination.label},
                )
                failures.append(err)
        if failures:
            raise failures[0]

    # -- destinations --

    def _destinations(self, notice: Notice) -> list[Destination]:
        found = [self._resolve(name) for name in self._routing.destinations(notice)]
        unique = {d.label: d for d in found if d is not None}
        return list(unique.values())

    def _resolve(self, name: str | None) -> Destination | None:
        if name and name.startswith("env:"):
            url = self._webhooks.get(name[4:])
            if url:
                return Destination(name, webhook=url)
            log.warning("no webhook URL in the environment", extra={"name": name})
        elif name and self._client is not None:
            return Destination(name, channel=name)
        elif name:
            log.info("no slack bot token: %s goes to the default webhook", name)
        if self._webhook_url:
            return Destination("webhook:default", webhook=self._webhook_url)
        return None

    # -- delivery --

    def _send_to(
        self, destination: Destination, key: str, payload: dict[str, Any], digest: str
    ) -> None:
        before = self._sent.get(key, destination.label)
        if before is not None and before.digest == digest:
            log.debug("notice already sent", extra={"key": key})
            return
        if destination.webhook is not None:
            url = destination.webhook
            self._retry(lambda: self._post_webhook(url, payload))
            self._sent.put(key, destination.label, Sent(digest, None, None))
            return
        sent = self._retry(lambda: self._post_message(destination, before, payload))
        self._sent.put(key, destination.label, Sent(digest, sent[0], sent[1]))

    def _post_webhook(self, url: str, payload: dict[str, Any]) -> None:
        client = WebhookClient(url, timeout=self._timeout, retry_handlers=[])
        try:
            answer = client.send(**payload)
        except (URLError, TimeoutError, OSError) as err:
            raise _Transient(f"slack did not answer: {err}") from err
        if answer.status_code == 200:
            return
        _raise_for(answer.status_code, answer.headers, answer.body)

    def _post_message(
        self, destination: Destination, before: Sent | None, payload: dict[str, Any]
    ) -> tuple[str, str]:
        assert self._client is not None  # noqa: S101 - a channel implies a token
        try:
            if before is not None and before.channel and before.ts:
                answer = self._client.chat_update(
                    channel=before.channel, ts=before.ts, **payload
                )
            else:
                channel = str(destination.channel)
                answer = self._client.chat_postMessage(channel=channel, **payload)
        except SlackApiError as err:
            response = err.response
            _raise_for(response.status_code, response.headers, response.get("error"))
            raise  # unreachable: _raise_for always raises
        except (URLError, TimeoutError, OSError) as err:
            raise _Transient(f"slack did not answer: {err}") from err
        return str(answer["channel"]), str(answer["ts"])

    def _retry(self, call: Callable[[], T]) -> T:
        """Run ``call``, waiting as Slack asks on 429 and backing off on 5xx."""
        for attempt in range(ATTEMPTS):
            try:
                return call()
            except _Transient as err:
                if attempt == ATTEMPTS - 1:
                    raise NotifyError(
                        f"slack failed {ATTEMPTS} times: {err}",
                        hint="the audit entry is safe; the notice is lost",
                    ) from err
                wait = err.wait if err.wait is not None else _backoff(attempt)
                log.info("slack asked to wait", extra={"seconds": wait})
                self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


def _backoff(attempt: int) -> float:
    return min(MAX_BACKOFF, 2.0**attempt)


def _raise_for(status: int, headers: Mapping[str, Any], error: object) -> None:
    """Raise `_Transient` for what a retry can fix, `NotifyError` for the rest."""
    if status == 429:
        raise _Transient("rate limited", _retry_after(headers))
    if status >= 500:
        raise _Transient(f"slack answered {status}")
    raise NotifyError(
        f"slack refused the notice: {error or status}",
        hint="check the channel, the token's scopes and the blocks",
    )


def _retry_after(headers: Mapping[str, Any]) -> float:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), "1")
    if isinstance(value, list):
        value = value[0]
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(value)))
    except ValueError:
        return 1.0


# --- the message --------------------------------------------------------------


def _payload(notice: Notice) -> dict[str, Any]:
    """Return the text (fallback) and the checked blocks of a notice."""
    text = neutralise(notice.text)[:TEXT_LIMIT]
    payload: dict[str, Any] = {"text": text}
    blocks = [_neutral_block(b) for b in notice.blocks]
    if blocks:
        try:
            check_blocks(blocks)
        except NotifyError as err:
            # NOTE: a notice with broken blocks still goes out, as plain text.
            log.warning("blocks dropped: %s", err, extra={"key": notice.key})
        else:
            payload["blocks"] = blocks
    return payload


def check_blocks(blocks: Sequence[Mapping[str, Any]]) -> None:
    """Check blocks against slack_sdk's Block Kit models and Slack's limits."""
    if len(blocks) > 50:
        raise NotifyError(f"{len(blocks)} blocks, Slack takes 50 at most")
    for raw in blocks:
        try:
            block = Block.parse(dict(raw))
            if block is None:
                raise NotifyError(f"unknown block type {raw.get('type')!r}")
            block.validate_json()
        except SlackObjectFormationError as err:
            raise NotifyError(f"invalid {raw.get('type')} block: {err}") from err


def _neutral_block(block: Mapping[str, Any]) -> dict[str, Any]:
    neutral: dict[str, Any] = json.loads(json.dumps(block), object_hook=_neutral_text)
    return neutral


def _neutral_text(obj: dict[str, Any]) -> dict[str, Any]:
    if isinstance(obj.get("text"), str):
        obj["text"] = neutralise(obj["text"])
    return obj


# --- building one from a repository's configuration ---------------------------


def notifier_for(
    config: Config,
    environ: Mapping[str, str],
    *,
    data_dir: Path | None = None,
    webhook_url: str | None = None,
    sent: Record | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SlackNotifier | LogNotifier:
    """Build the notifier a repository's ``notify`` section asks for.

    Secrets come from the environment variables the config names; none
    configured means a `LogNotifier`.
    """
    notify = config.notify
    token = _secret(environ, notify.slack_token_env)
    webhook_url = _secret(environ, notify.slack_webhook_env) or webhook_url
    if not token and not webhook_url:
        return LogNotifier()
    return SlackNotifier(
        webhook_url,
        token=token,
        routing=Routing.from_config(config),
        webhooks={k: v for k, v in environ.items() if k.startswith(SECRET_PREFIXES)},
        sent=sent or SentNotices(data_dir / STATE_FILE if data_dir else None),
        sleep=sleep,
    )


class AppNotifier:
    """The App's notifier: its own webhook, or each repository's routes.

    ``send`` uses the App's settings (``CHANGEBOT_SLACK_WEBHOOK``, or the log);
    `for_config` follows a repository's ``notify`` and ``deployments``
    sections, with secrets from the App's environment.
    """

    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        data_dir: Path | None = None,
        webhook_url: str | None = None,
        shelf: Shelf | None = None,
    ) -> None:
        self._environ = dict(environ)
        self._data_dir = data_dir
        self._webhook_url = webhook_url
        # NOTE: kept where every host reads it (the queue's ledger) when there
        # is one, else on disk, so a retried job updates its notice, never
        # repeats it.
        self._sent: Record = (
            SharedSentNotices(shelf)
            if shelf is not None
            else SentNotices(data_dir / STATE_FILE if data_dir else None)
        )
        self._default: SlackNotifier | LogNotifier = LogNotifier()
        if webhook_url:
            self._default = SlackNotifier(webhook_url, sent=self._sent)

    def send(self, notice: Notice) -> None:
        """Deliver ``notice`` where the App's own settings say."""
        self._default.send(notice)

    def for_config(self, config: Config) -> SlackNotifier | LogNotifier:
        """Return the notifier a repository's config routes to."""
        return notifier_for(
            config,
            self._environ,
            data_dir=self._data_dir,
            webhook_url=self._webhook_url,
            sent=self._sent,
        )


def _secret(environ: Mapping[str, str], name: str | None) -> str | None:
    """Read a Slack secret from a variable the config names, if it may."""
    if not name:
        return None
    if not name.startswith(SECRET_PREFIXES):
        # NOTE: the config comes from the repository; it must not be able to
        # point changebot at another secret (the App key, the Redis URL).
        raise NotifyError(
            f"notify.slack names the variable {name}, which is not a Slack one",
            hint=f"name a variable that starts with {' or '.join(SECRET_PREFIXES)}",
        )
    return environ.get(name) or None

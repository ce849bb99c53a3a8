"""Read the reader's filter and ids from a request, refusing anything odd."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from changebot.index import Filter
from changebot.server.browser.identity import REPO_NAME

KINDS = frozenset(
    {
        "change",
        "direct-push",
        "override",
        "deployment",
        "rollback",
        "config",
        "access",
        "key",
    }
)
_WORD = re.compile(r"^[\w.:/@+-]{1,100}$")
_MAX_TEXT = 200


class BadRequest(ValueError):
    """A query parameter or path part is not acceptable."""


def filter_from(args: Mapping[str, str]) -> Filter:
    """Return the filter a query string asks for; raise BadRequest when invalid."""
    repo = args.get("repo", "").strip()
    kind = args.get("kind", "").strip()
    if repo and not REPO_NAME.match(repo):
        raise BadRequest("repo")
    if kind and kind not in KINDS:
        raise BadRequest("kind")
    return Filter(
        repo=repo,
        kind=kind,
        area=_word(args, "area"),
        actor=_word(args, "actor"),
        environment=_word(args, "environment"),
        since=_word(args, "since"),
        until=_word(args, "until"),
        text=args.get("q", "").strip()[:_MAX_TEXT],
    )


def log_name(owner: str, name: str) -> str:
    """Return the log named by a URL's owner and name; raise BadRequest if odd."""
    log = f"{owner}/{name}"
    if not REPO_NAME.match(log) or ".." in log:
        raise BadRequest("log")
    return log


def limit_from(args: Mapping[str, str], default: int = 50) -> int:
    """Return the page size asked for, between 1 and 200."""
    value = args.get("limit", "")
    if not value:
        return default
    if not value.isdigit():
        raise BadRequest("limit")
    return max(1, min(int(value), 200))


def cursor_from(args: Mapping[str, str]) -> str:
    """Return the keyset cursor asked for (the index ignores malformed ones)."""
    value = args.get("after", "")
    if len(value) > 64:
        raise BadRequest("after")
    return value


def as_query(wanted: Filter) -> dict[str, str]:
    """Return the query string parameters that ask for ``wanted`` again."""
    fields = {
        "repo": wanted.repo,
        "kind": wanted.kind,
        "area": wanted.area,
        "actor": wanted.actor,
        "environment": wanted.environment,
        "since": wanted.since,
        "until": wanted.until,
        "q": wanted.text,
    }
    return {name: value for name, value in fields.items() if value}


def window(since: str, until: str) -> tuple[str, str]:
    """Return the window asked for, or the last seven days."""
    filter_from({"since": since, "until": until})
    if not until:
        until = datetime.now(UTC).strftime("%Y-%m-%d")
    if not since:
        end = datetime.now(UTC) - timedelta(days=7)
        since = end.strftime("%Y-%m-%d")
    return since, until


def _word(args: Mapping[str, str], name: str) -> str:
    value = args.get(name, "").strip()
    if value and not _WORD.match(value):
        raise BadRequest(name)
    return value

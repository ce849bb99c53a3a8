"""Audit entries: the fields every kind carries, and how an entry is built."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from changebot.errors import AuditError

FORMAT = 1

#: The fields of each kind (docs/audit-format.md, "Entry"); absent ones are null.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "change": (
        "pr", "shas", "merge_method", "areas", "paths", "author", "approvers",
        "merger", "rationale", "tickets", "verdict", "bypassed", "override",
    ),
    "direct-push": (
        "ref", "before", "after", "forced", "pusher", "commits", "areas", "paths",
    ),
    "override": ("pr", "actor", "reason", "granted", "refusal"),
    "deployment": (
        "environment", "sha", "previous_sha", "classification", "pulls",
        "unrecorded", "deployer", "reason", "deployment_id",
    ),
    "config": ("pr", "sha", "path"),
    "access": ("event", "action", "actor", "details"),
    "key": ("keyid", "public_key", "previous_keyid"),
}  # fmt: skip
KIND_FIELDS["rollback"] = KIND_FIELDS["deployment"]
KINDS = frozenset(KIND_FIELDS)

#: Fields the log sets itself; a caller may not pass them.
RESERVED = frozenset({"format", "index", "prev", "kind", "repo", "idempotency_key"})


def utc_now() -> datetime:
    """Return the current time in UTC (the default clock of the log)."""
    return datetime.now(UTC)


def rfc3339(moment: datetime) -> str:
    """Format a time as RFC 3339 UTC with second precision and a `Z`."""
    if moment.tzinfo is None:
        raise AuditError("an entry time must carry a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_entry(
    *,
    index: int,
    prev: str | None,
    kind: str,
    repo: str,
    idempotency_key: str,
    fields: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """Return the entry object for ``fields``, with every field of its kind."""
    _check_request(kind, repo, idempotency_key, fields)
    entry: dict[str, Any] = dict.fromkeys(KIND_FIELDS[kind])
    entry.update(fields)
    entry.update(
        format=FORMAT,
        index=index,
        prev=prev,
        kind=kind,
        repo=repo,
        idempotency_key=idempotency_key,
        time=_time_field(fields.get("time"), now),
    )
    return entry


def _check_request(
    kind: str, repo: str, idempotency_key: str, fields: Mapping[str, Any]
) -> None:
    if kind not in KINDS:
        known = ", ".join(sorted(KINDS))
        raise AuditError(f"unknown entry kind {kind!r}", hint=f"use one of: {known}")
    if not repo or not idempotency_key:
        raise AuditError("an entry needs a repository and an idempotency key")
    clash = RESERVED.intersection(fields)
    if clash:
        raise AuditError(
            f"fields {sorted(clash)} are set by the log itself",
            hint="remove them from the entry data",
        )


def _time_field(value: Any, now: datetime) -> str:
    if value is None:
        return rfc3339(now)
    if isinstance(value, datetime):
        return rfc3339(value)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as err:
        raise AuditError(f"entry time {value!r} is not RFC 3339") from err
    return rfc3339(parsed)

"""Turn an audit envelope into the row and search terms the index stores.

Pure: bytes in, plain values out. The fields follow docs/audit-format.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from changebot.errors import AuditError

#: Kinds whose entry skipped the review a PR would have had.
_BYPASS_KINDS = frozenset({"direct-push"})


@dataclass(frozen=True)
class Row:
    """One entry as the index stores it: filterable columns plus the envelope."""

    index: int
    time: str
    kind: str
    repo: str
    environment: str | None
    pr: int | None
    actor: str | None
    rationale: str
    bypassed: bool
    overridden: bool
    leaf: str
    keyids: tuple[str, ...]
    envelope: str
    terms: tuple[tuple[str, str], ...]


def leaf_hash(payload: bytes) -> str:
    """Return the RFC 6962 leaf hash of an entry's canonical bytes, as hex."""
    return hashlib.sha256(b"\x00" + payload).hexdigest()


def decode(envelope: bytes) -> tuple[dict[str, Any], bytes, dict[str, Any]]:
    """Return (envelope, payload bytes, entry) of a DSSE envelope file."""
    try:
        outer = json.loads(envelope)
        payload = base64.b64decode(outer["payload"], validate=True)
        entry = json.loads(payload)
    except (ValueError, KeyError, TypeError, binascii.Error) as err:
        raise AuditError(
            f"an audit entry is not a readable DSSE envelope: {err}",
            hint="run `changebot audit verify` on the branch",
        ) from err
    if not isinstance(entry, dict) or not isinstance(outer, dict):
        raise AuditError("an audit entry does not hold a JSON object")
    return outer, payload, entry


def row_of(envelope: bytes, position: int | None = None) -> Row:
    """Return the index row of one envelope file's bytes.

    ``position`` is where the file lies on the branch; it wins over the index
    the entry claims, so that a moved entry shows where it now is (the
    verifier reports the mismatch).
    """
    outer, payload, entry = decode(envelope)
    signatures = outer.get("signatures") or []
    return Row(
        index=int(entry["index"]) if position is None else position,
        time=str(entry.get("time") or ""),
        kind=str(entry.get("kind") or ""),
        repo=str(entry.get("repo") or ""),
        environment=_text(entry.get("environment")),
        pr=pull_number(entry),
        actor=actor_of(entry),
        rationale=rationale_of(entry),
        bypassed=bool(entry.get("bypassed")) or entry.get("kind") in _BYPASS_KINDS,
        overridden=entry.get("override") is not None
        or (entry.get("kind") == "override" and bool(entry.get("granted"))),
        leaf=leaf_hash(payload),
        keyids=tuple(str(s.get("keyid", "")) for s in signatures),
        envelope=envelope.decode("utf-8"),
        terms=tuple(sorted(set(terms_of(entry)))),
    )


def pull_number(entry: dict[str, Any]) -> int | None:
    """Return the PR an entry is about, if it names one."""
    pr = entry.get("pr")
    number = pr.get("number") if isinstance(pr, dict) else None
    return number if isinstance(number, int) else None


def actor_of(entry: dict[str, Any]) -> str | None:
    """Return the person who made the change an entry records."""
    for field in ("author", "pusher", "actor", "deployer", "merger"):
        if entry.get(field):
            return str(entry[field])
    return None


def rationale_of(entry: dict[str, Any]) -> str:
    """Return the text that says why: a PR's rationale, an override's reason."""
    for field in ("rationale", "reason", "refusal"):
        if entry.get(field):
            return str(entry[field])
    return ""


def terms_of(entry: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (facet, value) pairs the index filters and relates entries by."""
    terms = [("area", str(a)) for a in entry.get("areas") or []]
    terms += [("actor", login.lower()) for login in _people(entry)]
    number = pull_number(entry)
    if number is not None:
        terms.append(("pr", str(number)))
    terms += [("pr", str(n)) for n in entry.get("pulls") or [] if isinstance(n, int)]
    return terms


def _people(entry: dict[str, Any]) -> list[str]:
    people = [
        str(entry[field])
        for field in ("author", "merger", "pusher", "actor", "deployer")
        if entry.get(field)
    ]
    for approver in entry.get("approvers") or []:
        if isinstance(approver, dict) and approver.get("login"):
            people.append(str(approver["login"]))
    return people


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None

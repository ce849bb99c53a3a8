"""Bring the index up to date with a branch, verify the branch, record the result.

Call `refresh` after each append or fetch. When the branch has not moved
since its last verification it costs one ref read. When it has, the index
reads only what the branch gained and checks only that (`index.check`),
provided the log passed before; the whole branch is verified when the log
is new to the index, failed before, or when a full verification is due.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from changebot import metrics
from changebot.audit.signing import PublicKey
from changebot.audit.verify import VerifyReport, verify
from changebot.index.build import Finding, Indexer, Verification
from changebot.index.check import tail_findings
from changebot.ports import AuditStore

log = logging.getLogger(__name__)

_STAMP = "%Y-%m-%dT%H:%M:%SZ"


def refresh(
    indexer: Indexer,
    name: str,
    store: AuditStore,
    trusted_keys: Iterable[PublicKey],
    *,
    rebuild: bool = False,
    full_every: timedelta | None = None,
) -> Verification:
    """Index ``store`` as log ``name``, verify it, and store the verification.

    ``full_every`` is how old the last full verification may grow before the
    whole branch is read again; with None, every move of the branch is
    verified in full (the CLI's choice), else only what the branch gained.
    """
    trusted = list(trusted_keys)

    # 1. one ref read: a head indexed and verified already needs nothing more
    head = store.head()
    last = indexer.verified(name)
    indexed_head, indexed_size = indexer.known(name)
    due = rebuild or _due(last, full_every)
    unmoved = head is not None and head == indexed_head
    if last is not None and last.head == head and unmoved and not due:
        return last

    # 2. index what the branch gained (or all of it)
    if rebuild:
        indexer.rebuild(name, store)
    else:
        indexer.update(name, store, head)

    # 3. check only the new entries when the log passed at the indexed head;
    #    the index starts over (and forgets the verification) after a rewrite
    passed = indexer.verified(name)
    result = None
    incremental = full_every is not None and not due
    if incremental and _passed_at(passed, indexed_head, indexed_size):
        result = _tail(indexer, name, store, trusted, indexed_size, passed)

    # 4. otherwise, or when the new entries fail, verify the whole branch
    if result is None:
        result = _full(indexer, name, store, trusted, rebuild)

    # 5. record the outcome for every page to show, and count a failure
    indexer.record(name, result)
    if not result.ok:
        metrics.verification_failed()
    log.info(
        "audit log refreshed",
        extra={"log": name, "ok": result.ok, "findings": len(result.findings)},
    )
    return result


def verification_of(report: VerifyReport) -> Verification:
    """Return the browser's record of a verifier's report."""
    findings = [
        Finding(f.message if f.index is not None else f.line(), f.index)
        for f in report.findings
    ]
    if report.error is not None:
        findings.insert(0, Finding(report.error))
    now = _now()
    return Verification(
        checked_at=now,
        ok=report.ok,
        size=report.size,
        findings=tuple(findings),
        head=report.head,
        full_at=now,
    )


def _tail(
    indexer: Indexer,
    name: str,
    store: AuditStore,
    trusted: list[PublicKey],
    start: int,
    passed: Verification | None,
) -> Verification | None:
    """Return the verification of what the log gained, or None if it fails."""
    findings = tail_findings(indexer.path, name, trusted, start, store)
    if findings:
        log.warning(
            "new audit entries fail; verifying the whole branch",
            extra={"log": name, "findings": len(findings)},
        )
        return None
    head, size = indexer.known(name)
    return Verification(
        checked_at=_now(),
        ok=True,
        size=size,
        head=head,
        full_at=passed.full_at if passed else None,
    )


def _full(
    indexer: Indexer,
    name: str,
    store: AuditStore,
    trusted: list[PublicKey],
    rebuilt: bool,
) -> Verification:
    result = verification_of(verify(store, trusted))

    # NOTE: a log that fails may have been rewritten below the last indexed
    # entry: index it again so that the browser shows the branch as it is.
    if not result.ok and not rebuilt:
        indexer.rebuild(name, store)
    return result


def _passed_at(passed: Verification | None, head: str | None, size: int) -> bool:
    """Tell whether the last verification passed the log as the index held it."""
    return (
        passed is not None
        and passed.ok
        and head is not None
        and passed.head == head
        and passed.size == size
    )


def _due(last: Verification | None, every: timedelta | None) -> bool:
    """Tell whether the last full verification is missing or too old."""
    if last is None or last.full_at is None:
        return True
    if every is None:
        return False
    done = datetime.strptime(last.full_at, _STAMP).replace(tzinfo=UTC)
    return datetime.now(UTC) - done >= every


def _now() -> str:
    return datetime.now(UTC).strftime(_STAMP)

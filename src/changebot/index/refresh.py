"""Bring the index up to date with a branch, verify the branch, record the result.

Call `refresh` after each append or fetch: it reads only what the branch
gained, then verifies the whole log so that every page of the browser can
say when the log was last checked and what was found.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from changebot.audit.signing import PublicKey
from changebot.audit.verify import VerifyReport, verify
from changebot.index.build import Finding, Indexer, Verification
from changebot.ports import AuditStore

log = logging.getLogger(__name__)


def refresh(
    indexer: Indexer,
    name: str,
    store: AuditStore,
    trusted_keys: Iterable[PublicKey],
    *,
    rebuild: bool = False,
) -> Verification:
    """Index ``store`` as log ``name``, verify it, and store the verification."""
    # 1. index what the branch gained (or all of it)
    if rebuild:
        indexer.rebuild(name, store)
    else:
        indexer.update(name, store)

    # 2. verify the whole branch against the keys trusted out of band
    report = verify(store, list(trusted_keys))
    result = verification_of(report)

    # 3. a log that fails may have been rewritten below the last indexed
    #    entry: index it again so that the browser shows the branch as it is
    if not result.ok and not rebuild:
        indexer.rebuild(name, store)

    # 4. record the outcome for every page to show
    indexer.record(name, result)
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
    return Verification(
        checked_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        ok=report.ok,
        size=report.size,
        findings=tuple(findings),
    )

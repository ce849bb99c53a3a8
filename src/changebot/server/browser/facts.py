"""What an entry page shows beyond the entry: proof, findings, GitHub links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from changebot.index import Finding, LogState, Proof, Record, Search
from changebot.index.search import proof_holds
from changebot.server.browser.identity import REPO_NAME

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


@dataclass(frozen=True)
class Link:
    """A link to GitHub: what it points at, and where."""

    kind: str
    label: str
    url: str


@dataclass(frozen=True)
class EntryFacts:
    """Everything the entry page and the entry API show about one entry."""

    record: Record
    state: LogState | None
    proof: Proof | None
    proof_ok: bool
    findings: tuple[Finding, ...]
    links: tuple[Link, ...]
    related: tuple[Record, ...]


def entry_facts(
    search: Search, visible: frozenset[str], record: Record, web: str
) -> EntryFacts:
    """Gather the proof, findings, links and related entries of ``record``."""
    state = next((s for s in search.logs(visible) if s.name == record.log), None)
    proof = search.proof(record, state.checkpoint if state else None)
    findings: tuple[Finding, ...] = ()
    if state and state.verification:
        findings = tuple(
            f for f in state.verification.findings if f.index == record.index
        )
    return EntryFacts(
        record=record,
        state=state,
        proof=proof,
        proof_ok=proof is not None and proof_holds(proof),
        findings=findings,
        links=tuple(github_links(web, record)),
        related=tuple(search.related(visible, record)),
    )


def github_links(web: str, record: Record) -> list[Link]:
    """Return links to the PR, commits and deployment an entry names."""
    if not REPO_NAME.match(record.repo):
        return []
    base = f"{web}/{quote(record.repo)}"
    links = []
    if record.pr is not None:
        links.append(Link("pull", f"#{record.pr}", f"{base}/pull/{record.pr}"))
    for role, sha in _shas(record.entry):
        links.append(Link(role, sha[:12], f"{base}/commit/{sha}"))
    environment = record.entry.get("environment")
    if record.kind in ("deployment", "rollback") and isinstance(environment, str):
        links.append(
            Link("deployment", environment, f"{base}/deployments/{quote(environment)}")
        )
    return links


def _shas(entry: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    shas = entry.get("shas")
    if isinstance(shas, dict):
        found += [
            (f"{role}-sha", str(v)) for role, v in shas.items() if role != "tree" and v
        ]
    for role in ("sha", "previous_sha", "before", "after"):
        if entry.get(role):
            found.append((role.replace("_", "-"), str(entry[role])))
    found += [("commit", str(c)) for c in entry.get("commits") or []]
    return [(role, sha) for role, sha in found if _SHA.match(sha)]

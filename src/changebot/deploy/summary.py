"""What a deployment brings or takes away, as plain values the templates read."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from changebot.deploy.attribution import Attribution
from changebot.deploy.classify import Classification, Movement
from changebot.deploy.ledger import Entry, Ledger
from changebot.render import link

EXCERPT_CHARS = 280
RISK_CHARS = 200
_SECTIONS = ("why", "risk", "rollback plan", "rollback", "impact")
_HEADING = re.compile(
    r"^\s*(?:#{1,6}\s+(?P<hash>[^#]+?)[\s#]*"
    r"|\*\*(?P<bold>[^*]+?):?\*\*:?\s*(?P<rest>.*)"
    r"|(?P<colon>[A-Za-z][\w /-]{0,30}):(?:\s+(?P<rest2>.*))?)$"
)


# NOTE: not frozen: a frozen dataclass costs four times as much to make, and
# a summary makes one line for each of thousands of PRs and pushes.
@dataclass(slots=True)
class PullLine:
    """One merged PR as a deployment summary shows it."""

    number: int
    title: str
    url: str | None
    author: str | None
    approvers: tuple[str, ...]
    areas: tuple[str, ...]
    risk: str
    excerpt: str
    merge_sha: str
    overridden: bool = False
    bypassed: bool = False
    override_by: str | None = None
    override_reason: str | None = None

    @property
    def flagged(self) -> bool:
        """Tell whether the PR went in around the policy."""
        return self.overridden or self.bypassed


@dataclass(slots=True)
class PushLine:
    """One recorded direct push (commits that came without a PR)."""

    index: int
    ref: str | None
    pusher: str | None
    commits: tuple[str, ...]
    areas: tuple[str, ...]
    forced: bool


@dataclass(frozen=True)
class Side:
    """The PRs, pushes and unrecorded commits on one side of a deployment."""

    pulls: tuple[PullLine, ...] = ()
    pushes: tuple[PushLine, ...] = ()
    unrecorded: tuple[str, ...] = ()

    @cached_property
    def flagged(self) -> tuple[PullLine, ...]:
        """Return the PRs that were overridden or bypassed the policy."""
        # NOTE: kept once found: each output asks, some twice, and a side may
        # hold thousands of PRs.
        return tuple(p for p in self.pulls if p.flagged)

    @property
    def empty(self) -> bool:
        """Tell whether nothing is on this side."""
        return not (self.pulls or self.pushes or self.unrecorded)


@dataclass(frozen=True)
class Summary:
    """Everything the outputs of one deployment say."""

    repo: str
    environment: str
    classification: Classification
    sha: str
    previous_sha: str | None
    deployer: str | None
    reason: str | None = None
    compare_url: str | None = None
    log_url: str | None = None
    state: str = "success"
    added: Side = field(default_factory=Side)
    removed: Side = field(default_factory=Side)

    @property
    def pulls(self) -> tuple[PullLine, ...]:
        """Return the PRs this deployment is about (added, or removed)."""
        return self.removed.pulls if self.is_rollback else self.added.pulls

    @property
    def is_rollback(self) -> bool:
        """Tell whether the deployment takes changes away."""
        return self.classification == "rollback"

    @property
    def unrecorded(self) -> tuple[str, ...]:
        """Return every commit on either side that has no audit entry."""
        return self.added.unrecorded + self.removed.unrecorded

    @property
    def flagged(self) -> tuple[PullLine, ...]:
        """Return the overridden or bypassed PRs on either side."""
        return self.added.flagged + self.removed.flagged


def build_summary(
    movement: Movement,
    added: Attribution,
    removed: Attribution,
    ledger: Ledger,
    **details: Any,
) -> Summary:
    """Build the summary of a classified deployment from its attributions.

    ``details`` are the remaining `Summary` fields: repo, environment,
    deployer, reason, compare_url, log_url, state.
    """
    return Summary(
        classification=movement.classification,
        sha=movement.sha,
        previous_sha=movement.previous_sha,
        added=side_of(added, ledger),
        removed=side_of(removed, ledger),
        **details,
    )


def side_of(attribution: Attribution, ledger: Ledger) -> Side:
    """Turn attributed entries into summary lines."""
    return Side(
        pulls=tuple(pull_line(c, ledger) for c in attribution.changes),
        pushes=tuple(push_line(p) for p in attribution.pushes),
        unrecorded=attribution.unrecorded,
    )


def pull_line(change: Entry, ledger: Ledger) -> PullLine:
    """Describe one change entry for a person on call."""
    pr = change.get("pr") or {}
    override = ledger.override_of(change)
    parts = sections(str(change.get("rationale") or ""))
    return PullLine(
        number=int(pr.get("number") or 0),
        title=str(pr.get("title") or ""),
        url=link(pr.get("url")),
        author=_text(change.get("author")),
        approvers=tuple(a["login"] for a in change.get("approvers") or ()),
        areas=tuple(change.get("areas") or ()),
        risk=_risk(parts, change.get("verdict")),
        excerpt=_excerpt(parts),
        merge_sha=str((change.get("shas") or {}).get("merge") or ""),
        overridden=override is not None,
        bypassed=bool(change.get("bypassed")),
        override_by=_text(override.get("actor")) if override else None,
        override_reason=_text(override.get("reason")) if override else None,
    )


def push_line(push: Entry) -> PushLine:
    """Describe one direct-push entry."""
    return PushLine(
        index=int(push["index"]),
        ref=_text(push.get("ref")),
        pusher=_text(push.get("pusher")),
        commits=tuple(push.get("commits") or ()),
        areas=tuple(push.get("areas") or ()),
        forced=bool(push.get("forced")),
    )


def _text(value: object) -> str | None:
    """Return a field of an entry as text for the outputs, None if it is absent."""
    # NOTE: an entry's JSON may hold a number, a list or true where a login
    # belongs; each output shows what it held, as `str` writes it.
    return None if value is None else str(value)


def sections(text: str) -> dict[str, str]:
    """Split a rationale into its sections, by lower-case heading.

    A heading is a Markdown heading, a bold line, or ``Why:`` / ``Risk:`` at
    the start of a line (its text after the colon starts the section). Text
    before the first heading is under ``""``.
    """
    found: dict[str, list[str]] = {"": []}
    current = ""
    for line in text.splitlines():
        # NOTE: every kind of heading holds "#", "*" or ":"; most lines hold
        # none, and need no regular expression.
        marked = "#" in line or "*" in line or ":" in line
        match = _HEADING.match(line) if marked else None
        name = _heading(match)
        if match is None or name is None:
            found[current].append(line)
            continue
        current = name
        found.setdefault(current, []).append(match["rest"] or match["rest2"] or "")
    return {name: "\n".join(lines).strip() for name, lines in found.items()}


def _heading(match: re.Match[str] | None) -> str | None:
    if match is None:
        return None
    name = str(match["hash"] or match["bold"] or match["colon"]).strip().lower()
    if match["colon"] and name not in _SECTIONS:
        return None
    return name


def risk_of(rationale: str, verdict: Mapping[str, Any] | None) -> str:
    """Return the rationale's Risk section, or what the verdict says instead."""
    return _risk(sections(rationale), verdict)


def _risk(parts: Mapping[str, str], verdict: Mapping[str, Any] | None) -> str:
    risk = parts.get("risk", "")
    if risk:
        return shorten(risk, RISK_CHARS)
    verdict = verdict or {}
    failed = list(verdict.get("failed") or ())
    if verdict.get("conclusion") not in (None, "success") or failed:
        rules = ", ".join(failed) or str(verdict.get("conclusion"))
        return f"not stated; policy failed: {rules}"
    return "not stated"


def excerpt_of(rationale: str) -> str:
    """Return the rationale's Why section (or its opening), shortened."""
    return _excerpt(sections(rationale))


def _excerpt(parts: Mapping[str, str]) -> str:
    text = (
        parts.get("why")
        or parts.get("")
        or next((body for body in parts.values() if body), "")
    )
    return shorten(text, EXCERPT_CHARS)


def shorten(text: str, limit: int) -> str:
    """Collapse whitespace and cut at a word boundary to ``limit`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0] or flat[: limit - 1]
    return cut + "…"

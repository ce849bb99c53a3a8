"""The verdict: what the policy concluded about a pull request, and why.

Every rule ends in one of four states; every state carries reasons written
for the engineer whose PR it is. `Verdict.to_json` is the machine-readable
form (`changebot check --json`, the audit entry, the Action's outputs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

RuleState = Literal["skipped", "pending", "satisfied", "failed"]
Conclusion = Literal["success", "failure", "neutral", "pending"]

_RANK: dict[RuleState, int] = {"skipped": 0, "satisfied": 1, "pending": 2, "failed": 3}


def worst(states: list[RuleState]) -> RuleState:
    """Return the most serious of ``states`` (skipped when there are none)."""
    return max(states, key=_RANK.__getitem__, default="skipped")


@dataclass(frozen=True)
class Approval:
    """An approval that counted, with the commit it was given on."""

    login: str
    commit: str | None


@dataclass(frozen=True)
class RuleResult:
    """One rule's state, and the reasons for it in plain words."""

    #: ``reviewers``, ``codeowners``, ``rationale``, ``config`` or ``files``.
    rule: str
    state: RuleState
    reasons: tuple[str, ...] = ()
    #: The area the rule belongs to; None for rules about the whole PR.
    area: str | None = None
    required: int = 0
    approvals: tuple[Approval, ...] = ()
    #: People who requested changes and so block the rule.
    blocked_by: tuple[str, ...] = ()
    #: Who could still approve; ``anyone`` means anyone with write access.
    can_approve_users: tuple[str, ...] = ()
    can_approve_teams: tuple[str, ...] = ()
    anyone: bool = False

    @property
    def name(self) -> str:
        """Return the rule's name as the audit log records it."""
        return f"{self.area}.{self.rule}" if self.area else self.rule


@dataclass(frozen=True)
class AreaFile:
    """A changed file inside an area; a rename names where it came from."""

    path: str
    previous_path: str | None = None


@dataclass(frozen=True)
class AreaResult:
    """An area the PR touches, its files, and the rules that apply to it."""

    name: str
    description: str
    files: tuple[AreaFile, ...]
    rules: tuple[RuleResult, ...]
    #: Whether a change here needs the written rationale.
    needs_rationale: bool = True

    @property
    def state(self) -> RuleState:
        """Return the state of the area's most serious rule."""
        return worst([r.state for r in self.rules])


@dataclass(frozen=True)
class RationaleFinding:
    """Something missing from the rationale: a section, a ticket, words."""

    #: ``missing``, ``empty``, ``placeholder``, ``ticket`` or ``words``.
    kind: str
    message: str
    section: str | None = None


@dataclass(frozen=True)
class RationaleReport:
    """How the PR's written rationale measures up."""

    required: bool
    findings: tuple[RationaleFinding, ...] = ()
    sections: dict[str, str] = field(default_factory=dict)
    tickets: tuple[str, ...] = ()
    words: int = 0
    #: The rationale as written: the body without HTML comments, and any
    #: rationale given by command.
    text: str = ""

    @property
    def ok(self) -> bool:
        """Tell whether the rationale has nothing missing."""
        return not self.findings


@dataclass(frozen=True)
class ConfigFinding:
    """A problem of the `.changebot.yml` a PR proposes, with where it is."""

    message: str
    path: str = ""
    line: int | None = None


@dataclass(frozen=True)
class Verdict:
    """The policy's judgement of one pull request at one head commit."""

    conclusion: Conclusion
    repo: str
    number: int
    head_sha: str
    areas: tuple[AreaResult, ...]
    #: Rules about the whole PR: codeowners, rationale, config.
    rules: tuple[RuleResult, ...]
    rationale: RationaleReport
    paths: tuple[str, ...] = ()
    config_source: str = ".changebot.yml"
    config_problems: tuple[ConfigFinding, ...] = ()
    #: Notes that change no state, e.g. CODEOWNERS lines that were ignored.
    notes: tuple[str, ...] = ()
    overridden_by: str | None = None
    override_reason: str | None = None
    files_truncated: bool = False
    draft: bool = False

    @property
    def all_rules(self) -> tuple[RuleResult, ...]:
        """Return every rule: each area's, then the PR-wide ones."""
        return tuple(r for a in self.areas for r in a.rules) + self.rules

    @property
    def failed(self) -> tuple[str, ...]:
        """Return the names of the failed rules."""
        return tuple(r.name for r in self.all_rules if r.state == "failed")

    @property
    def pending(self) -> tuple[str, ...]:
        """Return the names of the rules still waiting for someone."""
        return tuple(r.name for r in self.all_rules if r.state == "pending")

    @property
    def tickets(self) -> tuple[str, ...]:
        """Return the ticket references found in the title, body and rationale."""
        return self.rationale.tickets

    @property
    def approvers(self) -> tuple[Approval, ...]:
        """Return each approval that counted towards a rule, once per login."""
        seen: dict[str, Approval] = {}
        for rule in self.all_rules:
            for approval in rule.approvals:
                seen.setdefault(approval.login, approval)
        return tuple(seen.values())

    @property
    def can_approve_users(self) -> tuple[str, ...]:
        """Return the people whose approval would move a pending rule."""
        return _union(r.can_approve_users for r in self._waiting())

    @property
    def can_approve_teams(self) -> tuple[str, ...]:
        """Return the teams whose members' approval would move a pending rule."""
        return _union(r.can_approve_teams for r in self._waiting())

    def _waiting(self) -> list[RuleResult]:
        return [r for r in self.all_rules if r.state in ("pending", "failed")]

    def to_json(self) -> dict[str, Any]:
        """Return the verdict as plain JSON values."""
        return {
            "conclusion": self.conclusion,
            "repo": self.repo,
            "number": self.number,
            "head_sha": self.head_sha,
            "failed": list(self.failed),
            "pending": list(self.pending),
            "areas": [_area_json(a) for a in self.areas],
            "rules": [_rule_json(r) for r in self.rules],
            "rationale": _rationale_json(self.rationale),
            "tickets": list(self.tickets),
            "approvers": [_approval_json(a) for a in self.approvers],
            "can_approve": {
                "users": list(self.can_approve_users),
                "teams": list(self.can_approve_teams),
            },
            "paths": list(self.paths),
            "config": {
                "source": self.config_source,
                "problems": [vars(p) for p in self.config_problems],
            },
            "notes": list(self.notes),
            "override": (
                {"by": self.overridden_by, "reason": self.override_reason}
                if self.overridden_by
                else None
            ),
            "files_truncated": self.files_truncated,
            "draft": self.draft,
        }


def _union(groups: Any) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        seen.update(dict.fromkeys(group))
    return tuple(seen)


def _approval_json(approval: Approval) -> dict[str, Any]:
    return {"login": approval.login, "commit": approval.commit}


def _rule_json(rule: RuleResult) -> dict[str, Any]:
    return {
        "name": rule.name,
        "rule": rule.rule,
        "area": rule.area,
        "state": rule.state,
        "reasons": list(rule.reasons),
        "required": rule.required,
        "approvals": [_approval_json(a) for a in rule.approvals],
        "blocked_by": list(rule.blocked_by),
        "can_approve": {
            "users": list(rule.can_approve_users),
            "teams": list(rule.can_approve_teams),
            "anyone": rule.anyone,
        },
    }


def _area_json(area: AreaResult) -> dict[str, Any]:
    return {
        "name": area.name,
        "description": area.description,
        "state": area.state,
        "needs_rationale": area.needs_rationale,
        "files": [
            {"path": f.path, "previous_path": f.previous_path} for f in area.files
        ],
        "rules": [_rule_json(r) for r in area.rules],
    }


def _rationale_json(report: RationaleReport) -> dict[str, Any]:
    return {
        "required": report.required,
        "ok": report.ok,
        "findings": [vars(f) for f in report.findings],
        "sections": dict(report.sections),
        "tickets": list(report.tickets),
        "words": report.words,
        "text": report.text,
    }

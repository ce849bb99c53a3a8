"""Which reviews count: the latest per person, fresh, and from someone allowed.

GitHub keeps every review ever submitted; what matters is each person's
latest approving, change-requesting or dismissed review (a comment changes
nothing). An approval then counts for a rule only if it was given on the
tree under review now (when approvals are invalidated on push), by someone
the rule names, who is neither the author nor (when configured) a committer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from changebot.policy.facts import PullFacts, Review
from changebot.policy.verdict import Approval, RuleResult

#: Review states that change where a person stands; COMMENTED does not.
STANDING_STATES = ("APPROVED", "CHANGES_REQUESTED", "DISMISSED")
#: Committer identities that are GitHub itself, not a person.
PLATFORM_COMMITTERS = frozenset({"web-flow", "github", "noreply"})

_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Standing:
    """Where each reviewer stands on the PR, resolved once per evaluation."""

    facts: PullFacts
    #: login (lower-case) -> that person's latest standing review.
    latest: dict[str, Review]
    author: str | None
    committers: frozenset[str]
    owner: str

    def is_fresh(self, review: Review) -> bool:
        """Tell whether ``review`` was given on the tree under review now."""
        facts = self.facts
        tree = review.tree or self._tree_of(review.commit_id)
        if tree and facts.head_tree:
            return tree == facts.head_tree
        return review.commit_id == facts.head_sha

    def _tree_of(self, sha: str | None) -> str | None:
        return next((c.tree for c in self.facts.commits if c.sha == sha), None)

    def in_team(self, login: str, team: str) -> bool:
        """Tell whether ``login`` belongs to ``team`` (``org/slug`` or a slug)."""
        slug = team.lower() if "/" in team else f"{self.owner}/{team.lower()}"
        return slug in self.facts.memberships.get(login, frozenset())

    def team_slug(self, team: str) -> str:
        """Return ``team`` as ``org/slug``, resolving a bare slug to the owner."""
        return team.lower() if "/" in team else f"{self.owner}/{team.lower()}"


def standing(facts: PullFacts) -> Standing:
    """Resolve the latest standing review of each reviewer."""
    latest: dict[str, Review] = {}
    for review in _in_order(facts.reviews):
        if review.state in STANDING_STATES:
            latest[review.user.lower()] = review
    committers = {
        name.lower()
        for commit in facts.commits
        for name in (commit.author, commit.committer)
        if name
    }
    memberships = {k.lower(): v for k, v in facts.memberships.items()}
    return Standing(
        facts=replace(facts, memberships=memberships),
        latest=latest,
        author=facts.author.lower() if facts.author else None,
        committers=frozenset(committers - PLATFORM_COMMITTERS),
        owner=facts.repo.split("/", 1)[0].lower(),
    )


def _in_order(reviews: tuple[Review, ...]) -> list[Review]:
    # NOTE: GitHub lists reviews oldest first; the times settle the order
    # when a caller merged lists, and the list order breaks ties.
    indexed = sorted(enumerate(reviews), key=lambda pair: (_when(pair[1]), pair[0]))
    return [review for _, review in indexed]


def _when(review: Review) -> datetime:
    at = review.submitted_at
    if at is None:
        return _EPOCH
    return at if at.tzinfo else at.replace(tzinfo=UTC)


# --- judging one requirement -----------------------------------------------


@dataclass(frozen=True)
class Requirement:
    """A number of approvals from named people or teams (or from anyone)."""

    count: int
    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    exclude_author: bool = True
    exclude_committers: bool = False
    invalidate_on_push: bool = True

    @property
    def names_anyone(self) -> bool:
        """Tell whether any reviewer may approve (no users or teams named)."""
        return not self.users and not self.teams


@dataclass
class _Tally:
    counted: list[Approval]
    blocked: list[str]
    notes: list[str]


def judge(
    standing: Standing, need: Requirement, *, rule: str, area: str | None
) -> RuleResult:
    """Judge one requirement against where each reviewer stands."""
    tally = _tally(standing, need)
    users, teams = _can_still_approve(standing, need, tally)
    base = RuleResult(
        rule=rule,
        state="pending",
        area=area,
        required=need.count,
        approvals=tuple(tally.counted),
        blocked_by=tuple(tally.blocked),
        can_approve_users=users,
        can_approve_teams=teams,
        anyone=need.names_anyone,
    )
    if tally.blocked:
        reasons = [_blocked_reason(login) for login in tally.blocked]
        return replace(base, state="failed", reasons=(*reasons, *tally.notes))
    if len(tally.counted) >= need.count:
        return replace(base, state="satisfied", reasons=_approved(tally))
    missing = need.count - len(tally.counted)
    reason = f"needs {missing} more approval{'s' if missing > 1 else ''}"
    return replace(base, reasons=(reason, *tally.notes))


def _tally(standing: Standing, need: Requirement) -> _Tally:
    tally = _Tally([], [], [])
    for login, review in standing.latest.items():
        if not _named(standing, need, login):
            if review.state == "APPROVED":
                tally.notes.append(f"{login} approved but is not a required reviewer")
            continue
        if review.state == "CHANGES_REQUESTED" and login != standing.author:
            tally.blocked.append(login)
        elif review.state == "APPROVED":
            _count_approval(standing, need, login, review, tally)
    return tally


def _count_approval(
    standing: Standing, need: Requirement, login: str, review: Review, tally: _Tally
) -> None:
    excluded = _excluded(standing, need, login)
    if excluded:
        tally.notes.append(excluded)
    elif need.invalidate_on_push and not standing.is_fresh(review):
        short = (review.commit_id or "an earlier commit")[:7]
        tally.notes.append(
            f"{login} approved {short}, before the latest changes; "
            "their approval must be renewed"
        )
    else:
        tally.counted.append(Approval(login, review.commit_id))


def _named(standing: Standing, need: Requirement, login: str) -> bool:
    if need.names_anyone:
        return True
    if login in (u.lower() for u in need.users):
        return True
    return any(standing.in_team(login, team) for team in need.teams)


def _excluded(standing: Standing, need: Requirement, login: str) -> str | None:
    if need.exclude_author and login == standing.author:
        return f"{login} wrote the PR, so their approval does not count"
    if need.exclude_committers and login in standing.committers:
        return f"{login} committed to the PR, so their approval does not count"
    return None


def _can_still_approve(
    standing: Standing, need: Requirement, tally: _Tally
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    done = {a.login for a in tally.counted}
    users = tuple(
        u
        for u in need.users
        if u.lower() not in done and not _excluded(standing, need, u.lower())
    )
    return users, tuple(standing.team_slug(t) for t in need.teams)


def _blocked_reason(login: str) -> str:
    return (
        f"{login} requested changes; this blocks until they approve "
        "or their review is dismissed"
    )


def _approved(tally: _Tally) -> tuple[str, ...]:
    if not tally.counted:
        return ("no approval is required",)
    names = ", ".join(a.login for a in tally.counted)
    return (f"approved by {names}", *tally.notes)

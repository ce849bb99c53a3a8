"""Who may run a verb: repository permissions, teams and users, as configured.

A principal is written as a permission (``write``, or ``role:write``), a
team (``team:org/slug``, or ``team:slug`` in the repository's organization)
or a user (``user:login``). A person matches a permission at that level or
above.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

#: Repository permissions, weakest first.
LEVELS = ("none", "read", "triage", "write", "maintain", "admin")

Kind = Literal["permission", "team", "user"]
#: (org, slug) -> the lower-case logins of the team's members.
TeamMembers = Callable[[str, str], frozenset[str]]


@dataclass(frozen=True)
class Principal:
    """Someone a verb is allowed to: a permission level, a team or a user."""

    kind: Kind
    name: str

    def __str__(self) -> str:
        return self.name if self.kind == "permission" else f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class Asker:
    """The person who wrote a command, and their permission on the repository."""

    login: str
    permission: str


def principal(text: str, owner: str) -> Principal:
    """Read a principal as `.changebot.yml` writes it; bare teams get ``owner``."""
    kind, _, name = text.strip().partition(":")
    if not name:
        return Principal("permission", kind.lower())
    if kind == "role":
        return Principal("permission", name.lower())
    if kind == "team":
        return Principal("team", (name if "/" in name else f"{owner}/{name}").lower())
    if kind == "user":
        return Principal("user", name.lower())
    return Principal("user", f"{kind}:{name}".lower())


def principals(texts: Iterable[str], owner: str) -> tuple[Principal, ...]:
    """Read every principal of a configured list."""
    return tuple(principal(text, owner) for text in texts)


def at_least(have: str, need: str) -> bool:
    """Tell whether permission ``have`` is ``need`` or stronger."""
    if need not in LEVELS:
        return False
    return LEVELS.index(have if have in LEVELS else "none") >= LEVELS.index(need)


def allows(allowed: Iterable[Principal], asker: Asker, members: TeamMembers) -> bool:
    """Tell whether any of ``allowed`` includes ``asker``.

    Teams are looked up (through ``members``) only when no cheaper principal
    already matched.
    """
    ordered = sorted(allowed, key=lambda p: p.kind == "team")
    return any(_includes(p, asker, members) for p in ordered)


def _includes(allowed: Principal, asker: Asker, members: TeamMembers) -> bool:
    if allowed.kind == "permission":
        return at_least(asker.permission, allowed.name)
    if allowed.kind == "user":
        return allowed.name == asker.login.lower()
    org, _, slug = allowed.name.partition("/")
    return asker.login.lower() in members(org, slug)

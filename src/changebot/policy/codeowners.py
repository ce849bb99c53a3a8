"""CODEOWNERS as GitHub reads it: who owns each changed file.

GitHub's rules: the last matching pattern wins; a pattern with no owners
leaves its files unowned; owners are `@user`, `@org/team` or an email
address. changebot cannot tell which account an email address belongs to,
so email owners are ignored and said so. Syntax GitHub does not support
(`!negation`, `[ ]` ranges) makes GitHub skip the line; changebot skips it too.

See: https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from changebot.policy.patterns import PathMatcher, matcher_for, pattern_problem

#: Where GitHub looks for the file, in the order it looks.
LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")

_USER = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_TEAM = re.compile(r"^@[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class OwnerLine:
    """One usable line: a pattern and its owners (lower-case, without `@`)."""

    line: int
    pattern: str
    owners: tuple[str, ...]


@dataclass(frozen=True)
class Codeowners:
    """A parsed CODEOWNERS file and what was wrong with it."""

    lines: tuple[OwnerLine, ...]
    notes: tuple[str, ...] = ()

    @cached_property
    def _matcher(self) -> PathMatcher:
        return matcher_for(tuple(o.pattern for o in self.lines), codeowners=True)

    def owners_of(self, path: str) -> tuple[str, ...]:
        """Return the owners of ``path``: those of the last matching line."""
        hits = self._matcher.matching(path)
        return self.lines[hits[-1]].owners if hits else ()

    def owners_by_path(self, paths: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """Return the owners of each path that has any."""
        owned = {path: self.owners_of(path) for path in paths}
        return {path: owners for path, owners in owned.items() if owners}


def parse(text: str) -> Codeowners:
    """Parse CODEOWNERS text, keeping the usable lines and noting the rest."""
    lines: list[OwnerLine] = []
    notes: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _without_comment(raw).strip()
        if not line:
            continue
        pattern, *owners = line.split()
        problem = _pattern_problem(pattern)
        if problem:
            notes.append(f"CODEOWNERS line {number}: {problem}; the line is ignored")
            continue
        kept, line_notes = _owners(owners, number)
        notes += line_notes
        lines.append(OwnerLine(number, pattern, kept))
    return Codeowners(tuple(lines), tuple(notes))


def _without_comment(line: str) -> str:
    # `#` starts a comment unless escaped as `\#`.
    return re.split(r"(?<!\\)#", line, maxsplit=1)[0]


def _pattern_problem(pattern: str) -> str | None:
    if pattern.startswith("!"):
        return f"{pattern!r} negates, which GitHub does not support"
    if "[" in pattern:
        return f"{pattern!r} uses a [ ] range, which GitHub does not support"
    problem = pattern_problem(pattern)
    return f"{pattern!r}: {problem}" if problem else None


def _owners(owners: list[str], number: int) -> tuple[tuple[str, ...], list[str]]:
    kept: list[str] = []
    notes = []
    for owner in owners:
        if _USER.match(owner) or _TEAM.match(owner):
            kept.append(owner[1:].lower())
        elif _EMAIL.match(owner):
            notes.append(
                f"CODEOWNERS line {number}: owner {owner} is an email address, "
                "which changebot cannot match to an account; it is ignored"
            )
        else:
            notes.append(f"CODEOWNERS line {number}: {owner!r} is not an owner")
    return tuple(kept), notes

"""Gitignore-style path patterns: checked for cost, compiled, matched in bulk.

Areas and CODEOWNERS both map paths through ordered lists of patterns. A PR
may touch thousands of files and a policy may hold hundreds of patterns, so
`PathMatcher` does not try every pattern on every path: patterns anchored to
a literal first directory are filed under it, and each path runs one
combined regular expression holding only the patterns that could match it.

The patterns are translated by pathspec, whose regular expressions backtrack.
A pattern with many variable-length wildcards can take exponential time on a
crafted path, so `pattern_problem` refuses those before they are compiled.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

MAX_PATTERN_LENGTH = 512
#: Wildcards that can span directories (`**`, and the implicit one in front
#: of an unanchored pattern such as `*.tf`).
MAX_DEEP_WILDCARDS = 2
#: `*` runs inside one path segment.
MAX_SEGMENT_WILDCARDS = 2
#: Both together: the worst-case cost grows as path length to this power.
MAX_WILDCARDS = 3

_GLOB = re.compile(r"[*?\[\\]")
_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


@dataclass(frozen=True)
class CompiledPattern:
    """One pattern as a regular expression, and whether it includes or excludes."""

    text: str
    regex: str
    include: bool
    #: The literal first directory the pattern is anchored to, if any.
    anchor: str | None


def pattern_problem(pattern: str) -> str | None:
    """Say why ``pattern`` cannot be used, or return None when it is fine."""
    if not pattern.strip() or pattern.lstrip().startswith("#"):
        return "an empty pattern (or a comment) matches nothing"
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"longer than {MAX_PATTERN_LENGTH} characters"
    deep, segment = _wildcards(pattern)
    if deep > MAX_DEEP_WILDCARDS or segment > MAX_SEGMENT_WILDCARDS:
        return _too_costly(deep, segment)
    if deep + segment > MAX_WILDCARDS:
        return _too_costly(deep, segment)
    try:
        _translate(pattern)
    except ValueError as err:
        return f"not a valid gitignore-style pattern ({err})"
    return None


def _too_costly(deep: int, segment: int) -> str:
    return (
        f"too many wildcards to match safely ({deep} that cross directories, "
        f"up to {segment} in one name); split it into simpler patterns"
    )


def _wildcards(pattern: str) -> tuple[int, int]:
    body = pattern.removeprefix("!").rstrip("/")
    segments = body.lstrip("/").split("/")
    # An unanchored pattern (no slash but a trailing one) and a leading `**/`
    # both become one wildcard in front; a trailing `/**` costs nothing.
    leading = 1 if "/" not in body or segments[0] == "**" else 0
    inner = sum(1 for s in segments[1:-1] if s == "**")
    stars = [len(re.findall(r"\*+", s)) for s in segments if s != "**"]
    return leading + inner, max(stars, default=0)


def compile_pattern(pattern: str, *, codeowners: bool = False) -> CompiledPattern:
    """Translate one gitignore-style pattern into a regular expression."""
    regex, include = _translate(pattern)
    body = pattern.removeprefix("!")
    if codeowners and body.endswith("/*"):
        # NOTE: GitHub's CODEOWNERS differs from gitignore here: `docs/*`
        # owns the files directly in docs/, not those in its subdirectories.
        # See: https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners
        regex = re.sub(r"\(\?:\(\?:/\)\|\$\)$", "$", regex)
    return CompiledPattern(pattern, regex, include, _anchor(body))


def _translate(pattern: str) -> tuple[str, bool]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compiled = GitIgnoreSpecPattern(pattern)
        except Exception as err:  # pathspec raises its own error types
            raise ValueError(str(err)) from err
    if compiled.regex is None or compiled.include is None:
        raise ValueError("it matches nothing")
    regex = _NAMED_GROUP.sub("(?:", compiled.regex.pattern).removeprefix("^")
    return regex, bool(compiled.include)


def _anchor(body: str) -> str | None:
    stripped = body.rstrip("/")
    if "/" not in stripped:
        return None
    first = stripped.lstrip("/").split("/", 1)[0]
    return None if _GLOB.search(first) or first == "**" else first


class PathMatcher:
    """Tell, for each path, which of an ordered list of patterns match it.

    Two cheap filters come before any regular expression: the path's first
    directory picks the anchored patterns that can apply, and a pattern is
    tried only if its longest literal piece occurs in the path. The patterns
    left are matched by one combined expression, compiled once per set.
    """

    #: Distinct candidate sets kept compiled; beyond it the cache restarts.
    MAX_COMBINED = 4096

    def __init__(self, patterns: Sequence[str], *, codeowners: bool = False) -> None:
        compiled = [compile_pattern(p, codeowners=codeowners) for p in patterns]
        self.patterns = tuple(compiled)
        literal = [(i, _literal(p.text)) for i, p in enumerate(compiled)]
        everywhere = [pair for pair in literal if compiled[pair[0]].anchor is None]
        self._fallback = tuple(everywhere)
        self._by_anchor: dict[str, tuple[tuple[int, str], ...]] = {}
        for anchor in {p.anchor for p in compiled if p.anchor is not None}:
            mine = [pair for pair in literal if compiled[pair[0]].anchor == anchor]
            self._by_anchor[anchor] = tuple(sorted(everywhere + mine))
        self._combined: dict[tuple[int, ...], _Combined] = {}

    def matching(self, path: str) -> tuple[int, ...]:
        """Return the indices of the patterns that match ``path``, in order."""
        first = path.split("/", 1)[0]
        candidates = self._by_anchor.get(first, self._fallback)
        chosen = tuple(i for i, piece in candidates if piece in path)
        if not chosen:
            return ()
        combined = self._combined.get(chosen)
        if combined is None:
            if len(self._combined) >= self.MAX_COMBINED:
                self._combined.clear()
            combined = self._combined[chosen] = _Combined(self.patterns, chosen)
        return combined.matching(path)


def _literal(pattern: str) -> str:
    """Return a piece of text that every path matching ``pattern`` contains."""
    body = pattern.removeprefix("!")
    if "[" in body or "\\" in body:
        return ""
    return max(re.split(r"[*?/]", body), key=len)


class _Combined:
    """Several patterns as one regular expression of optional lookaheads."""

    def __init__(
        self, compiled: Sequence[CompiledPattern], indices: tuple[int, ...]
    ) -> None:
        self._indices = indices
        source = "".join(f"(?:(?=({compiled[i].regex}))|)" for i in indices)
        self._regex = re.compile(source)

    def matching(self, path: str) -> tuple[int, ...]:
        found = self._regex.match(path)
        if found is None:
            return ()
        groups = found.groups()
        return tuple(
            i for i, g in zip(self._indices, groups, strict=True) if g is not None
        )


@lru_cache(maxsize=64)
def matcher_for(patterns: tuple[str, ...], *, codeowners: bool = False) -> PathMatcher:
    """Return a compiled matcher for ``patterns``, reused across evaluations."""
    return PathMatcher(patterns, codeowners=codeowners)

"""Path patterns: the bulk matcher agrees with pathspec, costly patterns are refused."""

from __future__ import annotations

import random
import re

from changebot.policy.patterns import PathMatcher, compile_pattern, pattern_problem

PATTERNS = [
    "*.tf",
    "infra/**/*.tf",
    "!infra/sandbox/**",
    "/Dockerfile",
    "charts/*/values.yaml",
    "docs/",
    "**/secrets/**",
    "a?c.txt",
    "config/[ab]*.ini",
    "k8s/**",
]


def one_by_one(path: str) -> tuple[int, ...]:
    regexes = [re.compile(compile_pattern(p).regex) for p in PATTERNS]
    return tuple(i for i, rx in enumerate(regexes) if rx.match(path))


def test_the_bulk_matcher_agrees_with_matching_each_pattern() -> None:
    rng = random.Random(7)
    parts = ["infra", "sandbox", "k8s", "charts", "web", "docs", "secrets", "config"]
    names = ["main.tf", "values.yaml", "Dockerfile", "abc.txt", "a.ini", "x.md"]
    matcher = PathMatcher(PATTERNS)

    for _ in range(2000):
        depth = rng.randrange(0, 4)
        path = "/".join([*(rng.choice(parts) for _ in range(depth)), rng.choice(names)])
        assert matcher.matching(path) == one_by_one(path), path


def test_costly_patterns_are_refused() -> None:
    for pattern in ["**/a/**/a/**/b", "*a*a*a*b", "x/**/y/**/z*w*"]:
        assert "too many wildcards" in (pattern_problem(pattern) or "")


def test_ordinary_patterns_are_accepted() -> None:
    for pattern in ["*.tf", "infra/**/*.tf", "**/test_*.py", ".github/workflows/**"]:
        assert pattern_problem(pattern) is None

"""Policy evaluation of a large PR, against the floor of matching its paths.

A PR of 3,000 changed files (some renamed), a policy of 200 area patterns
in 40 areas (with exclusions and team requirements), 100 reviews. The
figure that matters is `evaluate()` against the floor: matching the same
paths against the same compiled patterns, with nothing else. Target: a
ratio of at most 3, and under 50 ms.

Run: `python -m benchmarks policy`.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

from benchmarks import best_of, report
from changebot.policy import evaluate, load_config
from changebot.policy.config import Config
from changebot.policy.evaluate import classify
from changebot.policy.facts import ChangedFile, Commit, PullFacts, Review
from changebot.policy.patterns import compile_pattern, matcher_for

FILES = 3_000
AREAS = 40
REVIEWS = 100
HEAD = "f" * 40
TREE = "e" * 40


def _policy() -> str:
    lines = ["areas:"]
    for i in range(AREAS):
        lines += [
            f"  area{i}:",
            "    paths:",
            f'      - "svc{i}/**/*.tf"',
            f'      - "charts/app{i}/**"',
            f'      - "*.svc{i}.yaml"',
            f'      - "deploy/env{i}/**"',
            f'      - "!svc{i}/docs/**"',
            f"    reviewers: {{count: 2, teams: [team{i % 10}], users: [user{i}]}}",
        ]
    lines += [
        "rationale:",
        "  sections: [Why, Risk, Rollback plan]",
        '  ticket: "[A-Z][A-Z0-9]+-[0-9]+"',
        "  min_words: 15",
    ]
    return "\n".join(lines) + "\n"


def _files(rng: random.Random) -> tuple[ChangedFile, ...]:
    shapes = [
        "svc{i}/modules/m{n}/main.tf",
        "svc{i}/docs/page{n}.md",
        "charts/app{i}/templates/t{n}.yaml",
        "deploy/env{i}/values{n}.yaml",
        "src/pkg{i}/module{n}.py",
        "config/c{n}.svc{i}.yaml",
    ]
    files = []
    for n in range(FILES):
        path = rng.choice(shapes).format(i=rng.randrange(AREAS + 10), n=n)
        if n % 50 == 0:
            files.append(ChangedFile(path, "renamed", f"old/{path}"))
        else:
            files.append(ChangedFile(path))
    return tuple(files)


def _facts(files: tuple[ChangedFile, ...], codeowners: str | None) -> PullFacts:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    reviews = tuple(
        Review(
            f"user{n}",
            "APPROVED" if n % 7 else "COMMENTED",
            HEAD if n % 3 else "0" * 40,
            start + timedelta(minutes=n),
            TREE if n % 3 else None,
        )
        for n in range(REVIEWS)
    )
    memberships = {f"user{n}": frozenset({f"org/team{n % 10}"}) for n in range(REVIEWS)}
    body = (
        "Upgrade the fleet. Refs OPS-1234.\n\n## Why\nThe old instances are out of"
        " support and cost more.\n\n## Risk\nA restart of every service.\n\n"
        "## Rollback plan\nRevert this PR and apply again.\n"
    )
    return PullFacts(
        repo="org/infra",
        number=7,
        title="Upgrade the fleet",
        body=body,
        author="author",
        base_ref="main",
        base_sha="a" * 40,
        head_ref="upgrade",
        head_sha=HEAD,
        head_tree=TREE,
        files=files,
        commits=(Commit(HEAD, "author", "author", "upgrade", TREE),),
        reviews=reviews,
        memberships=memberships,
        codeowners=codeowners,
    )


def _codeowners() -> str:
    lines = ["* @org/everyone"]
    lines += [f"/svc{i}/ @org/team{i % 10} @user{i}" for i in range(50)]
    return "\n".join(lines) + "\n"


def _paths(files: tuple[ChangedFile, ...]) -> list[str]:
    return [p for f in files for p in (f.path, f.previous_path) if p]


def main() -> None:
    """Measure evaluation against the floor and print the figures."""
    rng = random.Random(2)
    config: Config = load_config(_policy(), source="benchmark")
    patterns = tuple(p for area in config.areas for p in area.paths)
    files = _files(rng)
    paths = _paths(files)
    facts = _facts(files, None)
    owned = _facts(files, _codeowners())

    # Compile once, as a long-running server does.
    matcher = matcher_for(patterns)
    compiled = [re.compile(compile_pattern(p).regex) for p in patterns]
    verdict = evaluate(facts, config)
    evaluate(owned, config)

    floor = best_of(lambda: [matcher.matching(p) for p in paths])
    naive = best_of(lambda: [[rx.match(p) for rx in compiled] for p in paths])
    areas = best_of(lambda: classify(files, config.areas))
    whole = best_of(lambda: evaluate(facts, config))
    with_owners = best_of(lambda: evaluate(owned, config))

    print(
        f"  {len(files)} files ({len(paths)} paths with renames), "
        f"{len(patterns)} patterns in {len(config.areas)} areas, {REVIEWS} reviews; "
        f"{len(verdict.areas)} areas touched, conclusion {verdict.conclusion}"
    )
    report("floor: match paths, same compiled patterns", floor)
    report("pattern-by-pattern matching (for reference)", naive, baseline=floor)
    report("classify files into areas", areas, baseline=floor)
    report("evaluate (target: x3.00 of the floor, 50 ms)", whole, baseline=floor)
    report("evaluate with a 51-line CODEOWNERS", with_owners, baseline=floor)
    verdict_ok = whole / floor <= 3 and whole < 0.050
    print(f"  target {'met' if verdict_ok else 'NOT met'}")


if __name__ == "__main__":
    main()

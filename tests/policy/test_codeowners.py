"""CODEOWNERS read as GitHub reads it, and its owners required as approvers."""

from __future__ import annotations

from changebot.policy import evaluate
from changebot.policy.codeowners import parse

from .pulls import POLICY, policy, pull, review

OWNERS = """\
# Everything belongs to the platform team unless said otherwise.
*                   @acme/platform
*.tf                @olga   ops@acme.example
/infra/legacy/      @dan
docs/*              @writer
/infra/generated/
\\#notes.md          @hash
!secret.tf          @nobody
"""

WITH_OWNERS = POLICY.replace("codeowners: false", "codeowners: true")


def test_the_last_matching_pattern_wins() -> None:
    owners = parse(OWNERS)

    assert owners.owners_of("README.md") == ("acme/platform",)
    assert owners.owners_of("infra/main.tf") == ("olga",)
    assert owners.owners_of("infra/legacy/old.tf") == ("dan",)


def test_a_pattern_without_owners_leaves_its_files_unowned() -> None:
    assert parse(OWNERS).owners_of("infra/generated/x.tf") == ()


def test_dir_star_owns_only_the_files_directly_inside() -> None:
    owners = parse(OWNERS)

    assert owners.owners_of("docs/intro.md") == ("writer",)
    assert owners.owners_of("docs/guide/deep.md") == ("acme/platform",)


def test_email_owners_are_ignored_with_a_note() -> None:
    owners = parse(OWNERS)

    assert owners.owners_of("app.tf") == ("olga",)
    assert any("ops@acme.example" in note and "line 3" in note for note in owners.notes)


def test_unsupported_syntax_skips_the_line_as_github_does() -> None:
    owners = parse(OWNERS)

    assert owners.owners_of("secret.tf") == ("olga",)
    assert any("negates" in note and "line 8" in note for note in owners.notes)
    assert owners.owners_of("#notes.md") == ("hash",)


def test_owners_must_approve_files_in_an_area() -> None:
    facts = pull("infra/main.tf", codeowners=OWNERS, reviews=(review("pat"),))

    verdict = evaluate(facts, policy(WITH_OWNERS))

    owners = next(r for r in verdict.rules if r.rule == "codeowners")
    assert owners.state == "pending"
    assert owners.can_approve_users == ("olga",)
    assert verdict.conclusion == "pending"


def test_an_owner_approval_satisfies_both_rules() -> None:
    facts = pull("infra/main.tf", codeowners=OWNERS, reviews=(review("olga"),))

    verdict = evaluate(facts, policy(WITH_OWNERS))

    assert verdict.conclusion == "success"


def test_a_team_owner_is_satisfied_by_a_member() -> None:
    facts = pull(
        ".github/workflows/ci.yml",
        codeowners=OWNERS,
        reviews=(review("sam"), review("sue"), review("pat")),
    )

    verdict = evaluate(facts, policy(WITH_OWNERS))

    owners = next(r for r in verdict.rules if r.rule == "codeowners")
    assert owners.state == "satisfied"
    assert [a.login for a in owners.approvals] == ["pat"]


def test_files_outside_areas_need_no_owner_unless_scope_is_all() -> None:
    facts = pull("README.md", codeowners=OWNERS)
    everywhere = WITH_OWNERS.replace(
        "codeowners: true", "codeowners: {enabled: true, scope: all}"
    )

    assert evaluate(facts, policy(WITH_OWNERS)).conclusion == "neutral"
    assert evaluate(facts, policy(everywhere)).conclusion == "pending"

"""The rules a verdict must follow, each on a small real PR."""

from __future__ import annotations

import json

from changebot.policy import evaluate
from changebot.policy.facts import ChangedFile, Commit

from .pulls import HEAD, OLD, OLD_TREE, TREE, policy, pull, review


def area_rule(verdict, name):  # type: ignore[no-untyped-def]
    return next(a for a in verdict.areas if a.name == name).rules[0]


# --- areas ------------------------------------------------------------------


def test_no_matching_area_is_neutral_not_an_error() -> None:
    verdict = evaluate(pull("README.md", "src/app.py"), policy())

    assert verdict.conclusion == "neutral"
    assert verdict.areas == ()
    assert verdict.rationale.required is False


def test_a_rename_counts_under_its_old_and_new_paths() -> None:
    moved_out = ChangedFile("attic/main.tf", "renamed", "infra/prod/main.tf")
    moved_in = ChangedFile("infra/prod/net.tf", "renamed", "scratch/net.tf")

    for changed in (moved_out, moved_in):
        verdict = evaluate(pull(changed), policy())
        assert [a.name for a in verdict.areas] == ["terraform"]
        assert verdict.areas[0].files[0].previous_path == changed.previous_path


def test_an_exclusion_pattern_takes_a_path_back_out_of_an_area() -> None:
    verdict = evaluate(pull("infra/sandbox/try.tf"), policy())

    assert verdict.conclusion == "neutral"


# --- reviewers --------------------------------------------------------------


def test_approval_from_a_required_reviewer_satisfies_the_area() -> None:
    verdict = evaluate(pull("infra/main.tf", reviews=(review("olga"),)), policy())

    assert verdict.conclusion == "success"
    rule = area_rule(verdict, "terraform")
    assert rule.state == "satisfied"
    assert [(a.login, a.commit) for a in rule.approvals] == [("olga", HEAD)]


def test_a_missing_approval_is_pending_and_names_who_can_approve() -> None:
    verdict = evaluate(pull("infra/main.tf"), policy())

    assert verdict.conclusion == "pending"
    rule = area_rule(verdict, "terraform")
    assert rule.state == "pending"
    assert rule.can_approve_users == ("olga",)
    assert rule.can_approve_teams == ("acme/platform",)
    assert "needs 1 more approval" in rule.reasons


def test_the_authors_own_approval_does_not_count() -> None:
    verdict = evaluate(
        pull("infra/main.tf", author="olga", reviews=(review("olga"),)), policy()
    )

    rule = area_rule(verdict, "terraform")
    assert rule.state == "pending"
    assert any("wrote the PR" in r for r in rule.reasons)


def test_a_committers_approval_does_not_count_when_configured() -> None:
    commits = (Commit(HEAD, "amy", "olga", "fixup", TREE),)
    facts = pull("infra/main.tf", commits=commits, reviews=(review("olga"),))

    strict = evaluate(facts, policy())
    lenient = evaluate(
        facts,
        policy(
            policy_text_with("exclude_committers: true", "exclude_committers: false")
        ),
    )

    assert area_rule(strict, "terraform").state == "pending"
    assert any(
        "committed to the PR" in r for r in area_rule(strict, "terraform").reasons
    )
    assert area_rule(lenient, "terraform").state == "satisfied"


def test_team_requirements_resolve_through_memberships() -> None:
    member = evaluate(pull("infra/main.tf", reviews=(review("pat"),)), policy())
    outsider = evaluate(pull("infra/main.tf", reviews=(review("zed"),)), policy())

    assert area_rule(member, "terraform").state == "satisfied"
    assert area_rule(outsider, "terraform").state == "pending"
    assert any(
        "not a required reviewer" in r for r in area_rule(outsider, "terraform").reasons
    )


def test_membership_logins_are_matched_without_regard_to_case() -> None:
    facts = pull(
        "infra/main.tf",
        reviews=(review("Pat"),),
        memberships={"PAT": frozenset({"acme/platform"})},
    )

    assert area_rule(evaluate(facts, policy()), "terraform").state == "satisfied"


def test_a_count_of_two_needs_two_distinct_approvers() -> None:
    one = evaluate(pull(".github/workflows/ci.yml", reviews=(review("sam"),)), policy())
    two = evaluate(
        pull(".github/workflows/ci.yml", reviews=(review("sam"), review("sue"))),
        policy(),
    )

    assert area_rule(one, "workflows").state == "pending"
    assert area_rule(two, "workflows").state == "satisfied"


def test_changes_requested_by_a_required_reviewer_blocks_until_approved() -> None:
    blocked = pull(
        "infra/main.tf",
        reviews=(review("pat"), review("olga", "CHANGES_REQUESTED", minute=1)),
    )
    resolved = pull(
        "infra/main.tf",
        reviews=(
            review("olga", "CHANGES_REQUESTED", minute=1),
            review("olga", minute=2),
        ),
    )

    verdict = evaluate(blocked, policy())
    assert verdict.conclusion == "failure"
    assert area_rule(verdict, "terraform").blocked_by == ("olga",)
    assert evaluate(resolved, policy()).conclusion == "success"


def test_changes_requested_stops_blocking_once_dismissed() -> None:
    dismissed = pull(
        "infra/main.tf",
        reviews=(
            review("olga", "CHANGES_REQUESTED", minute=1),
            review("olga", "DISMISSED", minute=2),
            review("pat", minute=3),
        ),
    )

    assert evaluate(dismissed, policy()).conclusion == "success"


def test_changes_requested_by_someone_not_required_does_not_block() -> None:
    facts = pull(
        "infra/main.tf",
        reviews=(review("olga"), review("zed", "CHANGES_REQUESTED", minute=1)),
    )

    assert evaluate(facts, policy()).conclusion == "success"


def test_a_dismissed_approval_does_not_count() -> None:
    facts = pull(
        "infra/main.tf",
        reviews=(review("olga"), review("olga", "DISMISSED", minute=5)),
    )

    assert area_rule(evaluate(facts, policy()), "terraform").state == "pending"


def test_the_latest_review_per_user_wins_and_comments_change_nothing() -> None:
    approved_then_blocked = pull(
        "infra/main.tf",
        reviews=(
            review("olga", minute=1),
            review("olga", "CHANGES_REQUESTED", minute=2),
        ),
    )
    approved_then_commented = pull(
        "infra/main.tf",
        reviews=(review("olga", minute=1), review("olga", "COMMENTED", minute=2)),
    )
    # Submitted out of order: the times decide, not the list.
    listed_backwards = pull(
        "infra/main.tf",
        reviews=(
            review("olga", minute=9),
            review("olga", "CHANGES_REQUESTED", minute=2),
        ),
    )

    assert evaluate(approved_then_blocked, policy()).conclusion == "failure"
    assert evaluate(approved_then_commented, policy()).conclusion == "success"
    assert evaluate(listed_backwards, policy()).conclusion == "success"


def test_an_approval_of_an_older_tree_is_stale_after_a_push() -> None:
    stale = review("olga", commit=OLD, tree=OLD_TREE)
    verdict = evaluate(pull("infra/main.tf", reviews=(stale,)), policy())

    rule = area_rule(verdict, "terraform")
    assert rule.state == "pending"
    assert any("before the latest changes" in r for r in rule.reasons)


def test_a_rebase_that_keeps_the_tree_keeps_the_approval() -> None:
    # The approved commit is gone (rebased), but its tree is the head's tree.
    rebased = review("olga", commit=OLD, tree=TREE)

    verdict = evaluate(pull("infra/main.tf", reviews=(rebased,)), policy())

    assert area_rule(verdict, "terraform").state == "satisfied"
    assert [a.commit for a in verdict.approvers] == [OLD]


def test_the_review_tree_falls_back_to_the_commit_list() -> None:
    commits = (
        Commit(OLD, "amy", "amy", "first", OLD_TREE),
        Commit(HEAD, "amy", "amy", "second", TREE),
    )
    stale = review("olga", commit=OLD, tree=None)

    verdict = evaluate(
        pull("infra/main.tf", commits=commits, reviews=(stale,)), policy()
    )

    assert area_rule(verdict, "terraform").state == "pending"


def test_stale_approvals_count_when_invalidate_on_push_is_off() -> None:
    stale = review("olga", commit=OLD, tree=OLD_TREE)
    lenient = policy(
        policy_text_with("invalidate_on_push: true", "invalidate_on_push: false")
    )

    verdict = evaluate(pull("infra/main.tf", reviews=(stale,)), lenient)

    assert area_rule(verdict, "terraform").state == "satisfied"


# --- rationale, override, proposed config -----------------------------------


def test_an_incomplete_rationale_fails_the_verdict() -> None:
    verdict = evaluate(
        pull("infra/main.tf", body="## Why\nTODO\n", reviews=(review("olga"),)),
        policy(),
    )

    assert verdict.conclusion == "failure"
    assert "rationale" in verdict.failed
    kinds = {(f.kind, f.section) for f in verdict.rationale.findings}
    assert ("placeholder", "Why") in kinds
    assert ("missing", "Risk") in kinds


def test_a_rationale_given_by_command_counts_as_rationale_text() -> None:
    extra = (
        "We must raise memory before the batch window; the risk is a slow "
        "rollout and the rollback is reverting this PR."
    )
    facts = pull(
        "infra/main.tf", body="", extra_rationale=extra, reviews=(review("olga"),)
    )

    verdict = evaluate(facts, policy())

    assert verdict.rationale.ok
    assert verdict.conclusion == "success"


def test_an_override_makes_the_conclusion_success_and_says_who() -> None:
    facts = pull("infra/main.tf", body="", override=("lead", "outage fix, INC-9"))

    verdict = evaluate(facts, policy())

    assert verdict.conclusion == "success"
    assert verdict.overridden_by == "lead"
    assert "rationale" in verdict.failed  # what was bypassed stays visible


def test_a_proposed_config_with_problems_fails_with_lines() -> None:
    facts = pull(".changebot.yml", head_config="areas:\n  x:\n    paths: 3\n")

    verdict = evaluate(facts, policy())

    assert verdict.conclusion == "failure"
    assert "config" in verdict.failed
    assert [(p.path, p.line) for p in verdict.config_problems] == [("areas.x.paths", 3)]


def test_a_truncated_file_list_fails_closed() -> None:
    facts = pull("README.md", files_truncated=True)

    assert evaluate(facts, policy()).conclusion == "failure"


def test_the_verdict_as_json_carries_what_the_audit_log_needs() -> None:
    facts = pull(
        "infra/main.tf", title="Raise memory OPS-17", reviews=(review("olga"),)
    )

    data = json.loads(json.dumps(evaluate(facts, policy()).to_json()))

    assert data["conclusion"] == "success"
    assert data["failed"] == []
    assert data["tickets"] == ["OPS-17"]
    assert data["approvers"] == [{"login": "olga", "commit": HEAD}]
    assert data["areas"][0]["name"] == "terraform"
    assert data["areas"][0]["rules"][0]["state"] == "satisfied"


def policy_text_with(old: str, new: str) -> str:
    from .pulls import POLICY

    assert old in POLICY
    return POLICY.replace(old, new)

"""Loading `.changebot.yml`: the preset, every problem with its line, hostile YAML."""

from __future__ import annotations

import pytest

from changebot.errors import ConfigError
from changebot.policy.config import DEFAULT_CONFIG, load_config, schema, validate_config

DESIGN_SKETCH = """\
areas:
  terraform:
    paths: ["infra/**/*.tf", "terraform/**"]
    reviewers: {count: 2, teams: [platform], users: [], exclude_author: true}
  workflows:
    paths: [".github/workflows/**"]
    reviewers: {count: 1, teams: [security]}
codeowners: true
rationale:
  sections: [Why, Risk, Rollback plan]
  ticket: "[A-Z][A-Z0-9]+-[0-9]+"
  min_words: 15
approvals:
  invalidate_on_push: true
  exclude_committers: true
overrides:
  allowed: ["team:acme/sre-leads", "user:lead"]
commands:
  override: maintain
  recheck: [write, "team:acme/ops"]
audit:
  branch: changebot/audit
deployments:
  production: {slack: "#deploys", protected: true}
notify:
  slack: {webhook_env: CHANGEBOT_SLACK_WEBHOOK}
  routes:
    - {channel: "#infra", areas: [terraform], kinds: [deployment, rollback]}
"""


def where(problems):  # type: ignore[no-untyped-def]
    return {(p.line, p.path) for p in problems}


def test_no_file_means_the_documented_preset() -> None:
    config = load_config(None)

    assert config is DEFAULT_CONFIG
    names = [a.name for a in config.areas]
    assert names == ["terraform", "kubernetes", "ci", "containers", "config"]
    assert config.rationale.sections == ("Why", "Risk", "Rollback plan")


def test_the_design_sketch_loads_with_every_capability() -> None:
    config = load_config(DESIGN_SKETCH)

    terraform = config.area("terraform")
    assert terraform is not None
    assert terraform.reviewers.count == 2
    assert terraform.reviewers.teams == ("platform",)
    assert config.rationale.ticket == "[A-Z][A-Z0-9]+-[0-9]+"
    assert config.overrides.allowed == ("team:acme/sre-leads", "user:lead")
    assert config.command_permission("override") == ("maintain",)
    assert config.command_permission("recheck") == ("write", "team:acme/ops")
    assert config.command_permission("status") == ("read",)
    production = config.environment("production")
    assert production is not None and production.slack == "#deploys"
    assert config.notify.slack_webhook_env == "CHANGEBOT_SLACK_WEBHOOK"
    assert config.notify.routes[0].areas == ("terraform",)


def test_every_problem_is_reported_with_its_line_and_key_path() -> None:
    text = (
        "areas:\n"
        "  terraform:\n"
        "    paths: infra\n"
        "    revewers: {count: 1}\n"
        "rationale:\n"
        "  min_words: many\n"
    )

    problems = validate_config(text)

    assert where(problems) == {
        (3, "areas.terraform.paths"),
        (4, "areas.terraform.revewers"),
        (6, "rationale.min_words"),
    }
    assert any("unknown key 'revewers'" in p.message for p in problems)


def test_load_raises_a_config_error_carrying_the_problems() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config("areas: []\n", source="x.yml")

    assert "x.yml" in str(caught.value)
    assert where(caught.value.problems) == {(1, "areas")}


def test_a_costly_path_pattern_is_refused_at_its_line() -> None:
    text = 'areas:\n  a:\n    paths:\n      - "*.tf"\n      - "**/x/**/y/**/z"\n'

    assert where(validate_config(text)) == {(5, "areas.a.paths[1]")}


def test_a_backtracking_ticket_expression_is_refused() -> None:
    problems = validate_config('rationale:\n  ticket: "([A-Z]+)+-[0-9]+"\n')

    assert where(problems) == {(2, "rationale.ticket")}
    assert "exponential" in problems[0].message


def test_a_count_the_listed_users_cannot_reach_is_refused() -> None:
    text = (
        "areas:\n  a:\n    paths: [x]\n    reviewers: {count: 3, users: [ann, bob]}\n"
    )

    assert where(validate_config(text)) == {(4, "areas.a.reviewers.count")}


def test_routes_must_name_existing_areas() -> None:
    text = (
        "areas:\n  a: {paths: [x]}\n"
        "notify:\n  routes:\n    - {channel: '#c', areas: [b]}\n"
    )

    assert where(validate_config(text)) == {(5, "notify.routes[0].areas[0]")}


def test_a_key_given_twice_is_a_problem() -> None:
    text = "areas:\n  a: {paths: [x]}\n  a: {paths: [y]}\n"

    assert where(validate_config(text)) == {(3, "areas.a")}


@pytest.mark.parametrize(
    "text, says",
    [
        ("- just\n- a list\n", "must be a mapping"),
        ("areas: {a: [\n", "not valid YAML"),
        ("---\na: 1\n---\nb: 2\n", "not usable YAML"),
        ("x: !!python/object:os.system ls\n", "could not determine a constructor"),
    ],
)
def test_documents_that_are_not_one_mapping_are_refused(text: str, says: str) -> None:
    problems = validate_config(text)

    assert len(problems) == 1
    assert says in problems[0].message


def test_a_yaml_bomb_is_refused_without_expanding_it() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)]

    problems = validate_config("\n".join(lines) + "\n")

    assert len(problems) == 1
    assert "expand to too many values" in problems[0].message


def test_deep_nesting_is_refused_before_parsing_recursively() -> None:
    problems = validate_config("a: " + "[" * 5000 + "]" * 5000 + "\n")

    assert "nesting is deeper" in problems[0].message


def test_an_oversized_file_is_refused() -> None:
    problems = validate_config("# " + "x" * 300_000 + "\n")

    assert "the limit is" in problems[0].message


def test_the_preset_and_the_schema_ship_with_the_package() -> None:
    assert schema()["title"] == ".changebot.yml"
    assert DEFAULT_CONFIG.source == "default preset"


def test_nobody_may_override_unless_the_policy_names_who() -> None:
    assert load_config(None).overrides.allowed == ()
    assert load_config("areas: {}\n").overrides.allowed == ()

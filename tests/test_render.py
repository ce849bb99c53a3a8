"""The render module: escaping user text, fitting limits, the check run."""

from __future__ import annotations

import pytest

# tests/ is on sys.path (it has no __init__.py), so its packages import by name.
from policy.pulls import policy, pull, review

from changebot.policy import evaluate
from changebot.policy.facts import ChangedFile
from changebot.render import (
    CHECK_SUMMARY_LIMIT,
    environment,
    fit,
    md,
    mrkdwn,
    render,
    render_check,
)


def test_md_leaves_no_html_mentions_links_or_block_syntax() -> None:
    hostile = "# Title\n- item\n    code\n<img src=x> @admin [x](https://e.vil) ![i](y)"

    out = md(hostile)

    assert "<" not in out and ">" not in out
    assert "@admin" not in out
    assert "](" not in out and "https://" not in out
    assert not any(line.startswith(("#", "-", " ")) for line in out.splitlines())


WJ = "\u2060"  # the word joiner that keeps GitHub from linking


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Visit WWW.Example.com", f"Visit WWW{WJ}\\.Example\\.com"),
        ("see HTTPS://x.io/a_b", f"see HTTPS{WJ}\\://x\\.io/a\\_b"),
        ("javascript:alert(1)", f"javascript{WJ}\\:alert\\(1\\)"),
        ("xjavascript:1 wwwx.io", "xjavascript\\:1 wwwx\\.io"),
        ("path a\\:b", "path a\\\\\\:b"),
        ("&lt; is <", "&amp;lt; is &lt;"),
        ("  indented\n  two @dev", f"indented\ntwo @{WJ}dev"),
    ],
)
def test_md_shows_the_text_as_written(text: str, shown: str) -> None:
    # Escapes and joiners change how GitHub reads the text, never its letters.
    assert md(text) == shown


def test_mrkdwn_neutralises_slack_broadcasts_and_links() -> None:
    out = mrkdwn("<!channel> <@U123> <#C42> <https://x|y> @here & co")

    assert "<" not in out and ">" not in out
    assert "@here" not in out
    assert "&amp; co" in out


def test_html_templates_are_autoescaped_and_markdown_ones_are_not() -> None:
    env = environment()

    assert env.autoescape("browser/page.html") is True  # type: ignore[operator]
    assert env.autoescape("check/summary.md") is False  # type: ignore[operator]


def test_fit_drops_whole_items_and_says_how_many() -> None:
    items = [f"- item {n:04d}" for n in range(1000)]

    out = fit(items, 500)

    assert len(out) <= 500
    kept = out.splitlines()[:-1]
    assert kept == items[: len(kept)]
    assert out.splitlines()[-1] == f"… and {1000 - len(kept)} more"


def test_fit_keeps_everything_that_fits() -> None:
    assert fit(["a", "b"], 10) == "a\nb"


def test_the_check_run_explains_areas_rules_and_who_can_approve() -> None:
    facts = pull("infra/main.tf", ChangedFile("new.tf", "renamed", "infra/old.tf"))

    report = render_check(evaluate(facts, policy()))

    assert report.status == "in_progress" and report.conclusion is None
    assert report.title == "Waiting for approval: terraform.reviewers"
    assert "**terraform**" in report.summary
    assert "olga" in report.summary and "acme/platform" in report.summary
    assert "renamed from infra/old\\.tf" in report.text


def test_the_check_run_of_a_huge_pr_stays_within_githubs_limits() -> None:
    paths = [f"infra/{'deep/' * 20}module{n}/main.tf" for n in range(4000)]
    verdict = evaluate(pull(*paths, reviews=(review("olga"),)), policy())

    report = render_check(verdict)

    assert report.conclusion == "success"
    assert len(report.summary) <= CHECK_SUMMARY_LIMIT
    assert len(report.text) <= CHECK_SUMMARY_LIMIT
    assert "more" in report.text.splitlines()[-1] or "more" in report.text


def test_render_finds_the_templates() -> None:
    assert render("common/more.txt", count=3).strip() == "… and 3 more"

"""The written rationale: sections from headings, placeholders, tickets, words."""

from __future__ import annotations

from changebot.policy.config import Rationale
from changebot.policy.rationale import judge, sections

RULES = Rationale(
    sections=("Why", "Risk", "Rollback plan"),
    ticket="[A-Z][A-Z0-9]+-[0-9]+",
    min_words=5,
    placeholders=("Describe the risk", "TODO"),
)


def missing(report):  # type: ignore[no-untyped-def]
    return {(f.kind, f.section) for f in report.findings}


def test_sections_come_from_markdown_headings_of_any_style() -> None:
    body = (
        "Intro OPS-1.\n\n# Why\nIt is slow.\n\nRisk:\n---\nLow.\n\n"
        "**Rollback plan**\nRevert it.\n"
    )

    report = judge("t", body, None, RULES)

    assert report.ok, report.findings
    assert report.sections == {
        "Why": "It is slow.",
        "Risk": "Low.",
        "Rollback plan": "Revert it.",
    }


def test_headings_match_without_regard_to_case_or_trailing_colon() -> None:
    body = (
        "## WHY:\nBuilds are slow. OPS-2\n## risk\nLow.\n### Rollback Plan\nRevert.\n"
    )

    assert judge("t", body, None, RULES).ok


def test_html_comments_are_not_rationale() -> None:
    body = (
        "## Why\n<!-- Explain why. OPS-3 -->\n"
        "## Risk\nLow, it is a flag.\n"
        "<!--\n## Rollback plan\nRevert the flag and wait.\n-->\n"
    )

    report = judge("t", body, None, RULES)

    assert missing(report) >= {("empty", "Why"), ("missing", "Rollback plan")}
    assert ("ticket", None) in missing(report)


def test_template_placeholders_count_as_missing() -> None:
    body = (
        "## Why\nTODO\n## Risk\n_Describe the risk._\n## Rollback plan\nRevert OPS-4.\n"
    )

    report = judge("t", body, None, RULES)

    assert missing(report) >= {("placeholder", "Why"), ("placeholder", "Risk")}


def test_headings_inside_code_fences_do_not_count() -> None:
    body = "```\n## Why\nnot a heading\n```\n## Risk\nLow.\n## Rollback plan\nRevert.\n"

    assert ("missing", "Why") in missing(judge("OPS-5", body, None, RULES))


def test_a_ticket_is_found_in_the_title_or_anywhere_in_the_body() -> None:
    body = (
        "## Why\nSee (OPS-77), and INFRA-9.\n## Risk\nLow.\n## Rollback plan\nRevert.\n"
    )

    assert judge("Fix OPS-1", body, None, RULES).tickets == (
        "OPS-1",
        "OPS-77",
        "INFRA-9",
    )


def test_too_few_words_is_a_finding() -> None:
    body = "## Why\nSlow.\n## Risk\nLow.\n## Rollback plan\nRevert.\n"

    report = judge("OPS-1", body, None, Rationale(sections=("Why",), min_words=10))

    assert ("words", None) in missing(report)


def test_sub_headings_belong_to_their_section() -> None:
    _, found = sections("## Why\n### Detail\nBecause.\n## Risk\nLow.\n")

    why = next(s for s in found if s.heading == "Why")
    assert "Because." in why.text

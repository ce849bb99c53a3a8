"""What a summary says about one PR: risk and rationale excerpt."""

from __future__ import annotations

from changebot.deploy.ledger import Ledger
from changebot.deploy.summary import excerpt_of, pull_line, risk_of, sections


def test_sections_read_headings_bold_lines_and_known_prefixes():
    text = (
        "Intro.\n## Why\nMore nodes.\n**Rollback plan**\nrevert\nRisk: low\nMedium: x"
    )

    parts = sections(text)

    assert parts[""] == "Intro."
    assert parts["why"] == "More nodes."
    assert parts["rollback plan"] == "revert"
    assert parts["risk"] == "low\nMedium: x"


def test_risk_comes_from_the_rationale_first():
    assert risk_of("## Risk\nHigh: drops a table.", None) == "High: drops a table."


def test_risk_falls_back_to_the_verdict():
    failed = {"conclusion": "failure", "failed": ["rationale", "reviewers"]}

    assert risk_of("no sections here", failed) == (
        "not stated; policy failed: rationale, reviewers"
    )
    assert risk_of("", {"conclusion": "success", "failed": []}) == "not stated"


def test_excerpt_prefers_why_and_stays_short():
    long_why = "word " * 200

    excerpt = excerpt_of(f"Intro\n## Why\n{long_why}")

    assert excerpt.startswith("word word")
    assert len(excerpt) <= 280 and excerpt.endswith("…")
    assert excerpt_of("Just a body.") == "Just a body."


def test_a_pr_link_that_would_break_out_of_its_link_is_dropped():
    ledger = Ledger("acme/infra")
    hostile = [
        "https://x.test/1) @everyone ![](https://tracker.test/p.png",
        "https://x.test/1|click here> <!channel",
        "javascript:alert(1)",
        "https://x.test/a b",
        ["https://x.test/1"],
    ]
    for url in hostile:
        line = pull_line({"pr": {"number": 1, "url": url}}, ledger)
        assert line.url is None, url

    fine = "https://github.example/acme/infra/pull/1?x=1&y=[2]#r-3"
    assert pull_line({"pr": {"number": 1, "url": fine}}, ledger).url == fine

"""The job summary escapes each value as the `md` filter would, once a render."""

from __future__ import annotations

from dataclasses import replace

import pytest

from changebot.deploy import outputs
from changebot.deploy.ledger import Ledger
from changebot.deploy.summary import PullLine, PushLine, Side, Summary, pull_line
from changebot.render import md


def pull(number: int, author: object) -> PullLine:
    return PullLine(
        number=number,
        title=f"Change #{number}",
        url=None,
        author=author,  # as an entry's JSON gave it
        approvers=("bob",),
        areas=("terraform",),
        risk="Low.",
        excerpt="",
        merge_sha=f"{number:040x}",
    )


def summary(added: Side) -> Summary:
    return Summary(
        repo="acme/infra",
        environment="production",
        classification="deploy",
        sha="b" * 40,
        previous_sha="a" * 40,
        deployer="ana",
        added=added,
    )


def test_logins_of_other_types_read_as_their_json_wrote_them() -> None:
    # An entry's JSON may hold anything where a login belongs; True == 1, yet
    # they read apart.
    odd: list[object] = [1, True, ["ana"], "<@U0123>", "<@U0123>", 1.0]
    ledger = Ledger("acme/infra")
    pulls = tuple(
        pull_line({"pr": {"number": n, "title": "t"}, "author": a}, ledger)
        for n, a in enumerate(odd, start=1)
    )

    markdown = outputs.job_summary(summary(Side(pulls=pulls)))

    lines = [line for line in markdown.splitlines() if line.startswith("- #")]
    assert [line.split("** by ", 1)[1] for line in lines] == [md(a) for a in odd]
    assert [line.split("** by ", 1)[1] for line in lines][:3] == [
        "1",
        "True",
        md("['ana']"),
    ]
    assert "<@U0123>" not in markdown


def test_push_refs_and_pushers_are_escaped() -> None:
    push = PushLine(1, "refs/heads/[main]", "@mallory", ("c" * 40,), ("a*b",), False)

    markdown = outputs.job_summary(summary(Side(pushes=(push,))))

    line = next(line for line in markdown.splitlines() if "direct push" in line)
    assert md("refs/heads/[main]") in line and md("@mallory") in line
    assert line.endswith(f"areas: {md('a*b')}")


ODD_TEXTS = [
    "  leading spaces",
    "@bob: see https://example.com and www.example.com",
    "<b>bold</b> & [link](x) # not a heading",
    "two\n   lines",
    "   ",
    "",
    "hidden \u202e reversed",
    "trailing @",
]


@pytest.mark.parametrize("texts", [ODD_TEXTS, [*ODD_TEXTS, "a NUL \x00 inside"]])
def test_titles_and_excerpts_read_as_each_escaped_alone(texts: list[str]) -> None:
    pulls = tuple(
        replace(pull(n, "ana"), title=text, excerpt=text[::-1])
        for n, text in enumerate(texts, start=1)
    )

    markdown = outputs.job_summary(summary(Side(pulls=pulls)))

    items = markdown.rstrip("\n").split("\n- #")[1:]
    titles = [item.split(" **", 1)[1].split("** by ana", 1)[0] for item in items]
    excerpts = [
        item.split("\n  _", 1)[1][:-1] if "\n  _" in item else "" for item in items
    ]
    assert titles == [md(text) for text in texts]
    assert excerpts == [md(text[::-1]) for text in texts]

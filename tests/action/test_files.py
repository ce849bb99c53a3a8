"""The runner's files and commands: outputs, the job summary, annotations.

The outputs are read back with the runner's rules (`harness.parse_outputs`),
so a value that could end its heredoc early or start another output fails.
"""

from __future__ import annotations

import json

import pytest

from action.harness import EVENTS, parse_outputs
from changebot.action.outputs import output_lines, write_outputs
from changebot.action.summary import JobSummary, utf8_len
from changebot.action.workflow import Annotation, Commands, command, one_line
from changebot.render import JOB_SUMMARY_LIMIT


def test_multi_line_outputs_come_back_whole():
    checkpoint = "github.com/acme/infra@changebot/audit\n3\nroot=\n\n— changebot sig\n"
    tricky = "a\nEOF\npulls=1,2\nghadelimiter_0\n"

    text = output_lines({"checkpoint": checkpoint, "tricky": tricky, "pulls": "1,2"})

    assert parse_outputs(text) == {
        "checkpoint": checkpoint,
        "tricky": tricky,
        "pulls": "1,2",
    }


def test_each_multi_line_output_gets_its_own_random_delimiter(tmp_path):
    path = tmp_path / "output"
    write_outputs(path, {"a": "1\n2"})
    write_outputs(path, {"b": "3\n4"})

    lines = path.read_text().splitlines()
    assert lines[0].startswith("a<<ghadelimiter_")
    assert lines[4].startswith("b<<ghadelimiter_")
    assert lines[0].split("<<")[1] != lines[4].split("<<")[1]
    assert parse_outputs(path.read_text()) == {"a": "1\n2", "b": "3\n4"}


def test_an_output_name_cannot_carry_syntax():
    with pytest.raises(ValueError, match="not an output name"):
        output_lines({"a=b": "c"})


def test_command_values_are_escaped_by_the_runners_rules():
    annotation = Annotation(
        "error",
        "100% wrong\r\nline two",
        title="a: b, c",
        file="dir/.changebot.yml",
        line=4,
    )

    assert annotation.line_text() == (
        "::error file=dir/.changebot.yml,line=4,title=a%3A b%2C c"
        "::100%25 wrong%0D%0Aline two"
    )
    assert command("warning", "::set-output name=x::y") == (
        "::warning::::set-output name=x::y"
    )


def test_a_secret_is_masked_once_and_line_by_line():
    lines: list[str] = []
    commands = Commands(lines.append)

    commands.mask("first\nsecond")
    commands.mask("first")

    assert lines == ["::add-mask::first", "::add-mask::second"]


def test_a_log_line_cannot_start_a_command():
    assert one_line("title\n::error::pwned") == "title\\n::error::pwned"


def test_the_job_summary_cuts_whole_items_to_stay_within_one_mebibyte():
    summary = JobSummary()
    summary.add("## changebot: audit log verification")
    items = [
        f"- entry {i}: signature does not verify " + "é" * 200 for i in range(5000)
    ]

    summary.add_list("Findings:", items)

    text = summary.text()
    assert JOB_SUMMARY_LIMIT - 1024 < utf8_len(text) <= JOB_SUMMARY_LIMIT
    listed = [line for line in text.splitlines() if line.startswith("- entry")]
    assert listed == items[: len(listed)]
    assert text.rstrip().endswith(f"and {len(items) - len(listed)} more")


def test_a_section_too_long_for_the_rest_is_cut_by_whole_lines():
    summary = JobSummary(limit=200)
    summary.add("a" * 50)

    summary.add("\n".join(f"line {i:03}" for i in range(100)))

    text = summary.text()
    assert utf8_len(text) <= 200
    assert "line 000" in text
    assert "line 099" not in text
    assert "cut to fit" in text


@pytest.mark.parametrize(
    "path",
    [p for p in sorted(EVENTS.glob("*.json")) if "." in p.stem],
    ids=lambda p: p.stem,
)
def test_the_event_files_are_payloads_github_sends(openapi, path):
    event_name = path.stem.split(".")[0]

    openapi.validate_webhook(event_name, json.loads(path.read_text()))

"""Which lines of a comment are `/changebot` commands."""

from __future__ import annotations

from changebot.commands import misuse, parse, word_count


def verbs(body: str) -> list[tuple[str, str]]:
    return [(c.verb, c.args) for c in parse(body)]


def test_a_command_is_a_line_of_its_own() -> None:
    assert verbs("/changebot status") == [("status", "")]
    assert verbs("thanks!\n/changebot recheck\n") == [("recheck", "")]
    assert verbs("please run /changebot status") == []
    assert verbs("/changebotstatus") == []


def test_verbs_are_case_insensitive_and_keep_their_arguments() -> None:
    body = "/ChangeBot OVERRIDE  Prod is down, INC-42 needs this now  "
    assert verbs(body) == [("override", "Prod is down, INC-42 needs this now")]


def test_several_commands_run_in_the_order_written() -> None:
    body = "/changebot rationale fixes the DNS\n\n/changebot recheck\n/changebot help"
    assert [c.verb for c in parse(body)] == ["rationale", "recheck", "help"]
    assert [c.line for c in parse(body)] == [1, 3, 4]


def test_quoted_lines_are_not_commands() -> None:
    body = "> /changebot override because\n\nI would not do that."
    assert verbs(body) == []
    assert verbs(">/changebot status") == []
    assert verbs("   > > /changebot status") == []


def test_a_line_continuing_a_quote_is_quoted_too() -> None:
    assert verbs("> earlier words\n/changebot override now") == []
    assert verbs("> earlier words\n\n/changebot status") == [("status", "")]


def test_fenced_code_is_not_a_command() -> None:
    body = "try:\n```\n/changebot override x\n```\n~~~~sh\n/changebot verify\n~~~\n~~~~"
    assert verbs(body) == []
    assert verbs("```\n/changebot status\n```\n/changebot help") == [("help", "")]


def test_a_fence_closes_only_with_as_long_a_run_of_its_character() -> None:
    body = "````\n```\n/changebot status\n~~~~\n````\n/changebot recheck"
    assert verbs(body) == [("recheck", "")]


def test_indented_code_and_html_comments_are_not_commands() -> None:
    assert verbs("text\n\n    /changebot status") == []
    assert verbs("\t/changebot status") == []
    assert verbs("<!--\n/changebot override hidden\n-->\n/changebot help") == [
        ("help", "")
    ]
    assert verbs("<!-- /changebot status -->") == []


def test_up_to_three_spaces_of_indent_still_make_a_command() -> None:
    assert verbs("   /changebot status") == [("status", "")]


def test_a_long_text_runs_until_the_next_command() -> None:
    body = (
        "/changebot rationale\n## Why\nThe cache is cold.\n## Risk\nLow.\n"
        "/changebot recheck\n"
    )
    rationale, recheck = parse(body)
    assert rationale.text == "## Why\nThe cache is cold.\n## Risk\nLow."
    assert recheck.text == ""


def test_crlf_bodies_parse_like_lf_bodies() -> None:
    assert verbs("hi\r\n/changebot status\r\n") == [("status", "")]


def test_misuse_tells_unknown_verbs_and_bad_arguments_apart() -> None:
    [unknown, bare, empty, extra, fine] = parse(
        "/changebot deploy\n/changebot\n/changebot override\n"
        "/changebot status now\n/changebot override the pager is on fire"
    )
    assert misuse(unknown) == "unknown"
    assert misuse(bare) == "unknown"
    assert misuse(empty) == "missing-text"
    assert misuse(extra) == "unexpected-args"
    assert misuse(fine) is None


def test_words_are_counted_without_markdown_marks() -> None:
    assert word_count("**Prod** is down - see INC-42 !") == 5
    assert word_count("- - - ***") == 0

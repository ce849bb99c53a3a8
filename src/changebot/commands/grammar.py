"""Find `/changebot <verb> [args]` lines in a comment, as GitHub would show them.

A command is a line of its own that starts with `/changebot` (at most three
spaces in, as Markdown allows before a paragraph). Lines that GitHub renders
as something other than plain text are never commands: quotes (`>`) and the
lazy lines that continue them, fenced and indented code blocks, raw HTML
blocks shown as code (`<pre>`) or not at all (`<script>`, `<style>`,
`<textarea>`), and HTML comments, which a reader does not see at all.

See: https://spec.commonmark.org/0.31.2/#fenced-code-blocks
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

PREFIX = "/changebot"

_COMMAND = re.compile(r"^ {0,3}/changebot(?:[ \t]+(\S+))?(?:[ \t]+(.*?))?[ \t]*$", re.I)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_QUOTE = re.compile(r"^ {0,3}>")
_COMMENT_OPEN = re.compile(r"^ {0,3}<!--")
#: CommonMark's HTML blocks of type 1: they run until their closing tag.
#: See: https://spec.commonmark.org/0.31.2/#html-blocks
_RAW_OPEN = re.compile(r"^ {0,3}<(pre|script|style|textarea)(?=[\s>]|$)", re.I)


@dataclass(frozen=True)
class Command:
    """One command as written: its verb (lower-case), arguments and position."""

    verb: str
    args: str
    #: The lines that follow the command, up to the next one (for long texts).
    more: str = ""
    #: 1-based line of the comment the command is on.
    line: int = 1

    @property
    def text(self) -> str:
        """Return the arguments and the lines after them, as one text."""
        return "\n".join(part for part in (self.args, self.more) if part).strip()


def parse(body: str) -> list[Command]:
    """Return the commands of a comment body, in the order they were written."""
    commands: list[tuple[int, re.Match[str]]] = []
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in _plain_lines(lines):
        found = _COMMAND.match(line)
        if found:
            commands.append((number, found))
    return [_command(lines, commands, i) for i in range(len(commands))]


def mentions_command(body: str) -> bool:
    """Tell cheaply whether a body could hold a command at all."""
    return PREFIX in body.lower()


def _command(
    lines: list[str], found: list[tuple[int, re.Match[str]]], i: int
) -> Command:
    number, match = found[i]
    end = found[i + 1][0] - 1 if i + 1 < len(found) else len(lines)
    more = "\n".join(lines[number:end]).strip("\n")
    return Command(
        verb=(match.group(1) or "").lower(),
        args=(match.group(2) or "").strip(),
        more=more,
        line=number,
    )


def _plain_lines(lines: list[str]) -> Iterator[tuple[int, str]]:
    """Yield (1-based number, line) of the lines that render as plain text."""
    fence: str | None = None
    raw_end: str | None = None
    in_comment = quoted = False
    for number, raw in enumerate(lines, start=1):
        line = raw.expandtabs(4)
        if fence is not None:
            fence = None if _closes(line, fence) else fence
            continue
        if in_comment:
            in_comment = "-->" not in line
            continue
        if raw_end is None and (tag := _RAW_OPEN.match(line)):
            raw_end = f"</{tag.group(1).lower()}>"
        if raw_end is not None:
            raw_end = None if raw_end in line.lower() else raw_end
            continue

        opened = _FENCE.match(line)
        if opened and not (opened.group(1)[0] == "`" and "`" in opened.group(2)):
            fence = opened.group(1)
            continue
        if _COMMENT_OPEN.match(line):
            in_comment = "-->" not in line.split("<!--", 1)[1]
            continue

        # NOTE: a line right after a quote continues it ("lazy continuation"),
        # so GitHub shows it inside the quote; only a blank line ends one.
        blank = not line.strip()
        quoted = bool(_QUOTE.match(line)) or (quoted and not blank)
        if quoted or blank or line.startswith("    "):
            continue
        yield number, line


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    if len(line) - len(line.lstrip(" ")) > 3:
        return False
    return (
        len(stripped) >= len(fence)
        and set(stripped) == {fence[0]}
        and stripped.startswith(fence)
    )

"""Read the rationale a PR body gives: its sections, its tickets, its words.

A PR body is Markdown written into a template. What GitHub does not render
(HTML comments) is not rationale, text inside code fences is not a heading,
and a section that still says what the template said counts as missing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from changebot.policy.config import Rationale
from changebot.policy.verdict import RationaleFinding, RationaleReport

#: A ticket reference is one word; longer words are not searched, which keeps
#: the cost of a user-supplied expression linear in the size of the body.
MAX_TICKET_WORD = 200
#: Tickets are looked for in the first 64 KiB of the title and body only: with
#: at most two repetitions in the expression (`checks.regex_problem`), that
#: bounds the cost of a hostile body to about a second.
MAX_TICKET_TEXT = 64 * 1024

_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_BOLD_LINE = re.compile(r"^ {0,3}(?:\*\*|__)([^*_]+?)(?:\*\*|__)[ \t]*:?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_PUNCTUATION = " \t\n*_`:.-–—"


@dataclass(frozen=True)
class Section:
    """A heading of the body and the text under it."""

    heading: str
    level: int
    #: The text under the heading, sub-sections included.
    text: str
    #: The text under the heading before any sub-heading.
    own: str = ""


def strip_comments(markdown: str) -> str:
    """Remove HTML comments, which GitHub does not show."""
    return _COMMENT.sub("", markdown)


def sections(markdown: str, peers: Sequence[str] = ()) -> tuple[str, list[Section]]:
    """Split Markdown into the text before any heading and its sections.

    A heading named in ``peers`` always starts a new section, whatever its
    level, so that one required section never fills another.
    """
    preamble: list[str] = []
    found: list[tuple[str, int, list[str]]] = []
    lines = markdown.splitlines()
    fenced = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else _heading(line, lines, index)
        if heading == ("", 0):
            continue  # the underline of a setext heading
        if heading:
            found.append((heading[0], heading[1], []))
        else:
            (found[-1][2] if found else preamble).append(line)
    return "\n".join(preamble), _nest(found, peers)


def _heading(line: str, lines: list[str], index: int) -> tuple[str, int] | None:
    atx = _ATX.match(line)
    if atx:
        return atx.group(2).strip(), len(atx.group(1))
    bold = _BOLD_LINE.match(line)
    if bold:
        return bold.group(1).strip(), 7
    if _SETEXT.match(line) and index > 0 and lines[index - 1].strip():
        return "", 0
    following = lines[index + 1] if index + 1 < len(lines) else ""
    if line.strip() and _SETEXT.match(following) and not _is_list_item(line):
        return line.strip(), 1 if following.strip().startswith("=") else 2
    return None


def _is_list_item(line: str) -> bool:
    return bool(re.match(r"^\s*(?:[-*+]|\d+[.)])\s", line))


def _nest(
    found: list[tuple[str, int, list[str]]], peers: Sequence[str]
) -> list[Section]:
    # A section runs until the next heading of the same or a higher level,
    # so sub-headings and their text belong to it.
    out = []
    for i, (heading, level, _) in enumerate(found):
        body: list[str] = list(found[i][2])
        for later, later_level, text in found[i + 1 :]:
            if later_level <= level or any(_same_heading(later, p) for p in peers):
                break
            body += [later, *text]
        own = "\n".join(found[i][2]).strip()
        out.append(Section(heading, level, "\n".join(body).strip(), own))
    return out


def words(text: str) -> int:
    """Count the words of ``text``."""
    return len(_WORD.findall(text))


def tickets(text: str, pattern: str) -> tuple[str, ...]:
    """Return the distinct ticket references in ``text``, in order."""
    expression = re.compile(pattern)
    seen: dict[str, None] = {}
    for word in text[:MAX_TICKET_TEXT].split():
        if len(word) <= MAX_TICKET_WORD:
            for match in expression.finditer(word):
                seen.setdefault(match.group(), None)
    return tuple(seen)


def judge(
    title: str, body: str, extra: str | None, rules: Rationale
) -> RationaleReport:
    """Measure a PR's rationale (body plus any given by command) against rules."""
    body = strip_comments(body or "")
    extra = strip_comments(extra or "").strip()
    filled, findings = _fill_sections(body, extra, rules)
    text = "\n\n".join(t for t in (body.strip(), extra) if t)
    counted = _counted_words(body, rules) + words(extra)
    found = tickets(f"{title}\n{text}", rules.ticket) if rules.ticket else ()
    if rules.ticket and rules.ticket_required and not found:
        findings.append(
            RationaleFinding("ticket", "no ticket reference in the title or body")
        )
    if counted < rules.min_words:
        findings.append(
            RationaleFinding(
                "words",
                f"the rationale has {counted} words; at least {rules.min_words} needed",
            )
        )
    return RationaleReport(True, tuple(findings), filled, found, counted, text)


def _fill_sections(
    body: str, extra: str, rules: Rationale
) -> tuple[dict[str, str], list[RationaleFinding]]:
    _, in_body = sections(body, rules.sections)
    extra_preamble, in_extra = sections(extra, rules.sections)
    filled: dict[str, str] = {}
    findings = []
    for name in rules.sections:
        text, problem = _section_text(name, in_body + in_extra, rules)
        if problem and extra_preamble.strip() and not in_extra:
            # A rationale given by command without headings answers every
            # section the body left open.
            text, problem = extra_preamble.strip(), None
        if problem:
            findings.append(RationaleFinding(problem[0], problem[1], name))
        else:
            filled[name] = text
    return filled, findings


def _section_text(
    name: str, found: list[Section], rules: Rationale
) -> tuple[str, tuple[str, str] | None]:
    candidates = [s for s in found if _same_heading(s.heading, name)]
    if not candidates:
        return "", ("missing", f"the “{name}” section is missing")
    usable = [s for s in candidates if s.text and not _placeholder(s.text, rules)]
    if usable:
        return usable[-1].text, None
    if any(s.text for s in candidates):
        return "", (
            "placeholder",
            f"the “{name}” section still has the template's text",
        )
    return "", ("empty", f"the “{name}” section is empty")


def _same_heading(heading: str, name: str) -> bool:
    heading, name = _normal(heading), _normal(name)
    return heading == name or heading.startswith(name + " ")


def _placeholder(text: str, rules: Rationale) -> bool:
    normal = _normal(text)
    return not normal or any(normal == _normal(p) for p in rules.placeholders)


def _normal(text: str) -> str:
    collapsed = " ".join(text.split()).strip(_PUNCTUATION)
    return collapsed.replace("*", "").replace("_", "").lower()


def _counted_words(body: str, rules: Rationale) -> int:
    preamble, found = sections(body)
    counted = [s.own for s in found if not _placeholder(s.own, rules)]
    return words(preamble) + sum(words(text) for text in counted)

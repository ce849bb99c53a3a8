"""Every text a person reads, rendered from the Jinja2 templates in `templates/`.

There is one environment. Markdown and Slack templates are not escaped
automatically (their syntax is not HTML), so text that came from a user goes
through a filter: `md` for GitHub Markdown, `mrkdwn` for Slack. HTML
templates are autoescaped.

Size limits are GitHub's and Slack's: `fit` keeps a list of rendered items
within one by dropping whole items and saying how many were left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from changebot.ports import CheckReport

if TYPE_CHECKING:
    from changebot.policy.verdict import Verdict

#: See: https://docs.github.com/en/rest/checks/runs#create-a-check-run
CHECK_SUMMARY_LIMIT = 65_535
CHECK_TEXT_LIMIT = 65_535
CHECK_TITLE_LIMIT = 255
#: See: https://docs.github.com/en/rest/issues/comments#create-an-issue-comment
COMMENT_LIMIT = 65_536
#: See: https://docs.github.com/en/actions/using-workflows/workflow-commands-for-github-actions#adding-a-job-summary
JOB_SUMMARY_LIMIT = 1024 * 1024

#: What `md` puts for each character it escapes, in this order: the backslash
#: first, as every later escape adds one.
_MD_ESCAPES = (
    ("\\", "\\\\"),
    ("&", "&amp;"),
    ("<", "&lt;"),
    (">", "&gt;"),
    *((c, "\\" + c) for c in "`*_{}[]()#+-.!|~=:"),
)
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
#: A link scheme, and `www`, as the last word before an (escaped) `:` or `.`.
_SCHEME = re.compile(r"(?i)\b(?:https?|ftp|mailto|javascript|data)\Z")
_WWW = re.compile(r"(?i)\bwww\Z")
_WORD_JOINER = "\u2060"
#: Characters that reorder text or hide in it: bidi controls (Trojan Source)
#: and zero-width marks. A reader sees them as ``‹U+202E›``.
#: See: https://trojansource.codes/
_HIDDEN = "\u061c\u200b-\u200f\u202a-\u202e\u2061-\u2064\u2066-\u2069\ufeff"
_INVISIBLE = re.compile(f"[{_HIDDEN}\u2060]")
#: As above, but the word joiner stays: `md` and `mrkdwn` insert it on purpose.
_INVISIBLE_BUT_JOINER = re.compile(f"[{_HIDDEN}]")


def templates_dir() -> Path:
    """Return the templates: packaged in a wheel, or the repository's own."""
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


@cache
def environment() -> Environment:
    """Return the one Jinja2 environment, with changebot's filters."""
    env = Environment(
        loader=FileSystemLoader(templates_dir()),
        autoescape=select_autoescape(["html", "htm", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_shown,
        # NOTE: templates ship with the code and never change under a running
        # process; reloading would look at each file's time on every render.
        auto_reload=False,
    )
    env.filters["md"] = md
    env.filters["commas"] = commas
    env.filters["mrkdwn"] = mrkdwn
    env.globals["fit"] = fit
    return env


def render(name: str, **context: Any) -> str:
    """Render the template ``name`` (a path under `templates/`) with ``context``."""
    return environment().get_template(name).render(**context)


def commas(items: Iterable[object]) -> str:
    """Join ``items`` with commas, as Jinja's `join` does, at a third of its cost.

    Deployment summaries join the approvers and areas of thousands of PRs.
    Not for HTML templates: it does not escape.
    """
    return ", ".join(map(str, items))


# --- escaping user text -----------------------------------------------------


def visible(text: str) -> str:
    """Show each character that reorders or hides text as ``‹U+XXXX›``."""
    # NOTE: every such character is outside ASCII, and CPython knows in
    # constant time that a string is all ASCII: most text skips the search.
    if text.isascii():
        return text
    return _INVISIBLE.sub(_codepoint, text)


def _codepoint(match: re.Match[str]) -> str:
    return _label(match.group())


def _label(char: str) -> str:
    return f"\u2039U+{ord(char):04X}\u203a"


def _shown(value: object) -> object:
    """Neutralise hidden characters in every value a template outputs."""
    if isinstance(value, str) and value.isascii():
        return value
    if isinstance(value, Markup):
        # NOTE: Markup.replace escapes its argument, so escaped HTML stays so.
        for char in set(_INVISIBLE_BUT_JOINER.findall(value)):
            value = value.replace(char, _label(char))
        return value
    if isinstance(value, str):
        return _INVISIBLE_BUT_JOINER.sub(_codepoint, value)
    return value


def md(text: object) -> str:
    """Escape user text for GitHub Markdown so it renders as the text it is.

    No HTML, no @mentions, no links or images, no headings, lists, tables or
    code blocks: every Markdown punctuation mark is backslash-escaped, `<`,
    `>` and `&` become entities, and a word joiner breaks `@name`,
    `scheme:` and `www.` so that GitHub does not link them.
    """
    if text is None:
        return ""
    value = visible(str(text))
    for char, escaped in _MD_ESCAPES:
        if char in value:
            value = value.replace(char, escaped)
    if "@" in value:
        value = _MENTION.sub("@" + _WORD_JOINER, value)
    value = _joined_before(value, "\\:", _SCHEME)
    value = _joined_before(value, "\\.", _WWW)
    # Leading spaces would make an indented code block.
    if "\n" not in value:
        return value.lstrip()
    return "\n".join(line.lstrip() for line in value.split("\n"))


def _joined_before(value: str, mark: str, word: re.Pattern[str]) -> str:
    """Put a word joiner between ``word`` and each ``mark`` right after it."""
    # NOTE: looked for at each mark, in the few characters before it, rather
    # than at every position of the text (a third of the cost of `md`). No
    # word matched is longer than ten characters; one more shows whether a
    # word starts there.
    parts = value.split(mark)
    for i in range(len(parts) - 1):
        if word.search(parts[i][-11:]):
            parts[i] += _WORD_JOINER
    return mark.join(parts)


def mrkdwn(text: object) -> str:
    """Escape user text for Slack mrkdwn: no mentions, links or broadcasts.

    See: https://api.slack.com/reference/surfaces/formatting#escaping
    """
    if text is None:
        return ""
    value = visible(str(text))
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MENTION.sub("@" + _WORD_JOINER, value)


#: A link target that every output can carry as it is: http(s), and none of
#: the characters that end a Markdown link or a Slack one (`)`, `>`, `|`),
#: start another (`<`, `(`), or break it (spaces, quotes, backticks).
_LINK = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%]+")


def link(url: object) -> str | None:
    """Return ``url`` when outputs may link to it as it is; None to show no link.

    Link targets come from audit entries and deployment statuses, which
    whoever can write those may fill: a target that would break out of its
    link is dropped, and the text it would have linked shows unlinked.
    """
    if isinstance(url, str) and _LINK.fullmatch(url):
        return url
    return None


# --- size limits ------------------------------------------------------------


def fit(
    items: Sequence[str],
    limit: int,
    *,
    sep: str = "\n",
    more: Callable[[int], str] | None = None,
    size: Callable[[str], int] = len,
) -> str:
    """Join ``items`` within ``limit``, dropping whole items from the end.

    When items are dropped, the result ends with "and N more" (or what
    ``more(n)`` says), and the whole still fits. ``size`` measures text:
    characters by default; pass a byte count for byte limits.
    """
    whole = sep.join(items)
    if size(whole) <= limit:
        return whole
    say_more = more or _and_more
    kept: list[str] = []
    used = 0
    for index, item in enumerate(items):
        cost = size(item) + (size(sep) if kept else 0)
        tail = say_more(len(items) - index)
        if used + cost + size(sep) + size(tail) > limit:
            break
        kept.append(item)
        used += cost
    tail = say_more(len(items) - len(kept))
    return sep.join([*kept, tail]) if size(tail) <= limit else ""


def _and_more(count: int) -> str:
    return render("common/more.txt", count=count).strip()


def cut(text: str, limit: int) -> str:
    """Shorten ``text`` to ``limit`` characters, ending with an ellipsis if cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


# --- the check run ----------------------------------------------------------


def render_check(verdict: Verdict) -> CheckReport:
    """Render a verdict as the `changebot` check run that explains itself.

    A pending verdict (waiting for reviewers) leaves the run in progress, so
    that a required check holds the merge button without failing the PR.
    """
    title = " ".join(render("check/title.txt", v=verdict).split())
    problems = [
        render("check/problem.md", problem=p).strip() for p in verdict.config_problems
    ]
    files = [
        render("check/file.md", area=area, file=file).strip()
        for area in verdict.areas
        for file in area.files
    ]
    conclusion = verdict.conclusion
    return CheckReport(
        head_sha=verdict.head_sha,
        status="in_progress" if conclusion == "pending" else "completed",
        conclusion=None if conclusion == "pending" else conclusion,
        title=cut(title, CHECK_TITLE_LIMIT),
        summary=_with_list("check/summary.md", verdict, "problems", problems),
        text=_with_list("check/text.md", verdict, "files", files),
    )


def _with_list(name: str, verdict: Verdict, key: str, items: list[str]) -> str:
    # Render the frame without the long list to learn how much room is left.
    limit = CHECK_SUMMARY_LIMIT
    frame = render(name, v=verdict, **{key: ""})
    listed = fit(items, limit - len(frame)) if len(frame) < limit else ""
    return cut_lines(render(name, v=verdict, **{key: listed}), limit)


def cut_lines(text: str, limit: int) -> str:
    """Keep the whole lines of ``text`` that fit in ``limit`` characters."""
    if len(text) <= limit:
        return text
    kept = text[: max(limit - 2, 0)].rsplit("\n", 1)[0]
    return f"{kept}\n…"

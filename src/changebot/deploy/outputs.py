"""A deployment summary in each place it goes, each within that place's limit.

Lists are cut by whole items and end with "and N more" plus the compare
link; only a single item longer than a whole block is cut inside.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from changebot.deploy.gate import GateDecision, GatePolicy
from changebot.deploy.summary import Side, Summary
from changebot.render import md, render

#: Slack: https://api.slack.com/reference/block-kit/blocks
SLACK_BLOCKS = 50
SLACK_SECTION = 3_000
SLACK_HEADER = 150
SLACK_FALLBACK = 3_000
#: Slack cuts a message's text at 40,000 characters; keep the blocks within it.
SLACK_TOTAL = 40_000
#: GitHub: deployment status description, job summary, PR comment.
STATUS_DESCRIPTION = 140
JOB_SUMMARY_BYTES = 1024 * 1024
COMMENT_CHARS = 65_536
UNRECORDED_SHOWN = 40
#: Separates the items of a list rendered in one go (see `rendered_items`).
SEP = "\x1e"


@dataclass(frozen=True)
class PullComment:
    """The comment one PR gets about one environment, found again by marker."""

    number: int
    marker: str
    body: str


def marker_for(environment: str) -> str:
    """Return the hidden marker of the deployment comment for ``environment``."""
    return f"<!-- changebot:deployment:{environment} -->"


# --- Slack ------------------------------------------------------------------


def slack_message(summary: Summary) -> tuple[str, list[dict[str, Any]]]:
    """Return the plain-text fallback and the Block Kit blocks of a summary."""
    fallback = render("slack/deployment_fallback.txt", s=summary).strip()
    header = render("slack/deployment_header.txt", s=summary).strip()
    intro = render("slack/deployment_intro.mrkdwn", s=summary).strip()
    blocks = [_header(header), _section(intro)]

    unrecorded = _unrecorded_section(summary)
    reserved = len(blocks) + len(unrecorded) + 1  # the last one: "and N more"
    # NOTE: rendered lazily: only what fits in a message is ever rendered.
    items = _slack_items(summary)
    room = min(SLACK_BLOCKS - reserved, SLACK_TOTAL // SLACK_SECTION)
    sections, omitted = pack(items, SLACK_SECTION, room, total=_count(summary))

    blocks += [_section(text) for text in sections] + unrecorded
    if omitted:
        more = render(
            "slack/more.mrkdwn", omitted=omitted, compare_url=summary.compare_url
        )
        blocks.append(_section(more.strip()))
    return _cut(fallback, SLACK_FALLBACK), blocks


def _header(text: str) -> dict[str, Any]:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": _cut(text, SLACK_HEADER)},
    }


def _section(text: str) -> dict[str, Any]:
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _cut(text, SLACK_SECTION)},
    }


def _unrecorded_section(summary: Summary) -> list[dict[str, Any]]:
    shas = summary.unrecorded
    if not shas:
        return []
    shown = shas[:UNRECORDED_SHOWN]
    text = render(
        "slack/unrecorded.mrkdwn",
        shas=shown,
        total=len(shas),
        omitted=len(shas) - len(shown),
    )
    return [_section(text.strip())]


# --- GitHub -----------------------------------------------------------------


def status_description(summary: Summary) -> str:
    """Return the deployment status description (140 characters at most)."""
    return _cut(render("deploy/status.txt", s=summary).strip(), STATUS_DESCRIPTION)


def pull_comments(summary: Summary) -> list[PullComment]:
    """Return the comment for each PR the deployment adds or removes."""
    marker = marker_for(summary.environment)
    comments = []
    for direction, side in _sides(summary):
        for pull in side.pulls:
            body = render(
                "deploy/pull_comment.md", s=summary, direction=direction, marker=marker
            )
            comments.append(
                PullComment(pull.number, marker, _cut(body.strip(), COMMENT_CHARS))
            )
    return comments


def job_summary(summary: Summary) -> str:
    """Return the Markdown job summary of the Action (1 MiB at most)."""
    head = render("deploy/summary.md", s=summary)
    # NOTE: one render for every item: a job summary shows nearly all of them.
    items = rendered_items(
        "deploy/items.md",
        _count(summary) + len(summary.unrecorded),
        s=summary,
        sides=list(_sides(summary)),
        md_of=_Escapes(_distinct_texts(summary)),
    )

    more = _more_markdown(10**9, summary)
    budget = JOB_SUMMARY_BYTES - _utf8_len(head) - _utf8_len(more) - 1
    kept, omitted = pack(items, budget, 1, size=_utf8_len)
    text = head + "".join(chunk + "\n" for chunk in kept)
    return text + (_more_markdown(omitted, summary) if omitted else "")


class _Escapes(dict[str, str]):
    """The `md` filter as a mapping, that escapes each text once.

    Templates read it as ``md_of[text]``: a lookup in a dict costs Jinja
    less than a call, and one summary repeats the same few authors, areas
    and refs. ``texts`` are escaped ahead, all in one call of `md`.
    """

    def __init__(self, texts: Sequence[str] = ()) -> None:
        super().__init__(zip(texts, _escaped_together(texts), strict=True))

    def __missing__(self, text: object) -> str:
        found = md(text)
        # NOTE: texts only, so that True (== 1) never reads as "1".
        if type(text) is str:
            self[text] = found
        return found


#: Joins the texts `md` escapes in one call: NUL ends each, and each starts a line.
_TOGETHER = "\x00\n"


def _escaped_together(texts: Sequence[str]) -> list[str]:
    """Return ``texts`` each as `md` escapes it, escaped in one call if they can be.

    `md` escapes character by character and strips the start of each line,
    so a text that starts a line of its own and holds no NUL comes out of one
    call over all of them as it would alone, at a third of the cost of
    thousands of calls. Any text with a NUL sends them one by one.
    """
    joined = _TOGETHER.join(texts)
    if joined.count("\x00") == len(texts) - 1:
        found = md(joined).split(_TOGETHER)
        if len(found) == len(texts):
            return found
    return [md(text) for text in texts]


def _distinct_texts(summary: Summary) -> list[str]:
    """Return the texts of a summary that differ from PR to PR: titles, excerpts."""
    pulls = [pull for _, side in _sides(summary) for pull in side.pulls]
    texts = dict.fromkeys(pull.title for pull in pulls)
    texts.update(dict.fromkeys(pull.excerpt for pull in pulls))
    return [text for text in texts if type(text) is str]


def _more_markdown(omitted: int, summary: Summary) -> str:
    return render("deploy/more.md", omitted=omitted, compare_url=summary.compare_url)


def gate_reason(summary: Summary, decision: GateDecision, policy: GatePolicy) -> str:
    """Return the words the gate posts back with its answer."""
    text = render("deploy/gate.md", s=summary, d=decision, p=policy).strip()
    return _cut(text, COMMENT_CHARS)


# --- fitting ------------------------------------------------------------------


def pack(
    items: Iterable[str],
    limit: int,
    chunks: int,
    *,
    total: int | None = None,
    size: Callable[[str], int] = len,
    separator: str = "\n",
) -> tuple[list[str], int]:
    """Pack whole items into at most ``chunks`` texts of at most ``limit`` each.

    Return the texts and the number of items left out. An item longer than
    ``limit`` on its own is cut to fit. ``items`` may be lazy: it is read only
    as far as the room goes, and ``total`` says how many it holds.
    """
    if total is None:
        items = list(items)
        total = len(items)
    packed: list[str] = []
    current: list[str] = []
    used = 0
    between = size(separator)
    for count, item in enumerate(items):
        length = size(item)
        if length > limit:
            item = _cut(item, limit)
            length = size(item)
        extra = length + (between if current else 0)
        if current and used + extra > limit:
            packed.append(separator.join(current))
            current, used = [], 0
            extra = length
        if len(packed) == chunks:
            return packed, total - count
        current.append(item)
        used += extra
    if current:
        packed.append(separator.join(current))
    return packed, 0


def _slack_items(summary: Summary) -> Iterator[str]:
    """Yield the Slack text of each PR and push, rendered a run at a time."""
    # NOTE: a message holds a few hundred items of thousands; a render per
    # run, not per item, spares Jinja a context for each.
    for direction, side in _sides(summary):
        listed: tuple[tuple[str, Sequence[object]], ...] = (
            ("pulls", side.pulls),
            ("pushes", side.pushes),
        )
        for kind, items in listed:
            for start in range(0, len(items), _RUN):
                run = {kind: items[start : start + _RUN]}
                yield from rendered_items(
                    "slack/items.mrkdwn", len(run[kind]), direction=direction, **run
                )


#: How many items `_slack_items` renders at once.
_RUN = 32


def rendered_items(name: str, count: int, **context: Any) -> list[str]:
    """Render a template that writes ``count`` items, each ending with ``sep``.

    Return the items, stripped. The separator is a control character that
    no summary writes; a user's text that holds it anyway gets a render
    with a random separator instead, so that no text can split an item.
    """
    for sep in (SEP, f"\x1e{secrets.token_hex(16)}\x1e"):
        parts = render(name, sep=sep, **context).split(sep)
        if len(parts) == count + 1:
            break
    return [part.strip() for part in parts[:-1]]


def _count(summary: Summary) -> int:
    return sum(len(side.pulls) + len(side.pushes) for _, side in _sides(summary))


def _sides(summary: Summary) -> Iterator[tuple[str, Side]]:
    yield "added", summary.added
    yield "removed", summary.removed


def _utf8_len(text: str) -> int:
    return len(text.encode())


def _cut(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters at a space, keeping its line breaks."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"

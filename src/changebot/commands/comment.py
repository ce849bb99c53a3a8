"""Which `issue_comment` deliveries may carry commands, and who wrote them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from changebot.commands.grammar import mentions_command

Ignored = Literal["not-created", "bot", "not-a-pull", "no-command", "malformed"]


@dataclass(frozen=True)
class CommandComment:
    """A new comment on a pull request, written by a person."""

    repo: str
    number: int
    comment_id: int
    login: str
    body: str
    #: The PR's author (the issue's user).
    author: str | None
    url: str | None = None
    merged: bool = False
    open: bool = True


def read_comment(payload: Mapping[str, Any]) -> CommandComment | Ignored:
    """Return the comment of a delivery, or why it can run no command."""
    comment = payload.get("comment") or {}
    issue = payload.get("issue") or {}
    user = comment.get("user") or {}
    if payload.get("action") != "created":
        return "not-created"
    if is_bot(user):
        return "bot"
    if not issue.get("pull_request"):
        return "not-a-pull"
    if not mentions_command(str(comment.get("body") or "")):
        return "no-command"
    try:
        return _comment(payload, comment, issue, user)
    except (KeyError, TypeError, ValueError):
        return "malformed"


def is_bot(user: Mapping[str, Any]) -> bool:
    """Tell whether a GitHub user is a bot (an App, changebot included)."""
    login = str(user.get("login") or "")
    return user.get("type") == "Bot" or login.lower().endswith("[bot]")


def _comment(
    payload: Mapping[str, Any],
    comment: Mapping[str, Any],
    issue: Mapping[str, Any],
    user: Mapping[str, Any],
) -> CommandComment:
    author = (issue.get("user") or {}).get("login")
    return CommandComment(
        repo=str(payload["repository"]["full_name"]),
        number=int(issue["number"]),
        comment_id=int(comment["id"]),
        login=str(user["login"]),
        body=str(comment["body"]),
        author=str(author) if author else None,
        url=comment.get("html_url"),
        merged=bool((issue.get("pull_request") or {}).get("merged_at")),
        open=issue.get("state", "open") == "open",
    )

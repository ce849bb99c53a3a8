"""record_access: who changed branch protection or repository membership."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from changebot import metrics
from changebot.audit.log import Appended
from changebot.flows.context import Context
from changebot.ports import Notice
from changebot.render import render

log = logging.getLogger(__name__)


def record_access(
    ctx: Context, event: str, guid: str, payload: Mapping[str, Any]
) -> Appended:
    """Append an `access` entry for a branch_protection_rule or member event."""
    repo = str(payload["repository"]["full_name"])
    fields = {
        "event": event,
        "action": payload.get("action"),
        "actor": (payload.get("sender") or {}).get("login"),
        "details": _details(event, payload),
    }
    audit = ctx.audit(repo, ctx.lenient_policy(repo, _default_branch(payload)))
    # NOTE: a redelivery keeps its delivery id, so the id makes the key.
    entry = audit.append("access", repo, fields, f"access:{repo}:{guid}")
    if entry.created:
        metrics.audit_appended("access")
    # NOTE: sent on every run; the notifier sends each key once.
    ctx.notifier.send(
        Notice(
            kind="access",
            key=f"access:{guid}",
            repo=repo,
            title=render("pr/access_title.txt", repo=repo, access=fields).strip(),
            text=render("pr/access.md", repo=repo, access=fields, entry=entry),
        )
    )
    log.info(
        "access change recorded",
        extra={"repo": repo, "event": event, "index": entry.index},
    )
    return entry


def _details(event: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    if event == "member":
        member = payload.get("member") or {}
        return {"member": member.get("login"), "changes": payload.get("changes") or {}}
    rule = payload.get("rule") or {}
    return {
        "rule": rule.get("name"),
        "settings": {k: v for k, v in rule.items() if k not in ("id", "repository_id")},
        "changes": payload.get("changes") or {},
    }


def _default_branch(payload: Mapping[str, Any]) -> str:
    return str(payload["repository"].get("default_branch") or "main")

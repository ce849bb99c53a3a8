"""bootstrap: give each repository of a new installation its audit branch."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from changebot.flows.context import Context

log = logging.getLogger(__name__)


def installed_repos(event: str, payload: Mapping[str, Any]) -> list[str]:
    """Return the repositories an installation event brings under changebot."""
    key = "repositories" if event == "installation" else "repositories_added"
    return [str(item["full_name"]) for item in payload.get(key) or []]


def bootstrap(ctx: Context, repos: list[str]) -> list[str]:
    """Create the audit branch of each repo that has none; return those created."""
    created = []
    for repo in repos:
        branch = ctx.forge.default_branch(repo)
        audit = ctx.audit(repo, ctx.lenient_policy(repo, branch))
        if audit.bootstrap([audit.signer.public]):
            created.append(repo)
            log.info("audit branch created", extra={"repo": repo})
    return created

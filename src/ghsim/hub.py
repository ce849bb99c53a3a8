"""The simulated GitHub as the handlers see it: state, App, webhooks, faults."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from ghsim import shapes
from ghsim.auth import APP_EVENTS, APP_PERMISSIONS, AppIdentity, Installation
from ghsim.faults import Faults
from ghsim.routing import Actor, ApiError, Call, not_found
from ghsim.state import Account, Repo, World, rank, stamp
from ghsim.webhooks import Webhooks

log = logging.getLogger(__name__)

RATE_LIMIT = 5000


class Hub:
    """Everything one simulated GitHub knows, shared by every handler."""

    def __init__(
        self,
        root: Path,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        token_ttl: int = 3600,
        synchronous_webhooks: bool = True,
    ) -> None:
        self.root = root
        self.world = World(root)
        self.app = AppIdentity(root, webhook_secret, token_ttl)
        self.world.account(self.app.bot_login, "Bot")
        self.hooks = Webhooks(
            self.app.webhook_secret, webhook_url, synchronous_webhooks
        )
        self.faults = Faults()
        self.base_url = ""
        self.manifest_codes: set[str] = set()
        self._calls: dict[str, int] = {}
        self._window = int(time.time()) + 3600
        self._rate_lock = threading.Lock()

    # --- accounts ------------------------------------------------------------

    def account(self, login: str, kind: str = "User") -> Account:
        """Return an account, creating it (and installing the App on it) if new."""
        with self.world.lock:
            known = self.world.find_account(login)
            account = known or self.world.account(login, kind)
        if known is None and kind == "Organization":
            self.install(account)
        return account

    def install(self, account: Account) -> Installation:
        """Install the App on an account (all repositories), telling the webhook."""
        installation, new = self.app.install(account.login, self.world.new_id())
        if new:
            self.event(
                "installation",
                {
                    "action": "created",
                    "installation": self.installation_shape(installation),
                    "repositories": [],
                    "requester": None,
                    "sender": shapes.user(self.base_url, account),
                },
            )
        return installation

    def installation_for(self, owner: str) -> Installation:
        """Return the installation on the account that owns a repository."""
        return self.install(self.account(owner))

    def installation_shape(self, installation: Installation) -> dict[str, Any]:
        """Return an installation as the REST API shows it."""
        account = self.world.account(installation.account)
        base = self.base_url
        app_api = f"{base}/app/installations/{installation.id}"
        return {
            "id": installation.id,
            "account": shapes.user(base, account),
            "app_id": self.app.id,
            "app_slug": self.app.slug,
            "client_id": self.app.client_id,
            "target_id": account.id,
            "target_type": account.type,
            "repository_selection": "all",
            "access_tokens_url": f"{app_api}/access_tokens",
            "repositories_url": f"{base}/installation/repositories",
            "html_url": f"{base}/settings/installations/{installation.id}",
            "permissions": dict(APP_PERMISSIONS),
            "events": list(APP_EVENTS),
            "created_at": stamp(installation.created_at),
            "updated_at": stamp(installation.created_at),
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": None,
        }

    def app_shape(self) -> dict[str, Any]:
        """Return the App as `GET /app` shows it."""
        owner = self.world.account("ghsim", "Organization")
        return {
            "id": self.app.id,
            "slug": self.app.slug,
            "client_id": self.app.client_id,
            "node_id": shapes.node_id("Integration", self.app.id),
            "owner": shapes.user(self.base_url, owner),
            "name": "changebot (simulated)",
            "description": "The App of the GitHub simulator.",
            "external_url": f"{self.base_url}/",
            "html_url": f"{self.base_url}/apps/{self.app.slug}",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "permissions": dict(APP_PERMISSIONS),
            "events": list(APP_EVENTS),
            "installations_count": len(self.app.installations),
        }

    # --- repositories --------------------------------------------------------

    def repo(self, call: Call, owner: str, name: str, need: str = "read") -> Repo:
        """Return a repository the caller may use at level ``need``, or 404/403."""
        repo = self.world.repo(owner, name)
        if repo is None:
            raise not_found()
        have = self.permission(call.actor, repo)
        if rank(have) < rank("read"):
            raise not_found()
        if rank(have) < rank(need):
            if call.actor.kind == "anonymous":
                raise ApiError(401, "Requires authentication")
            raise ApiError(
                403,
                "Resource not accessible by integration"
                if call.actor.kind == "installation"
                else f"Must have {need} access to repository.",
            )
        return repo

    def permission(self, actor: Actor, repo: Repo) -> str:
        """Return the permission an actor has on a repository."""
        if actor.kind == "installation":
            installation = self.app.installation(actor.installation_id or 0)
            if installation and installation.account.lower() == repo.owner.lower():
                return "write"
            return "none"
        if actor.kind == "user" and actor.login:
            self.account(actor.login)
            return self.world.permission(repo, actor.login)
        return "none" if repo.private else "read"

    def repo_shape(self, repo: Repo, viewer: Actor | None = None) -> dict[str, Any]:
        """Return a repository, with the viewer's permissions when known."""
        shaped = shapes.repository(self.base_url, self.world, repo)
        if viewer is not None and viewer.kind in ("user", "installation"):
            shaped["permissions"] = shapes.permissions(self.permission(viewer, repo))
        return shaped

    def user_shape(self, login: str | None) -> dict[str, Any] | None:
        """Return a simple-user for a login (None stays None)."""
        return shapes.user_of(self.base_url, self.world, login)

    # --- webhooks ------------------------------------------------------------

    def event(
        self,
        name: str,
        payload: dict[str, Any],
        repo: Repo | None = None,
        sender: str | None = None,
        org: str | None = None,
    ) -> None:
        """Send a webhook with the fields GitHub adds to every event."""
        owner = repo.owner if repo else org
        full: dict[str, Any] = dict(payload)
        if repo is not None:
            full["repository"] = self.repo_shape(repo)
        if owner is not None:
            account = self.world.account(owner)
            if account.type == "Organization":
                full["organization"] = shapes.organization(self.base_url, account)
            installation = self.installation_for(owner)
            full["installation"] = {
                "id": installation.id,
                "node_id": shapes.node_id("Installation", installation.id),
            }
        if sender is not None:
            full["sender"] = self.user_shape(sender)
        self.hooks.send(name, full)

    # --- rate limits ---------------------------------------------------------

    def count_call(self, actor: Actor) -> dict[str, str]:
        """Count one call against the caller's limit; return the X-RateLimit headers."""
        key = f"{actor.kind}:{actor.login or actor.installation_id or ''}"
        with self._rate_lock:
            if time.time() >= self._window:
                self._calls.clear()
                self._window = int(time.time()) + 3600
            used = self._calls.get(key, 0) + 1
            self._calls[key] = used
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(max(0, RATE_LIMIT - used)),
            "X-RateLimit-Used": str(used),
            "X-RateLimit-Reset": str(self._window),
            "X-RateLimit-Resource": "core",
        }

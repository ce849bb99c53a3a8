"""Who the reader is and what they may read, asked of GitHub with their token.

The App's OAuth web flow signs the reader in; their user token then answers
"may this person read repository X?" on GitHub's side, so the browser never
shows more than GitHub would.

See: https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlencode

import requests

from changebot.errors import ForgeError, ForgeUnavailable, PermissionDenied
from changebot.server.browser.config import BrowserConfig

log = logging.getLogger(__name__)

REPO_NAME = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")
_TIMEOUT = 10


class GitHubAccounts:
    """GitHub's OAuth endpoints and the user-token questions the browser asks."""

    def __init__(self, config: BrowserConfig) -> None:
        self._config = config
        self._http = requests.Session()
        self._http.headers["Accept"] = "application/vnd.github+json"

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        """Return where to send the reader to sign in."""
        query = urlencode(
            {
                "client_id": self._config.client_id,
                "redirect_uri": redirect_uri,
                "state": state,
            }
        )
        return f"{self._config.github_web}/login/oauth/authorize?{query}"

    def exchange(self, code: str, redirect_uri: str) -> str:
        """Trade the callback's code for the reader's user token."""
        body = self._call(
            "POST",
            f"{self._config.github_web}/login/oauth/access_token",
            data={
                "client_id": self._config.client_id,
                "client_secret": self._config.client_secret,
                "code": code,
                "redirect_uri": redirect_uri,
            },
            headers={"Accept": "application/json"},
        )
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise PermissionDenied(
                "GitHub did not accept the sign-in code",
                hint="sign in again; codes expire after ten minutes and work once",
            )
        return token

    def login_of(self, token: str) -> str:
        """Return the login of the token's user."""
        body = self._call("GET", f"{self._config.github_api}/user", token=token)
        login = body.get("login") if isinstance(body, dict) else None
        if not isinstance(login, str):
            raise ForgeError("GitHub's /user answer has no login")
        return login

    def readable(self, token: str, repos: Iterable[str]) -> set[str]:
        """Return those of ``repos`` the token's user may read on GitHub."""
        return {repo for repo in repos if self._can_read(token, repo)}

    def _can_read(self, token: str, repo: str) -> bool:
        if not REPO_NAME.match(repo):
            return False
        url = f"{self._config.github_api}/repos/{quote(repo)}"
        try:
            body = self._call("GET", url, token=token)
        except ForgeError as err:
            if err.status in (401, 403, 404):
                return False
            raise
        permissions = body.get("permissions") if isinstance(body, dict) else None
        return isinstance(permissions, dict) and bool(permissions.get("pull"))

    def _call(
        self,
        method: str,
        url: str,
        *,
        token: str | None = None,
        **kwargs: Any,
    ) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            answer = self._http.request(
                method, url, headers=headers, timeout=_TIMEOUT, **kwargs
            )
        except requests.RequestException as err:
            raise ForgeUnavailable(f"GitHub did not answer {method} {url}") from err
        if answer.status_code >= 500:
            raise ForgeUnavailable(f"GitHub answered {answer.status_code} to {url}")
        if answer.status_code >= 400:
            raise ForgeError(
                f"GitHub answered {answer.status_code} to {method} {url}",
                status=answer.status_code,
            )
        return answer.json()

"""Who changebot is on GitHub: a GitHub App, or a plain token.

`AppAuth` signs app JWTs and exchanges them, through the transport, for
installation tokens that it caches until shortly before they expire;
`TokenAuth` is the Action's workflow token. Both hand out an `Authorizer`
per repository, organisation or for the App itself.

See: https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import jwt

from changebot.adapters.githubfacts import split
from changebot.adapters.githubtransport import Authorizer, Clock, Transport
from changebot.errors import SettingsError, UsageError

log = logging.getLogger(__name__)

#: GitHub refuses an app JWT that expires more than 10 minutes ahead.
JWT_LIFETIME = 9 * 60
#: Clocks drift: GitHub advises an `iat` 60 seconds in the past.
JWT_BACKDATE = 60
#: Renew an installation token this long before GitHub says it expires.
TOKEN_MARGIN = 5 * 60
DEFAULT_BASE_URL = "https://api.github.com"


def app_jwt(app_id: str | int, private_key_pem: str, now: float) -> str:
    """Sign the short-lived JWT that authenticates as the GitHub App itself."""
    claims = {
        "iat": int(now) - JWT_BACKDATE,
        "exp": int(now) + JWT_LIFETIME,
        "iss": str(app_id),
    }
    try:
        return jwt.encode(claims, private_key_pem, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError) as err:
        raise SettingsError(
            "the GitHub App private key cannot sign a JWT",
            hint="set the App's PEM private key as downloaded from its settings page",
        ) from err


@dataclass(frozen=True)
class InstallationToken:
    """An installation access token and the time GitHub says it stops working."""

    token: str
    expires_at: float

    def fresh(self, now: float) -> bool:
        """Tell whether the token still has more than the safety margin to live."""
        return self.expires_at - TOKEN_MARGIN > now

    def __repr__(self) -> str:
        # NOTE: never let a token reach a log line or a traceback.
        return f"InstallationToken(expires_at={self.expires_at})"


def parse_expiry(value: str) -> float:
    """Turn GitHub's `expires_at` (ISO 8601, `Z`) into a POSIX timestamp."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class TokenCache:
    """Installation tokens by installation id, and installation ids by owner."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[int, InstallationToken] = {}
        self._installations: dict[str, int] = {}

    def token(self, installation_id: int) -> str | None:
        """Return a cached token that is still fresh, or None."""
        with self._lock:
            cached = self._tokens.get(installation_id)
        if cached is None or not cached.fresh(self._clock()):
            return None
        return cached.token

    def keep(self, installation_id: int, token: InstallationToken) -> None:
        """Remember a token just issued for an installation."""
        with self._lock:
            self._tokens[installation_id] = token
        log.debug("installation token cached", extra={"installation": installation_id})

    def forget(self, installation_id: int) -> None:
        """Drop a token GitHub refused, so the next call asks for a new one."""
        with self._lock:
            self._tokens.pop(installation_id, None)

    def installation(self, owner: str) -> int | None:
        """Return the installation id already looked up for an owner."""
        with self._lock:
            return self._installations.get(owner.lower())

    def remember_installation(self, owner: str, installation_id: int) -> None:
        """Remember which installation covers an owner's repositories."""
        with self._lock:
            self._installations[owner.lower()] = installation_id


class _Static:
    """A fixed Authorization header (a workflow token or an app JWT)."""

    def __init__(self, make: Callable[[], str], hint: str) -> None:
        self._make = make
        self.hint = hint

    def header(self) -> str:
        return self._make()

    def refused(self) -> bool:
        return False


class TokenAuth:
    """A plain token: the Action's workflow token or a personal access token."""

    def __init__(self, token: str, base_url: str = DEFAULT_BASE_URL) -> None:
        self._token = token
        self.base_url = base_url

    def __repr__(self) -> str:
        return f"TokenAuth(base_url={self.base_url!r})"

    def for_repo(self, transport: Transport, repo: str) -> Authorizer:
        """Return the credential for calls on ``repo``."""
        return self._authorizer()

    def for_org(self, transport: Transport, org: str) -> Authorizer:
        """Return the credential for calls on an organisation."""
        return self._authorizer()

    def _authorizer(self) -> Authorizer:
        return _Static(
            lambda: f"token {self._token}",
            "check that the token is valid, unexpired and allowed on the repository",
        )

    def for_app(self, transport: Transport) -> Authorizer:
        """Refuse: only a GitHub App can call the App's own endpoints."""
        raise UsageError(
            "this needs GitHub App credentials, not a token",
            hint="set the App id and private key to use webhook deliveries",
        )


class AppAuth:
    """A GitHub App: an app JWT exchanged for cached installation tokens."""

    def __init__(
        self,
        app_id: str | int,
        private_key_pem: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        installation_id: int | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.app_id = str(app_id)
        self.base_url = base_url
        self.installation_id = installation_id
        self._key = private_key_pem
        self._clock = clock
        self.tokens = TokenCache(clock)

    def __repr__(self) -> str:
        return f"AppAuth(app_id={self.app_id!r}, base_url={self.base_url!r})"

    def jwt(self) -> str:
        """Sign a fresh app JWT."""
        return app_jwt(self.app_id, self._key, self._clock())

    def for_app(self, transport: Transport) -> Authorizer:
        """Return the credential for the App's own endpoints (the JWT)."""
        return _Static(
            lambda: f"Bearer {self.jwt()}",
            "check the App id and private key, and this machine's clock",
        )

    def for_repo(self, transport: Transport, repo: str) -> Authorizer:
        """Return the installation token credential for calls on ``repo``."""
        owner, name = split(repo)
        return _Installation(self, transport, owner, name)

    def for_org(self, transport: Transport, org: str) -> Authorizer:
        """Return the installation token credential for calls on ``org``."""
        return _Installation(self, transport, org, None)


class _Installation:
    """The installation token of the App's installation that covers a repo."""

    hint = "check that the GitHub App is still installed on the repository"

    def __init__(
        self, auth: AppAuth, transport: Transport, owner: str, name: str | None
    ) -> None:
        self._auth = auth
        self._transport = transport
        self._owner = owner
        self._name = name

    def header(self) -> str:
        installation = self._installation()
        token = self._auth.tokens.token(installation)
        if token is None:
            token = self._exchange(installation)
        return f"token {token}"

    def refused(self) -> bool:
        installation = self._installation()
        log.info("installation token refused", extra={"installation": installation})
        self._auth.tokens.forget(installation)
        return True

    def _installation(self) -> int:
        known = self._auth.installation_id or self._auth.tokens.installation(
            self._owner
        )
        if known is not None:
            return known
        app = self._auth.for_app(self._transport)
        if self._name is None:
            route, params = "/orgs/{org}/installation", {"org": self._owner}
        else:
            route = "/repos/{owner}/{repo}/installation"
            params = {"owner": self._owner, "repo": self._name}
        answer = self._transport.request(app, "GET", route, params)
        installation = int(answer.data["id"])
        self._auth.tokens.remember_installation(self._owner, installation)
        return installation

    def _exchange(self, installation: int) -> str:
        answer = self._transport.request(
            self._auth.for_app(self._transport),
            "POST",
            "/app/installations/{installation_id}/access_tokens",
            {"installation_id": installation},
        )
        issued = InstallationToken(
            answer.data["token"], parse_expiry(answer.data["expires_at"])
        )
        self._auth.tokens.keep(installation, issued)
        return issued.token

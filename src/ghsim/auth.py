"""Who a request acts as: users, the App (JWT), installations and OAuth tokens.

See: https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ghsim.routing import ANONYMOUS, Actor, ApiError
from ghsim.state import now

log = logging.getLogger(__name__)

APP_ID = 1
APP_SLUG = "changebot"
APP_PERMISSIONS = {
    "checks": "write",
    "contents": "write",
    "deployments": "write",
    "issues": "write",
    "members": "read",
    "metadata": "read",
    "pull_requests": "write",
    "statuses": "write",
}
APP_EVENTS = [
    "pull_request",
    "pull_request_review",
    "issue_comment",
    "push",
    "deployment",
    "deployment_status",
    "branch_protection_rule",
    "member",
]
MAX_JWT_LIFETIME = 600
CLOCK_DRIFT = 60


@dataclass
class Installation:
    """The App installed on one account, for all of its repositories."""

    id: int
    account: str
    created_at: datetime = field(default_factory=now)


@dataclass
class Token:
    """An issued token: an installation's, or an OAuth user's."""

    value: str
    expires_at: datetime | None
    installation_id: int | None = None
    login: str | None = None


@lru_cache(maxsize=1)
def _process_key() -> bytes:
    # NOTE: RSA generation costs tens of milliseconds; simulators in one
    # process share a key so that a test can start one in a few.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@lru_cache(maxsize=8)
def _public_pem(private_pem: bytes) -> bytes:
    key = serialization.load_pem_private_key(
        private_pem, password=None, unsafe_skip_rsa_key_validation=True
    )
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class AppIdentity:
    """The one GitHub App of the simulator, its installations and tokens."""

    def __init__(self, root: Path, webhook_secret: str | None, token_ttl: int) -> None:
        self.id = APP_ID
        self.slug = APP_SLUG
        self.bot_login = f"{APP_SLUG}[bot]"
        self.token_ttl = token_ttl
        self.installations: dict[str, Installation] = {}
        self._tokens: dict[str, Token] = {}
        self._codes: dict[str, str] = {}
        self._lock = threading.Lock()
        self._load_or_create(root, webhook_secret)

    def _load_or_create(self, root: Path, webhook_secret: str | None) -> None:
        """Reuse DIR/app.json and the key when present, or write new ones."""
        config, pem = root / "app.json", root / "app-private-key.pem"
        saved: dict[str, Any] = (
            json.loads(config.read_text()) if config.exists() else {}
        )
        self.private_pem = pem.read_bytes() if pem.exists() else _process_key()
        self.webhook_secret = (
            webhook_secret or saved.get("webhook_secret") or secrets.token_hex(16)
        )
        self.client_id = saved.get("client_id") or f"Iv1.{secrets.token_hex(8)}"
        self.client_secret = saved.get("client_secret") or secrets.token_hex(20)
        self.public_pem = _public_pem(self.private_pem)
        root.mkdir(parents=True, exist_ok=True)
        # NOTE: it holds the webhook and OAuth client secrets.
        _write_private(
            config, (json.dumps(self.credentials(), indent=2) + "\n").encode()
        )
        _write_private(pem, self.private_pem)

    def credentials(self) -> dict[str, Any]:
        """Return what DIR/app.json holds."""
        return {
            "id": self.id,
            "slug": self.slug,
            "webhook_secret": self.webhook_secret,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }

    # --- installations -------------------------------------------------------

    def install(self, account: str, new_id: int) -> tuple[Installation, bool]:
        """Return the installation on ``account``, and whether it is new."""
        key = account.lower()
        with self._lock:
            if key in self.installations:
                return self.installations[key], False
            self.installations[key] = Installation(new_id, account)
            return self.installations[key], True

    def installation(self, installation_id: int) -> Installation | None:
        """Return an installation by id."""
        return next(
            (i for i in self.installations.values() if i.id == installation_id), None
        )

    def issue_token(self, installation_id: int) -> Token:
        """Issue an installation token that expires after ``token_ttl`` seconds."""
        expires = now() + timedelta(seconds=self.token_ttl)
        token = Token(f"ghs_{secrets.token_hex(18)}", expires, installation_id)
        with self._lock:
            self._tokens[token.value] = token
        return token

    # --- OAuth ---------------------------------------------------------------

    def oauth_code(self, login: str) -> str:
        """Return a one-use authorization code for ``login``."""
        code = secrets.token_hex(10)
        with self._lock:
            self._codes[code] = login
        return code

    def exchange_code(self, code: str) -> Token | None:
        """Trade an authorization code for a user token (each code works once)."""
        with self._lock:
            login = self._codes.pop(code, None)
            if login is None:
                return None
            token = Token(
                f"ghu_{secrets.token_hex(18)}", now() + timedelta(hours=8), login=login
            )
            self._tokens[token.value] = token
        return token

    # --- requests ------------------------------------------------------------

    def actor(self, authorization: str | None) -> Actor:
        """Return who the Authorization header acts as, or raise 401."""
        if not authorization:
            return ANONYMOUS
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() not in ("token", "bearer") or not credential:
            raise _bad_credentials()
        if credential.startswith("sim-") and len(credential) > 4:
            return Actor("user", credential[4:])
        if credential.count(".") == 2:
            return self._app_actor(credential)
        return self._token_actor(credential)

    def _token_actor(self, credential: str) -> Actor:
        token = self._tokens.get(credential)
        if token is None or (token.expires_at and token.expires_at <= now()):
            raise _bad_credentials()
        if token.login:
            return Actor("user", token.login)
        return Actor("installation", self.bot_login, token.installation_id)

    def _app_actor(self, credential: str) -> Actor:
        """Check an App JWT as GitHub does: RS256, our key, iss, iat and exp."""
        try:
            claims = jwt.decode(
                credential,
                self.public_pem,
                algorithms=["RS256"],
                options={"require": ["iat", "exp", "iss"]},
                leeway=CLOCK_DRIFT,
            )
        except jwt.PyJWTError as err:
            raise ApiError(401, "A JSON web token could not be decoded") from err
        if str(claims["iss"]) not in (str(self.id), self.client_id):
            raise ApiError(401, "'Issuer' claim ('iss') must be an Integer")
        if int(claims["exp"]) > now().timestamp() + MAX_JWT_LIFETIME + CLOCK_DRIFT:
            raise ApiError(
                401, "'Expiration time' claim ('exp') is too far in the future"
            )
        if int(claims["iat"]) > now().timestamp() + CLOCK_DRIFT:
            raise ApiError(
                401,
                "'Issued at' claim ('iat') must be an Integer representing a time"
                " in the past",
            )
        return Actor("app", None)


def _bad_credentials() -> ApiError:
    return ApiError(401, "Bad credentials")


def _write_private(path: Path, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(content)
    os.chmod(path, 0o600)

"""Settings of the App server and worker, read from environment variables.

Every variable is documented in docs/settings.md. Nothing here reads a file
or the network except the private key named by CHANGEBOT_PRIVATE_KEY_PATH.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TypeVar

from changebot.errors import SettingsError

log = logging.getLogger(__name__)

_N = TypeVar("_N", int, float)

GITHUB_API = "https://api.github.com"

#: Attribute name -> the environment variable that sets it.
ENV_NAMES = {
    "app_id": "CHANGEBOT_APP_ID",
    "private_key": "CHANGEBOT_PRIVATE_KEY",
    "webhook_secret": "CHANGEBOT_WEBHOOK_SECRET",
    "signing_key_path": "CHANGEBOT_SIGNING_KEY_PATH",
    "data_dir": "CHANGEBOT_DATA_DIR",
    "redis_url": "CHANGEBOT_REDIS_URL",
    "github_url": "CHANGEBOT_GITHUB_URL",
    "slack_webhook": "CHANGEBOT_SLACK_WEBHOOK",
    "public_url": "CHANGEBOT_PUBLIC_URL",
    "job_retries": "CHANGEBOT_JOB_RETRIES",
    "job_retry_delay": "CHANGEBOT_JOB_RETRY_DELAY",
    "reconcile_minutes": "CHANGEBOT_RECONCILE_MINUTES",
    "protected_branches": "CHANGEBOT_PROTECTED_BRANCHES",
    "push_settle_seconds": "CHANGEBOT_PUSH_SETTLE_SECONDS",
}

#: Attributes whose values are secrets: never logged, hidden by repr.
SECRETS = frozenset({"private_key", "webhook_secret", "slack_webhook", "redis_url"})


@dataclass(frozen=True)
class Settings:
    """What the server, the worker and the CLI need to know to start."""

    app_id: str | None = None
    private_key: str | None = None
    webhook_secret: str | None = None
    signing_key_path: Path | None = None
    data_dir: Path = Path(".changebot-data")
    redis_url: str | None = None
    github_url: str = GITHUB_API
    slack_webhook: str | None = None
    public_url: str | None = None
    job_retries: int = 5
    job_retry_delay: float = 2.0
    reconcile_minutes: int = 15
    protected_branches: tuple[str, ...] = ()
    #: How long GitHub may take to link a merge's commits to its pull request.
    push_settle_seconds: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every setting from ``environ`` (the process environment by default)."""
        env = os.environ if environ is None else environ
        return cls(
            app_id=_text(env, "app_id"),
            private_key=_private_key(env),
            webhook_secret=_text(env, "webhook_secret"),
            signing_key_path=_path(env, "signing_key_path"),
            data_dir=_path(env, "data_dir") or Path(".changebot-data"),
            redis_url=_text(env, "redis_url"),
            github_url=(_text(env, "github_url") or GITHUB_API).rstrip("/"),
            slack_webhook=_text(env, "slack_webhook"),
            public_url=_text(env, "public_url"),
            job_retries=_number(env, "job_retries", int, 5),
            job_retry_delay=_number(env, "job_retry_delay", float, 2.0),
            reconcile_minutes=_number(env, "reconcile_minutes", int, 15),
            protected_branches=_names(env, "protected_branches"),
            push_settle_seconds=_number(env, "push_settle_seconds", float, 10.0),
        )

    def require(self, *names: str) -> None:
        """Stop with SettingsError naming the first of ``names`` that is unset."""
        for name in names:
            if getattr(self, name) in (None, ""):
                raise SettingsError(f"{_describe(name)} is not set")

    def __repr__(self) -> str:
        shown = []
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in SECRETS and value:
                value = "<hidden>"
            shown.append(f"{item.name}={value!r}")
        return f"Settings({', '.join(shown)})"


def _describe(name: str) -> str:
    if name == "private_key":
        return "CHANGEBOT_PRIVATE_KEY (or CHANGEBOT_PRIVATE_KEY_PATH)"
    return ENV_NAMES[name]


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(ENV_NAMES[name], "").strip()
    return value or None


def _path(env: Mapping[str, str], name: str) -> Path | None:
    value = _text(env, name)
    return Path(value).expanduser() if value else None


def _names(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    value = _text(env, name) or ""
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _number(env: Mapping[str, str], name: str, kind: type[_N], default: _N) -> _N:
    value = _text(env, name)
    if value is None:
        return default
    try:
        number = kind(value)
    except ValueError as err:
        raise SettingsError(
            f"{ENV_NAMES[name]} must be a number, not {value!r}"
        ) from err
    if number < 0:
        raise SettingsError(f"{ENV_NAMES[name]} must not be negative")
    return number


def _private_key(env: Mapping[str, str]) -> str | None:
    inline = env.get("CHANGEBOT_PRIVATE_KEY", "").strip()
    if inline:
        # NOTE: many deployment tools cannot hold newlines in a variable.
        return inline.replace("\\n", "\n")
    path = env.get("CHANGEBOT_PRIVATE_KEY_PATH", "").strip()
    if not path:
        return None
    try:
        return Path(path).expanduser().read_text()
    except OSError as err:
        raise SettingsError(
            f"CHANGEBOT_PRIVATE_KEY_PATH names {path}, which cannot be read: "
            f"{err.strerror}",
            hint="point it at the App's private key (.pem) downloaded from GitHub",
        ) from err

"""What a workflow gives the step: the runner's variables and the `with:` inputs.

`action.yml` hands each input to the container as a ``CHANGEBOT_*`` variable;
the runner adds ``GITHUB_*`` ones. Nothing is read from the workspace: under
`pull_request_target` it may hold the PR's code.

See: https://docs.github.com/en/actions/reference/workflows-and-actions/variables
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

from changebot.errors import SettingsError
from changebot.policy.config import CONFIG_PATH

log = logging.getLogger(__name__)

Mode = Literal["auto", "evaluate", "record", "deploy", "reconcile", "verify"]
FailOn = Literal["failure", "pending", "never"]

GITHUB_API = "https://api.github.com"
GITHUB_WEB = "https://github.com"
DEFAULT_AUDIT_BRANCH = "changebot/audit"
DEFAULT_LOOKBACK_DAYS = 7

#: Input name -> the variable `action.yml` sets from it.
INPUT_ENV = {
    "token": "CHANGEBOT_TOKEN",
    "app_id": "CHANGEBOT_APP_ID",
    "app_private_key": "CHANGEBOT_PRIVATE_KEY",
    "config": "CHANGEBOT_CONFIG_PATH",
    "signing_key": "CHANGEBOT_SIGNING_KEY",
    "trusted_keys": "CHANGEBOT_TRUSTED_KEYS",
    "audit_branch": "CHANGEBOT_AUDIT_BRANCH",
    "slack_webhook": "CHANGEBOT_SLACK_WEBHOOK",
    "slack_token": "CHANGEBOT_SLACK_TOKEN",
    "slack_channel": "CHANGEBOT_SLACK_CHANNEL",
    "mode": "CHANGEBOT_MODE",
    "environment": "CHANGEBOT_ENVIRONMENT",
    "sha": "CHANGEBOT_SHA",
    "reason": "CHANGEBOT_REASON",
    "fail_on": "CHANGEBOT_FAIL_ON",
    "lookback_days": "CHANGEBOT_LOOKBACK_DAYS",
}

_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_SHA = re.compile(r"[0-9a-f]{40}")


def missing_input(name: str, why: str) -> SettingsError:
    """Return the error of an input the step needs and was not given."""
    return SettingsError(
        f"the `{name}` input is not set ({INPUT_ENV[name]}): {why}",
        hint=f"add `{name}: ...` under the step's `with:` (from a secret if it is one)",
    )


@dataclass(frozen=True)
class Inputs:
    """One step's inputs; secrets are kept out of ``repr``."""

    event_name: str
    event_path: Path | None
    repository: str
    api_url: str = GITHUB_API
    server_url: str = GITHUB_WEB
    github_sha: str | None = None
    run_id: str | None = None
    actor: str | None = None
    output_path: Path | None = None
    summary_path: Path | None = None
    token: str | None = field(default=None, repr=False)
    app_id: str | None = None
    private_key: str | None = field(default=None, repr=False)
    config_path: str = CONFIG_PATH
    signing_key: str | None = field(default=None, repr=False)
    trusted_keys: tuple[str, ...] = ()
    audit_branch: str = DEFAULT_AUDIT_BRANCH
    slack_webhook: str | None = field(default=None, repr=False)
    slack_token: str | None = field(default=None, repr=False)
    slack_channel: str | None = None
    mode: Mode = "auto"
    environment: str | None = None
    sha: str | None = None
    reason: str | None = None
    fail_on: FailOn = "failure"
    lookback_days: int = DEFAULT_LOOKBACK_DAYS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        """Read the step's inputs from its environment; SettingsError if unusable."""
        value = _Reader(env)
        return cls(
            event_name=value.runner("GITHUB_EVENT_NAME", required=True) or "",
            event_path=value.path("GITHUB_EVENT_PATH"),
            repository=_repository(value.runner("GITHUB_REPOSITORY", required=True)),
            api_url=(value.runner("GITHUB_API_URL") or GITHUB_API).rstrip("/"),
            server_url=(value.runner("GITHUB_SERVER_URL") or GITHUB_WEB).rstrip("/"),
            github_sha=value.runner("GITHUB_SHA"),
            run_id=value.runner("GITHUB_RUN_ID"),
            actor=value.runner("GITHUB_ACTOR"),
            output_path=value.path("GITHUB_OUTPUT"),
            summary_path=value.path("GITHUB_STEP_SUMMARY"),
            token=value.input("token"),
            app_id=value.input("app_id"),
            private_key=_pem(value.input("app_private_key")),
            config_path=value.input("config") or CONFIG_PATH,
            signing_key=_pem(value.input("signing_key")),
            trusted_keys=tuple((value.input("trusted_keys") or "").split()),
            audit_branch=value.input("audit_branch") or DEFAULT_AUDIT_BRANCH,
            slack_webhook=value.input("slack_webhook"),
            slack_token=value.input("slack_token"),
            slack_channel=value.input("slack_channel"),
            mode=cast(Mode, value.choice("mode", Mode, "auto")),
            environment=value.input("environment"),
            sha=_sha(value.input("sha")),
            reason=value.input("reason"),
            fail_on=cast(FailOn, value.choice("fail_on", FailOn, "failure")),
            lookback_days=value.days("lookback_days"),
        )

    def event(self) -> dict[str, Any]:
        """Return the event payload the runner wrote to ``GITHUB_EVENT_PATH``."""
        if self.event_path is None:
            raise SettingsError(
                "GITHUB_EVENT_PATH is not set",
                hint="run `changebot action` as a step of a GitHub Actions workflow",
            )
        try:
            payload = json.loads(self.event_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise SettingsError(
                f"cannot read the event payload {self.event_path}: {err}",
                hint="GITHUB_EVENT_PATH must name the runner's event JSON file",
            ) from err
        if not isinstance(payload, dict):
            raise SettingsError(f"the event payload {self.event_path} is not an object")
        return payload

    @property
    def web_url(self) -> str:
        """Return the repository's page, e.g. ``https://github.com/acme/infra``."""
        return f"{self.server_url}/{self.repository}"

    @property
    def run_url(self) -> str | None:
        """Return the page of this workflow run, when the runner named it."""
        if not self.run_id:
            return None
        return f"{self.web_url}/actions/runs/{self.run_id}"

    @property
    def uses_app(self) -> bool:
        """Tell whether the step acts as a GitHub App rather than with a token."""
        return bool(self.app_id or self.private_key)


class _Reader:
    """Reads variables, trimming blanks: an empty input is an unset input."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def runner(self, name: str, *, required: bool = False) -> str | None:
        value = self._env.get(name, "").strip() or None
        if required and value is None:
            raise SettingsError(
                f"{name} is not set",
                hint="run `changebot action` as a step of a GitHub Actions workflow",
            )
        return value

    def path(self, name: str) -> Path | None:
        value = self.runner(name)
        return Path(value) if value else None

    def input(self, name: str) -> str | None:
        return self._env.get(INPUT_ENV[name], "").strip() or None

    def choice(self, name: str, kind: Any, default: str) -> str:
        value = (self.input(name) or default).lower()
        allowed = get_args(kind)
        if value not in allowed:
            raise SettingsError(
                f"the `{name}` input is {value!r}, which is not one of "
                f"{', '.join(allowed)}",
                hint=f"set `{name}:` to one of {', '.join(allowed)}",
            )
        return value

    def days(self, name: str) -> int:
        value = self.input(name)
        if value is None:
            return DEFAULT_LOOKBACK_DAYS
        if not value.isdigit() or int(value) < 1:
            raise SettingsError(
                f"the `{name}` input is {value!r}, not a whole number of days",
                hint=f"set `{name}:` to a number such as 7",
            )
        return int(value)


def _repository(value: str | None) -> str:
    if value is None or not _REPO.fullmatch(value):
        raise SettingsError(
            f"GITHUB_REPOSITORY is {value!r}, not owner/name",
            hint="run `changebot action` as a step of a GitHub Actions workflow",
        )
    return value


def _sha(value: str | None) -> str | None:
    if value is not None and not _SHA.fullmatch(value.lower()):
        raise SettingsError(
            f"the `sha` input is {value!r}, not a full commit SHA",
            hint="pass the 40-character SHA that was deployed, e.g. ${{ github.sha }}",
        )
    return value.lower() if value else None


def _pem(value: str | None) -> str | None:
    # NOTE: some secret stores cannot hold newlines; accept "\n" escapes.
    return value.replace("\\n", "\n") if value else None

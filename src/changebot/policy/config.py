"""The `.changebot.yml` policy as frozen values, and how to load it.

`load_config` is the one way in: it reads the YAML safely
(`changebot.policy.source`), checks it against the JSON Schema that ships with
the package, checks what a schema cannot (path patterns, regular expressions,
reviewer counts a list cannot satisfy), and builds a `Config`. Every problem
found is reported with its line and key path, all at once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

from changebot.errors import ConfigError, ConfigProblem
from changebot.policy import checks
from changebot.policy.source import Document, read_document

log = logging.getLogger(__name__)

CONFIG_PATH = ".changebot.yml"

Permission = Literal["read", "triage", "write", "maintain", "admin"]
CodeownersScope = Literal["areas", "all"]


@dataclass(frozen=True)
class Reviewers:
    """Who must approve changes to an area, and how many of them."""

    count: int = 1
    users: tuple[str, ...] = ()
    #: Team slugs as ``org/slug`` (a bare slug is resolved to the repo's owner).
    teams: tuple[str, ...] = ()
    exclude_author: bool = True
    #: None: follow `approvals.exclude_committers`.
    exclude_committers: bool | None = None
    #: None: follow `approvals.invalidate_on_push`.
    invalidate_on_push: bool | None = None


@dataclass(frozen=True)
class Area:
    """A named set of paths with its own reviewer and rationale rules."""

    name: str
    paths: tuple[str, ...]
    reviewers: Reviewers = field(default_factory=Reviewers)
    rationale: bool = True
    description: str = ""


@dataclass(frozen=True)
class Codeowners:
    """Whether owners from CODEOWNERS must approve, and for which files."""

    enabled: bool = True
    #: ``areas``: only files inside a configured area; ``all``: every file.
    scope: CodeownersScope = "areas"


@dataclass(frozen=True)
class Rationale:
    """What the PR body must say before a change is accountable."""

    sections: tuple[str, ...] = ("Why", "Risk", "Rollback plan")
    #: A regular expression for ticket references, or None for no ticket.
    ticket: str | None = None
    ticket_required: bool = True
    min_words: int = 0
    #: Texts left from a PR template that count as an empty section.
    placeholders: tuple[str, ...] = ("TODO", "TBD", "...", "N/A")


@dataclass(frozen=True)
class Approvals:
    """Repository-wide defaults for how approvals count."""

    invalidate_on_push: bool = True
    exclude_committers: bool = True


@dataclass(frozen=True)
class Overrides:
    """Who may override a failing verdict, and how much they must say."""

    #: ``team:org/slug``, ``user:login`` or ``role:<permission>`` entries.
    allowed: tuple[str, ...] = ()
    min_words: int = 5


@dataclass(frozen=True)
class Audit:
    """Where the audit log lives."""

    branch: str = "changebot/audit"
    #: ``owner/name`` of a central audit repository, or None for this one.
    repository: str | None = None


@dataclass(frozen=True)
class Environment:
    """A deployment environment and where its notices go."""

    name: str
    protected: bool = False
    slack: str | None = None
    notify_pr: bool = True


@dataclass(frozen=True)
class Route:
    """Send notices of some kinds, areas or environments to a Slack channel."""

    channel: str
    kinds: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Notify:
    """Slack settings and notice routes."""

    slack_channel: str | None = None
    #: Names of environment variables, never the secrets themselves.
    slack_webhook_env: str | None = None
    slack_token_env: str | None = None
    routes: tuple[Route, ...] = ()


DEFAULT_COMMANDS: dict[str, str] = {
    "help": "read",
    "status": "read",
    "receipt": "read",
    "verify": "read",
    "recheck": "write",
    "rationale": "write",
    "override": "write",
}


@dataclass(frozen=True)
class Config:
    """The whole policy of one repository."""

    areas: tuple[Area, ...] = ()
    codeowners: Codeowners = field(default_factory=Codeowners)
    rationale: Rationale = field(default_factory=Rationale)
    approvals: Approvals = field(default_factory=Approvals)
    overrides: Overrides = field(default_factory=Overrides)
    #: verb -> a permission (``read`` .. ``admin``) or ``team:..``/``user:..``.
    commands: dict[str, tuple[str, ...]] = field(default_factory=dict)
    audit: Audit = field(default_factory=Audit)
    deployments: tuple[Environment, ...] = ()
    notify: Notify = field(default_factory=Notify)
    #: Where the policy came from (a path, or ``default preset``).
    source: str = CONFIG_PATH

    def area(self, name: str) -> Area | None:
        """Return the area called ``name``, or None."""
        return next((a for a in self.areas if a.name == name), None)

    def environment(self, name: str) -> Environment | None:
        """Return the deployment environment called ``name``, or None."""
        return next((e for e in self.deployments if e.name == name), None)

    def command_permission(self, verb: str) -> tuple[str, ...]:
        """Return who may run ``/changebot <verb>`` (permissions or principals)."""
        return self.commands.get(verb) or (DEFAULT_COMMANDS.get(verb, "admin"),)


# --- loading ----------------------------------------------------------------


def load_config(text: str | None, *, source: str = CONFIG_PATH) -> Config:
    """Build a Config from YAML text, or the default preset when text is None.

    Raise ConfigError listing every problem (with line and key path) when the
    text is not a valid policy.
    """
    if text is None:
        return DEFAULT_CONFIG
    document, problems = _checked(text)
    if problems or document is None:
        raise ConfigError(
            f"{source} is invalid: {len(problems)} problem(s), first: {problems[0]}",
            problems=problems,
        )
    log.debug("loaded config", extra={"source": source})
    return _build(document.data, source)


def validate_config(text: str) -> list[ConfigProblem]:
    """Return every problem of a `.changebot.yml` text (empty when valid)."""
    return _checked(text)[1]


def schema() -> dict[str, Any]:
    """Return the JSON Schema of `.changebot.yml`."""
    return dict(_schema())


@cache
def _schema() -> dict[str, Any]:
    raw = resources.files("changebot.policy").joinpath("schema.json").read_text()
    loaded: dict[str, Any] = json.loads(raw)
    return loaded


def _checked(text: str) -> tuple[Document | None, list[ConfigProblem]]:
    try:
        document = read_document(text)
    except ConfigError as err:
        return None, err.problems
    problems = checks.schema_problems(document, _schema())
    problems += checks.semantic_problems(document)
    return document, sorted(problems, key=lambda p: (p.line or 0, p.path))


# --- building ---------------------------------------------------------------


def _build(data: dict[str, Any], source: str) -> Config:
    rationale = data.get("rationale", {})
    approvals = data.get("approvals", {})
    overrides = data.get("overrides", {})
    audit = data.get("audit", {})
    return Config(
        areas=tuple(_area(n, a) for n, a in data.get("areas", {}).items()),
        codeowners=_codeowners(data.get("codeowners", True)),
        rationale=Rationale(
            sections=tuple(rationale.get("sections", Rationale.sections)),
            ticket=rationale.get("ticket"),
            ticket_required=rationale.get("ticket_required", True),
            min_words=rationale.get("min_words", 0),
            placeholders=tuple(rationale.get("placeholders", Rationale.placeholders)),
        ),
        approvals=Approvals(**approvals),
        overrides=Overrides(
            allowed=tuple(overrides.get("allowed", Overrides.allowed)),
            min_words=overrides.get("min_words", Overrides.min_words),
        ),
        commands={verb: _listed(who) for verb, who in data.get("commands", {}).items()},
        audit=Audit(**audit),
        deployments=tuple(
            Environment(name, **(env or {}))
            for name, env in data.get("deployments", {}).items()
        ),
        notify=_notify(data.get("notify", {})),
        source=source,
    )


def _area(name: str, raw: dict[str, Any]) -> Area:
    reviewers = dict(raw.get("reviewers", {}))
    for key in ("users", "teams"):
        reviewers[key] = tuple(reviewers.get(key, ()))
    return Area(
        name=name,
        paths=tuple(raw["paths"]),
        reviewers=Reviewers(**reviewers),
        rationale=raw.get("rationale", True),
        description=raw.get("description", ""),
    )


def _codeowners(raw: bool | dict[str, Any]) -> Codeowners:
    if isinstance(raw, bool):
        return Codeowners(enabled=raw)
    return Codeowners(**raw)


def _notify(raw: dict[str, Any]) -> Notify:
    slack = raw.get("slack", {})
    routes = tuple(
        Route(
            channel=r["channel"],
            kinds=tuple(r.get("kinds", ())),
            areas=tuple(r.get("areas", ())),
            environments=tuple(r.get("environments", ())),
        )
        for r in raw.get("routes", ())
    )
    return Notify(
        slack_channel=slack.get("channel"),
        slack_webhook_env=slack.get("webhook_env"),
        slack_token_env=slack.get("token_env"),
        routes=routes,
    )


def _listed(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _default() -> Config:
    text = resources.files("changebot.policy").joinpath("preset.yml").read_text()
    document, problems = _checked(text)
    if problems or document is None:  # pragma: no cover - a packaging bug
        raise ConfigError(f"the default preset is invalid: {problems}")
    return _build(document.data, "default preset")


#: The documented preset used when a repository has no `.changebot.yml`.
DEFAULT_CONFIG = _default()

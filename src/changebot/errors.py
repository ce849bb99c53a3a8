"""The one error hierarchy of changebot.

Every error says what happened (``str(err)``) and what a person can do about
it (``err.hint``). Entry points catch ``ChangebotError`` once and show both.
"""

from __future__ import annotations


class ChangebotError(Exception):
    """Base of every error changebot raises on purpose."""

    #: The exit status the CLI uses for this kind of error.
    exit_code = 2
    #: What a person can do about it, when the subclass knows.
    default_hint = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint or self.default_hint

    def explain(self) -> str:
        """Return the message and the hint as a person would read them."""
        message = str(self)
        return f"{message}\n  hint: {self.hint}" if self.hint else message


class UsageError(ChangebotError):
    """A command was called with arguments that cannot work."""

    default_hint = "run the command with --help to see its arguments"


class ConfigError(ChangebotError):
    """The `.changebot.yml` file or a setting is invalid."""

    default_hint = "fix the file; `changebot config validate FILE` lists every error"

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        problems: list[ConfigProblem] | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems or []


class ConfigProblem:
    """One error found in a configuration file, with where it is."""

    def __init__(self, message: str, *, path: str = "", line: int | None = None):
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "file"
        key = f" at {self.path}" if self.path else ""
        return f"{where}{key}: {self.message}"

    def __repr__(self) -> str:
        return f"ConfigProblem({str(self)!r})"


class SettingsError(ChangebotError):
    """A required setting (environment variable or option) is missing or bad."""

    default_hint = "set it in the environment; README.md lists every setting"


class AuditError(ChangebotError):
    """The audit log could not be read or written."""


class AuditConflict(AuditError):
    """Another writer moved the audit branch first; re-read and retry."""


class KeyFileError(AuditError):
    """A signing or verification key is missing, unreadable or malformed."""

    default_hint = "generate one with `changebot keys generate --out PREFIX`"


class ForgeError(ChangebotError):
    """GitHub (or the simulator) refused or failed a request."""

    def __init__(self, message: str, *, hint: str = "", status: int | None = None):
        super().__init__(message, hint=hint)
        self.status = status


class ForgeUnavailable(ForgeError):
    """GitHub did not answer, or answered 5xx, after every retry."""

    default_hint = "the job is retried; check https://www.githubstatus.com/"


class NotFound(ForgeError):
    """The object asked for does not exist or is not visible to changebot."""


class RateLimited(ForgeUnavailable):
    """GitHub asked changebot to wait longer than a job should block."""

    default_hint = "the job is retried after the limit resets; fewer calls help"

    def __init__(self, message: str, *, retry_at: float, hint: str = "") -> None:
        super().__init__(message, hint=hint, status=403)
        #: POSIX time after which GitHub accepts requests again.
        self.retry_at = retry_at


class Deferred(ChangebotError):
    """GitHub has not caught up with an event yet; the job runs again later."""

    default_hint = "nothing to do: the job is run again after the delay"

    def __init__(self, message: str, *, delay: float, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        #: Seconds to wait before running the job again.
        self.delay = delay


class PermissionDenied(ChangebotError):
    """The person asking has no right to do what they asked."""


class NotifyError(ChangebotError):
    """A notice could not be delivered (Slack refused or is unreachable)."""


class WebhookError(ChangebotError):
    """A webhook delivery is unsigned, wrongly signed or malformed."""


class QueueError(ChangebotError):
    """The job queue (SQLite file or Redis) cannot be reached or used."""

    default_hint = (
        "check CHANGEBOT_DATA_DIR is writable, or that CHANGEBOT_REDIS_URL answers"
    )


class DemoError(ChangebotError):
    """A step of `changebot demo` did not happen as it was narrated."""

    exit_code = 1
    default_hint = (
        "run `changebot -v demo --no-serve` to see the App's log; "
        "the data directory keeps the simulator's repositories"
    )

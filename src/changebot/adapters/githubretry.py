"""When to ask GitHub again: rate limits, 5xx answers and timeouts.

See: https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#handle-rate-limit-errors-appropriately
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

log = logging.getLogger(__name__)

#: GitHub asks to wait at least a minute after a secondary rate limit that
#: came without a Retry-After header.
SECONDARY_LIMIT_WAIT = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try a request, and how long to wait in between."""

    #: Tries in all, the first one included.
    attempts: int = 5
    #: First backoff after a 5xx or a timeout; doubles on each retry.
    base_delay: float = 1.0
    #: Longest backoff after a 5xx or a timeout.
    max_delay: float = 30.0
    #: Longest rate-limit wait worth sleeping through; past it the caller
    #: gets an error and its job is retried later by the queue.
    max_wait: float = 120.0

    def backoff(self, attempt: int) -> float:
        """Return the pause before retry number ``attempt`` (0-based)."""
        return float(min(self.max_delay, self.base_delay * 2**attempt))


def rate_limit_wait(
    status: int, headers: Mapping[str, str], message: str, now: float
) -> float | None:
    """Return how long GitHub asks us to wait, or None when it is no rate limit.

    ``headers`` must have lower-case names.
    """
    if status not in (403, 429):
        return None

    retry_after = _retry_after(headers.get("retry-after"), now)
    if retry_after is not None:
        return retry_after

    if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
        reset = float(headers["x-ratelimit-reset"])
        return max(0.0, reset - now) + 1.0

    if status == 429 or "rate limit" in message.lower():
        return SECONDARY_LIMIT_WAIT
    return None


def _retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        log.warning("ignoring unreadable retry-after header", extra={"value": value})
        return None
    return max(0.0, when - now)


def is_transient(status: int) -> bool:
    """Tell whether a status is worth asking again (GitHub's 5xx answers)."""
    return status >= 500

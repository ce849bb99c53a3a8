"""How changebot sends REST requests to GitHub, whatever does the HTTP.

`Transport` wraps a `Send` function (PyGithub's requester, in
`changebot.adapters.github`) with changebot's own policy: credentials per
request, renewed once after a 401; waits for the primary and secondary rate
limits; bounded backoff after 5xx answers and timeouts; no retry for any other
4xx; and a hook told about every attempt, for metrics.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from changebot.adapters.githubretry import RetryPolicy, is_transient, rate_limit_wait
from changebot.errors import ForgeError, ForgeUnavailable, NotFound, RateLimited

log = logging.getLogger(__name__)

#: Sends one request: (method, path or URL, query, headers, JSON body) ->
#: (status, headers, body text). Raises `NoAnswer` when no answer came.
Send = Callable[
    [str, str, dict[str, Any], dict[str, str], Any], tuple[int, Mapping[str, Any], str]
]
#: Told about every attempt: (method, route template, status or 0 when no
#: answer came, X-RateLimit-Remaining or None). Feeds the server's metrics.
ResponseHook = Callable[[str, str, int, int | None], None]
Sleep = Callable[[float], None]
Clock = Callable[[], float]

_LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
#: Path parameters that may hold several `/`-separated segments.
_MULTI_SEGMENT = {"path", "ref"}


class NoAnswer(Exception):
    """The request timed out or the connection failed: worth another try."""


class Authorizer(Protocol):
    """Gives the Authorization header for a request, and renews it if refused."""

    #: What a person can do when GitHub refuses this credential.
    hint: str

    def header(self) -> str:
        """Return the value of the Authorization header."""
        ...

    def refused(self) -> bool:
        """Forget a refused credential; True when a renewed one may work."""
        ...


@dataclass(frozen=True)
class Answer:
    """One HTTP answer from GitHub: status, lower-case headers, decoded JSON."""

    status: int
    headers: Mapping[str, str]
    data: Any

    def next_url(self) -> str | None:
        """Return the URL of the next page named by the Link header, if any."""
        found = _LINK_NEXT.search(self.headers.get("link", ""))
        return found.group(1) if found else None

    def message(self) -> str:
        """Return GitHub's error message, with the details of `errors` if any."""
        data = self.data if isinstance(self.data, dict) else {}
        details = [_detail(e) for e in data.get("errors") or ()]
        text = str(data.get("message") or f"HTTP {self.status}")
        return "; ".join([text, *filter(None, details)])


def _detail(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or "")
    return str(error)


def expand(route: str, params: Mapping[str, str | int]) -> str:
    """Fill a route template such as ``/repos/{owner}/{repo}`` in, encoded."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        safe = "/" if name in _MULTI_SEGMENT else ""
        return quote(str(params[name]), safe=safe)

    return re.sub(r"\{(\w+)\}", value, route)


class Transport:
    """Sends REST requests to one GitHub host with retries and a response hook."""

    def __init__(
        self,
        send: Send,
        *,
        policy: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
        on_response: ResponseHook | None = None,
    ) -> None:
        self._send = send
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._on_response = on_response

    def request(
        self,
        auth: Authorizer,
        method: str,
        route: str,
        params: Mapping[str, str | int] | None = None,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        url: str | None = None,
    ) -> Answer:
        """Send one request (``url`` overrides the route, for next pages)."""
        target = url or expand(route, params or {})
        renewed = False
        answer: Answer | None = None
        for attempt in range(self.policy.attempts):
            answer = self._attempt(auth, method, route, target, query, body)
            if answer is not None and answer.status < 400:
                return answer
            if answer is not None and answer.status == 401 and not renewed:
                renewed = True
                if auth.refused():
                    continue
            delay = self._delay(auth, method, route, answer, attempt)
            if attempt + 1 < self.policy.attempts:
                log.info(
                    "retrying github request",
                    extra={"method": method, "route": route, "delay": delay},
                )
                self._sleep(delay)
        raise ForgeUnavailable(
            f"GitHub did not answer {method} {route} after "
            f"{self.policy.attempts} attempts",
            status=answer.status if answer else None,
        )

    def pages(
        self,
        auth: Authorizer,
        route: str,
        params: Mapping[str, str | int] | None = None,
        *,
        query: Mapping[str, Any] | None = None,
    ) -> Iterator[Answer]:
        """Yield every page of a GET listing, following the Link header."""
        answer = self.request(auth, "GET", route, params, query=query)
        yield answer
        while next_url := answer.next_url():
            answer = self.request(auth, "GET", route, url=next_url)
            yield answer

    def items(
        self,
        auth: Authorizer,
        route: str,
        params: Mapping[str, str | int] | None = None,
        *,
        query: Mapping[str, Any] | None = None,
        key: str | None = None,
    ) -> Iterator[Any]:
        """Yield every item of a paginated listing (under ``key`` if wrapped)."""
        for page in self.pages(auth, route, params, query=query):
            yield from page.data[key] if key else page.data

    def _attempt(
        self,
        auth: Authorizer,
        method: str,
        route: str,
        target: str,
        query: Mapping[str, Any] | None,
        body: Any,
    ) -> Answer | None:
        headers = {
            "Authorization": auth.header(),
            "Accept": "application/vnd.github+json",
        }
        try:
            status, raw_headers, output = self._send(
                method, target, dict(query or {}), headers, body
            )
        except NoAnswer as err:
            log.info("github request failed", extra={"route": route, "error": err})
            self._notify(method, route, 0, {})
            return None
        lowered = {k.lower(): str(v) for k, v in raw_headers.items()}
        self._notify(method, route, status, lowered)
        return Answer(status, lowered, _decode(output, status))

    def _delay(
        self,
        auth: Authorizer,
        method: str,
        route: str,
        answer: Answer | None,
        attempt: int,
    ) -> float:
        if answer is None or is_transient(answer.status):
            return self.policy.backoff(attempt)
        wait = rate_limit_wait(
            answer.status, answer.headers, answer.message(), self._clock()
        )
        if wait is None:
            raise refusal(auth, method, route, answer)
        if wait > self.policy.max_wait:
            raise RateLimited(
                f"GitHub's rate limit holds {method} {route} for {wait:.0f} s",
                retry_at=self._clock() + wait,
            )
        return wait

    def _notify(
        self, method: str, route: str, status: int, headers: Mapping[str, str]
    ) -> None:
        if self._on_response is None:
            return
        remaining = headers.get("x-ratelimit-remaining")
        left = int(float(remaining)) if remaining else None
        self._on_response(method, route, status, left)


def _decode(output: str, status: int) -> Any:
    """Decode a JSON answer; a proxy's error page becomes its message."""
    if not output.strip():
        return None
    try:
        return json.loads(output)
    except ValueError as err:
        if status >= 400:
            return {"message": output.strip()[:200]}
        raise ForgeError(
            f"GitHub answered {status} with a body that is not JSON",
            hint="check that the base URL points at GitHub's REST API",
        ) from err


def refusal(auth: Authorizer, method: str, route: str, answer: Answer) -> ForgeError:
    """Turn a 4xx answer into the error that says what to do about it."""
    what = f"GitHub refused {method} {route} ({answer.status}): {answer.message()}"
    if answer.status == 404:
        return NotFound(
            what,
            status=404,
            hint="check the name, and that the GitHub App is installed there",
        )
    if answer.status == 401:
        return ForgeError(what, status=401, hint=auth.hint)
    if answer.status == 403:
        return ForgeError(
            what,
            status=403,
            hint="grant the GitHub App (or token) the permission this call needs",
        )
    return ForgeError(
        what, status=answer.status, hint="this request will not succeed as sent"
    )

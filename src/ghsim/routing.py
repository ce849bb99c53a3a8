"""The simulator's request model: routes, calls, replies, errors and pages.

Handlers are plain functions of a `Call`; only `ghsim.http` knows about
werkzeug, so the handlers read like GitHub's documentation of each endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

if TYPE_CHECKING:
    from ghsim.hub import Hub

DOCS = "https://docs.github.com/rest"


@dataclass(frozen=True)
class Actor:
    """Who a request acts as."""

    kind: str  # "user", "installation", "app" or "anonymous"
    login: str | None = None
    installation_id: int | None = None


ANONYMOUS = Actor("anonymous")


@dataclass
class Call:
    """One request, as the handlers see it."""

    hub: Hub
    method: str
    path: str
    query: dict[str, str]
    body: Any
    actor: Actor

    def arg(self, name: str, default: str | None = None) -> str | None:
        """Return a query parameter."""
        return self.query.get(name, default)

    def field(self, name: str, default: Any = None) -> Any:
        """Return a field of the JSON body."""
        return self.body.get(name, default) if isinstance(self.body, dict) else default

    def need(self, name: str) -> Any:
        """Return a required body field, or answer 422 as GitHub does."""
        value = self.field(name)
        if value is None:
            raise ApiError(
                422,
                "Invalid request.",
                [{"resource": "Request", "field": name, "code": "missing_field"}],
            )
        return value

    @property
    def login(self) -> str:
        """Return the login the call acts as, or answer 401."""
        if self.actor.login is None:
            raise ApiError(401, "Requires authentication")
        return self.actor.login


@dataclass
class Reply:
    """What a handler answers: a status, a JSON body and headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """An answer GitHub gives as an error body."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: Sequence[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = list(errors or [])
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """Return the JSON body GitHub sends with this status."""
        shaped: dict[str, Any] = {"message": self.message, "documentation_url": DOCS}
        if self.errors:
            shaped["errors"] = self.errors
        shaped["status"] = str(self.status)
        return shaped


def not_found() -> ApiError:
    """Return GitHub's 404."""
    return ApiError(404, "Not Found")


def invalid(
    resource: str, field: str, code: str = "invalid", message: str | None = None
) -> ApiError:
    """Return GitHub's 422 "Validation Failed" for one field."""
    error = {"resource": resource, "field": field, "code": code}
    if message:
        error["message"] = message
    return ApiError(422, "Validation Failed", [error])


Handler = Callable[..., Any]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class Route:
    """A method and a werkzeug rule bound to a handler."""

    method: str
    rule: str
    handler: Handler


ROUTES: list[Route] = []


def route(method: str, rule: str) -> Callable[[H], H]:
    """Register a handler for ``method`` on ``rule`` (werkzeug rule syntax)."""

    def register(handler: H) -> H:
        ROUTES.append(Route(method, rule, handler))
        return handler

    return register


def paginate(call: Call, items: Sequence[Any], per_page_max: int = 100) -> Reply:
    """Answer one page of ``items`` with GitHub's Link header."""
    per_page = _bounded(call.arg("per_page"), 30, 1, per_page_max)
    page = _bounded(call.arg("page"), 1, 1, 10**6)
    last = max(1, -(-len(items) // per_page))
    start = (page - 1) * per_page
    reply = Reply(200, list(items[start : start + per_page]))
    links = _links(call, page, last, per_page)
    if links:
        reply.headers["Link"] = links
    return reply


def _links(call: Call, page: int, last: int, per_page: int) -> str:
    wanted = []
    if page < last:
        wanted += [("next", page + 1), ("last", last)]
    if page > 1:
        wanted = [("prev", page - 1), ("first", 1), *wanted]
    return ", ".join(
        f'<{_page_url(call, n, per_page)}>; rel="{rel}"' for rel, n in wanted
    )


def _page_url(call: Call, page: int, per_page: int) -> str:
    query = {**call.query, "per_page": str(per_page), "page": str(page)}
    return f"{call.hub.base_url}{call.path}?{urlencode(query)}"


def _bounded(text: str | None, default: int, low: int, high: int) -> int:
    try:
        value = int(text) if text else default
    except ValueError:
        value = default
    return max(low, min(high, value))

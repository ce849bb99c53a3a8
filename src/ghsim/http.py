"""The WSGI face of the simulator: the only module that knows werkzeug.

Each request goes through the same steps:

1. strip a GitHub Enterprise style `/api/v3` prefix;
2. authenticate (401 in GitHub's shape when the credentials are bad);
3. suffer an injected fault, if one matches;
4. dispatch to the handler and shape its answer or its error as JSON,
   with rate-limit headers on every answer.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ghsim.faults import Fault
from ghsim.hub import Hub
from ghsim.routing import ANONYMOUS, ROUTES, ApiError, Call, Reply

log = logging.getLogger(__name__)

GHES_PREFIX = "/api/v3"
EXCHANGES_KEPT = 10_000


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, kept so tests can check them against the schemas."""

    method: str
    path: str  # as sent, percent-encoding kept
    query: dict[str, str]
    request: Any
    status: int
    response: Any
    actor: str


def url_map() -> Map:
    """Build the werkzeug routing map from every registered route."""
    rules = [
        Rule(
            r.rule,
            methods=[r.method],
            endpoint=(r.method, r.rule),
            strict_slashes=False,
        )
        for r in ROUTES
    ]
    return Map(rules, merge_slashes=False)


class Application:
    """A WSGI application serving one `Hub`."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.map = url_map()
        self.handlers = {(r.method, r.rule): r.handler for r in ROUTES}
        self.exchanges: deque[Exchange] = deque(maxlen=EXCHANGES_KEPT)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self.respond(request)
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        """Answer one request."""
        path = request.path
        if path.startswith(GHES_PREFIX + "/"):
            path = path[len(GHES_PREFIX) :]
        actor = ANONYMOUS
        try:
            actor = self.hub.app.actor(request.headers.get("Authorization"))
            self._suffer_fault(request.method, path)
            reply = self._dispatch(request, path, actor)
        except ApiError as err:
            reply = Reply(err.status, err.body(), err.headers)
        self._remember(request, actor, reply)
        return self._response(reply, self.hub.count_call(actor))

    def _remember(self, request: Request, actor: Any, reply: Reply) -> None:
        raw = str(request.environ.get("RAW_URI") or request.path).split("?", 1)[0]
        body = request.get_json(silent=True) if request.get_data() else None
        self.exchanges.append(
            Exchange(
                request.method,
                raw,
                dict(request.args.items()),
                body,
                reply.status,
                reply.body,
                f"{actor.kind}:{actor.login or ''}",
            )
        )

    def _dispatch(self, request: Request, path: str, actor: Any) -> Reply:
        adapter = self.map.bind("sim", path_info=path)
        try:
            endpoint, args = adapter.match(path, method=request.method)
        except NotFound as err:
            raise ApiError(404, "Not Found") from err
        except MethodNotAllowed as err:
            raise ApiError(404, "Not Found") from err
        call = Call(
            self.hub,
            request.method,
            path,
            dict(request.args.items()),
            _json_body(request),
            actor,
        )
        answer = self.handlers[endpoint](call, **args)
        return answer if isinstance(answer, Reply) else Reply(200, answer)

    def _suffer_fault(self, method: str, path: str) -> None:
        fault = self.hub.faults.take(method, path)
        if fault is not None:
            log.info("injecting fault", extra={"kind": fault.kind, "path": path})
            raise _fault_error(fault)

    def _response(self, reply: Reply, rate: dict[str, str]) -> Response:
        headers = {
            **rate,
            **reply.headers,
            "X-GitHub-Request-Id": f"{time.time_ns():x}",
        }
        if reply.status == 204 or (reply.body is None and reply.status < 300):
            return Response(status=reply.status, headers=headers)
        if isinstance(reply.body, bytes | str):
            return Response(reply.body, status=reply.status, headers=headers)
        text = json.dumps(reply.body)
        return Response(
            text,
            status=reply.status,
            headers=headers,
            content_type="application/json; charset=utf-8",
        )


def _json_body(request: Request) -> Any:
    raw = request.get_data()
    if not raw:
        return {}
    if request.mimetype == "application/x-www-form-urlencoded":
        return dict(request.form.items())
    try:
        return json.loads(raw)
    except ValueError as err:
        raise ApiError(400, "Problems parsing JSON") from err


def _fault_error(fault: Fault) -> ApiError:
    if fault.kind == "timeout":
        time.sleep(fault.delay)
        return ApiError(504, "We couldn't respond to your request in time.")
    if fault.kind == "secondary":
        return ApiError(
            403,
            "You have exceeded a secondary rate limit."
            " Please wait a few minutes before you try again.",
            headers={"Retry-After": str(fault.retry_after)},
        )
    if fault.kind == "primary":
        reset = str(int(time.time()) + fault.retry_after)
        return ApiError(
            403,
            "API rate limit exceeded for installation.",
            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
        )
    if fault.kind == "429":
        return ApiError(
            429, "Too Many Requests", headers={"Retry-After": str(fault.retry_after)}
        )
    return ApiError(int(fault.kind), "Server Error")

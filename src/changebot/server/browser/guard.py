"""Who may see what: sessions, read access per repository, CSRF, headers.

Every request under /audit passes `admit` before its view runs: it finds the
reader's session, refreshes (at most every ``access_ttl`` seconds) the set of
repositories GitHub lets them read, and checks the CSRF token of anything
that is not a plain read.
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass
from urllib.parse import quote

from flask import Response, current_app, g, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from changebot.index import Search
from changebot.server.browser.config import BrowserConfig
from changebot.server.browser.identity import GitHubAccounts
from changebot.server.browser.sessions import Session, Sessions

log = logging.getLogger(__name__)

COOKIE = "changebot_session"
STATE_COOKIE = "changebot_oauth_state"
#: Endpoints a reader reaches before signing in.
OPEN = frozenset(
    {"browser.login", "browser.callback", "browser.login_page", "browser.static"}
)
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: Sent with every response of the app, pages and API alike.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


@dataclass
class Browser:
    """The audit browser's collaborators, kept on the Flask app."""

    config: BrowserConfig
    search: Search
    sessions: Sessions
    accounts: GitHubAccounts


@dataclass(frozen=True)
class Reader:
    """A signed-in person and the repositories they may see right now."""

    session: Session
    visible: frozenset[str]

    @property
    def login(self) -> str:
        """Return the reader's GitHub login."""
        return self.session.login


def browser() -> Browser:
    """Return the audit browser of the current app."""
    found: Browser = current_app.extensions["changebot.browser"]
    return found


def reader() -> Reader:
    """Return the reader of the current request (set by `admit`)."""
    found: Reader = g.reader
    return found


def admit() -> BaseResponse | None:
    """Let the request through, or answer it: sign-in, 401, or 400 for CSRF."""
    if request.endpoint in OPEN:
        return None
    session = browser().sessions.find(request.cookies.get(COOKIE, ""))
    if session is None:
        return _sign_in_first()
    if request.method not in _SAFE_METHODS and not _csrf_ok(session):
        log.warning("csrf token missing or wrong", extra={"login": session.login})
        return answer({"error": "the form expired; reload the page"}, 400)
    g.reader = Reader(session, _visible(session))
    return None


def secure(response: Response) -> Response:
    """Add the security headers to any response of the app."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/audit"):
        response.headers.setdefault("Cache-Control", "no-store")
        if browser().config.secure_cookies:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
    return response


def set_cookie(response: BaseResponse, name: str, value: str, max_age: int) -> None:
    """Set a cookie the way every browser cookie here is set."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/audit",
        secure=browser().config.secure_cookies,
        httponly=True,
        samesite="Lax",
    )


def same_site_path(target: str) -> str:
    """Return ``target`` if it is a path under /audit, else /audit/."""
    ok = target.startswith("/audit") and not target.startswith("//")
    return target if ok and "\\" not in target else "/audit/"


def _visible(session: Session) -> frozenset[str]:
    ttl = browser().config.access_ttl
    if session.readable is not None and time.time() - session.readable_at < ttl:
        return session.readable
    indexed = browser().search.repos()
    readable = browser().accounts.readable(session.token, indexed)
    browser().sessions.remember_readable(session, readable)
    log.info("access refreshed", extra={"login": session.login, "repos": len(readable)})
    return frozenset(readable)


def _csrf_ok(session: Session) -> bool:
    sent = request.form.get("csrf") or request.headers.get("X-CSRF-Token", "")
    return hmac.compare_digest(sent.encode(), session.csrf.encode())


def _sign_in_first() -> BaseResponse:
    if wants_json():
        return answer({"error": "sign in first", "login": "/audit/login"}, 401)
    target = quote(same_site_path(request.full_path.rstrip("?")), safe="/?=&")
    return redirect(f"/audit/login?next={target}")


def wants_json() -> bool:
    """Tell whether the request expects JSON (the API and exports)."""
    return request.path.startswith("/audit/api/") or request.path.endswith(
        (".jsonl", ".csv")
    )


def answer(body: dict[str, str], status: int) -> Response:
    """Return a JSON error answer."""
    response = jsonify(body)
    response.status_code = status
    return response

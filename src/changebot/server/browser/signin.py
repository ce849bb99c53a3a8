"""Sign in with GitHub (the App's OAuth web flow) and sign out."""

from __future__ import annotations

import hmac
import logging
import secrets

from flask import Response, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from changebot.errors import ChangebotError
from changebot.server.browser import guard
from changebot.server.browser.blueprint import blueprint, page

log = logging.getLogger(__name__)

_STATE_AGE = 600


@blueprint.get("/login")
def login() -> BaseResponse:
    """Send the reader to GitHub with a fresh state bound to this browser."""
    state = secrets.token_urlsafe(32)
    target = guard.same_site_path(request.args.get("next", "/audit/"))
    url = guard.browser().accounts.authorize_url(state, _callback_url())
    response = redirect(url)
    guard.set_cookie(response, guard.STATE_COOKIE, f"{state} {target}", _STATE_AGE)
    return response


@blueprint.get("/callback")
def callback() -> BaseResponse:
    """Finish the sign-in: check the state, trade the code, start a session."""
    expected, _, target = request.cookies.get(guard.STATE_COOKIE, "").partition(" ")
    state = request.args.get("state", "")
    code = request.args.get("code", "")
    if not expected or not hmac.compare_digest(state.encode(), expected.encode()):
        log.warning("oauth state mismatch")
        return _refused("signin_state.html", 400)
    if not code or len(code) > 200:
        return _refused("signin_state.html", 400)
    try:
        accounts = guard.browser().accounts
        token = accounts.exchange(code, _callback_url())
        login = accounts.login_of(token)
    except ChangebotError as err:
        log.warning("sign-in failed", extra={"error": str(err)})
        return _refused("signin_failed.html", 403)
    session = guard.browser().sessions.start(login, token)
    log.info("reader signed in", extra={"login": login})
    response = redirect(guard.same_site_path(target))
    guard.set_cookie(
        response, guard.COOKIE, session.id, int(guard.browser().config.session_ttl)
    )
    response.delete_cookie(guard.STATE_COOKIE, path="/audit")
    return response


@blueprint.post("/logout")
def logout() -> BaseResponse:
    """End the reader's session (the CSRF token was checked by the guard)."""
    guard.browser().sessions.end(guard.reader().session.id)
    response = redirect(url_for("browser.login_page"))
    response.delete_cookie(guard.COOKIE, path="/audit")
    return response


@blueprint.get("/signed-out")
def login_page() -> Response:
    """Show the page that offers to sign in."""
    return page("signed_out.html", status=200, reader=None)


def _refused(template: str, status: int) -> Response:
    response = page(template, status=status, reader=None)
    response.delete_cookie(guard.STATE_COOKIE, path="/audit")
    return response


def _callback_url() -> str:
    return url_for("browser.callback", _external=True)

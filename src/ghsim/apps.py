"""The App: itself, installations, tokens, hook deliveries, manifest and OAuth.

See: https://docs.github.com/rest/apps
"""

from __future__ import annotations

import html
import secrets
from typing import Any
from urllib.parse import urlencode

from ghsim.hub import Hub
from ghsim.routing import ApiError, Call, Reply, not_found, route
from ghsim.state import stamp
from ghsim.webhooks import Delivery


def _require_jwt(call: Call) -> None:
    if call.actor.kind != "app":
        raise ApiError(401, "A JSON web token could not be decoded")


@route("GET", "/app")
def get_app(call: Call) -> dict[str, Any]:
    """Return the App the JWT belongs to."""
    _require_jwt(call)
    return call.hub.app_shape()


@route("GET", "/app/installations")
def list_installations(call: Call) -> list[dict[str, Any]]:
    """List the App's installations."""
    _require_jwt(call)
    return [call.hub.installation_shape(i) for i in call.hub.app.installations.values()]


@route("GET", "/app/installations/<int:installation_id>")
def get_installation(call: Call, installation_id: int) -> dict[str, Any]:
    """Return one installation."""
    _require_jwt(call)
    installation = call.hub.app.installation(installation_id)
    if installation is None:
        raise not_found()
    return call.hub.installation_shape(installation)


@route("POST", "/app/installations/<int:installation_id>/access_tokens")
def create_token(call: Call, installation_id: int) -> Reply:
    """Issue an installation token (valid for the simulator's token TTL)."""
    _require_jwt(call)
    installation = call.hub.app.installation(installation_id)
    if installation is None:
        raise not_found()
    token = call.hub.app.issue_token(installation_id)
    return Reply(
        201,
        {
            "token": token.value,
            "expires_at": stamp(token.expires_at),
            "permissions": call.hub.installation_shape(installation)["permissions"],
            "repository_selection": "all",
        },
    )


@route("GET", "/repos/<owner>/<name>/installation")
def repo_installation(call: Call, owner: str, name: str) -> dict[str, Any]:
    """Return the installation that covers a repository."""
    _require_jwt(call)
    repo = call.hub.world.repo(owner, name)
    if repo is None:
        raise not_found()
    return call.hub.installation_shape(call.hub.installation_for(repo.owner))


@route("GET", "/orgs/<org>/installation")
@route("GET", "/users/<org>/installation")
def account_installation(call: Call, org: str) -> dict[str, Any]:
    """Return the installation on an organization or user."""
    _require_jwt(call)
    if call.hub.world.find_account(org) is None:
        raise not_found()
    return call.hub.installation_shape(call.hub.installation_for(org))


@route("GET", "/installation/repositories")
def installation_repos(call: Call) -> dict[str, Any]:
    """List the repositories an installation token can reach."""
    if call.actor.kind != "installation":
        raise ApiError(403, "This endpoint requires an installation token.")
    installation = call.hub.app.installation(call.actor.installation_id or 0)
    owner = installation.account.lower() if installation else ""
    repos = [r for r in call.hub.world.repos.values() if r.owner.lower() == owner]
    return {
        "total_count": len(repos),
        "repository_selection": "all",
        "repositories": [call.hub.repo_shape(r) for r in repos],
    }


# --- hook deliveries ------------------------------------------------------------


def delivery_shape(delivery: Delivery, full: bool = False) -> dict[str, Any]:
    """Return a hook-delivery-item (or a hook-delivery with request and response)."""
    shaped: dict[str, Any] = {
        "id": delivery.id,
        "guid": delivery.guid,
        "delivered_at": stamp(delivery.delivered_at),
        "redelivery": delivery.redelivery,
        "duration": delivery.duration,
        "status": delivery.status,
        "status_code": delivery.status_code,
        "event": delivery.event,
        "action": delivery.action,
        "installation_id": delivery.installation_id,
        "repository_id": delivery.repository_id,
        "throttled_at": None,
    }
    if full:
        shaped["request"] = {"headers": delivery.headers, "payload": delivery.payload}
        shaped["response"] = {"headers": {}, "payload": delivery.response_body}
    return shaped


@route("GET", "/app/hook/deliveries")
def list_deliveries(call: Call) -> Reply:
    """List deliveries newest first, paged by an opaque `cursor`."""
    _require_jwt(call)
    per_page = max(1, min(100, int(call.arg("per_page") or 30)))
    newest = sorted(call.hub.hooks.deliveries, key=lambda d: d.id, reverse=True)
    cursor = call.arg("cursor")
    if cursor:
        newest = [d for d in newest if d.id < int(cursor)]
    page = newest[:per_page]
    reply = Reply(200, [delivery_shape(d) for d in page])
    if len(newest) > per_page:
        query = urlencode({"per_page": per_page, "cursor": page[-1].id})
        reply.headers["Link"] = (
            f'<{call.hub.base_url}/app/hook/deliveries?{query}>; rel="next"'
        )
    return reply


@route("GET", "/app/hook/deliveries/<int:delivery_id>")
def get_delivery(call: Call, delivery_id: int) -> dict[str, Any]:
    """Return one delivery with its request and response."""
    _require_jwt(call)
    delivery = call.hub.hooks.find(delivery_id)
    if delivery is None:
        raise not_found()
    return delivery_shape(delivery, full=True)


@route("POST", "/app/hook/deliveries/<int:delivery_id>/attempts")
def redeliver(call: Call, delivery_id: int) -> Reply:
    """Deliver a recorded event again."""
    _require_jwt(call)
    if call.hub.hooks.redeliver(delivery_id) is None:
        raise not_found()
    return Reply(202, {})


# --- the manifest flow and OAuth ----------------------------------------------


@route("POST", "/app-manifests/<code>/conversions")
def convert_manifest(call: Call, code: str) -> Reply:
    """Trade a manifest code for the App's credentials and private key."""
    hub = call.hub
    if code not in hub.manifest_codes:
        raise not_found()
    hub.manifest_codes.discard(code)
    return Reply(
        201,
        hub.app_shape()
        | {
            "webhook_secret": hub.app.webhook_secret,
            "pem": hub.app.private_pem.decode(),
            "client_id": hub.app.client_id,
            "client_secret": hub.app.client_secret,
        },
    )


@route("GET", "/settings/apps/new")
@route("POST", "/settings/apps/new")
def manifest_form(call: Call) -> Reply:
    """Accept a manifest and redirect to its `redirect_url` with a code."""
    code = secrets.token_hex(10)
    call.hub.manifest_codes.add(code)
    target = call.arg("redirect_url") or call.field("redirect_url") or "/"
    state = call.arg("state") or call.field("state")
    query = urlencode({"code": code, **({"state": state} if state else {})})
    return Reply(302, "", {"Location": f"{target}?{query}"})


@route("GET", "/login/oauth/authorize")
def authorize(call: Call) -> Reply:
    """Sign in as `login` (or show a form asking for one) and redirect with a code."""
    login = call.arg("login")
    redirect = call.arg("redirect_uri") or "/"
    if not login:
        return Reply(
            200, _login_form(call.query), {"Content-Type": "text/html; charset=utf-8"}
        )
    call.hub.account(login)
    query = {"code": call.hub.app.oauth_code(login)}
    if call.arg("state"):
        query["state"] = str(call.arg("state"))
    return Reply(302, "", {"Location": f"{redirect}?{urlencode(query)}"})


def _login_form(query: dict[str, str]) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in query.items()
        if k != "login"
    )
    return (
        "<!doctype html><title>Sign in to the GitHub simulator</title>"
        '<form method="get" action="/login/oauth/authorize">'
        f'<label>Login <input name="login" autofocus></label>{hidden}'
        '<button type="submit">Authorize</button></form>'
    )


@route("POST", "/login/oauth/access_token")
def access_token(call: Call) -> dict[str, Any]:
    """Trade an authorization code for a user token."""
    hub: Hub = call.hub
    if (
        call.field("client_id") != hub.app.client_id
        or call.field("client_secret") != hub.app.client_secret
    ):
        return {
            "error": "incorrect_client_credentials",
            "error_description": (
                "The client_id and/or client_secret passed are incorrect."
            ),
        }
    token = hub.app.exchange_code(str(call.field("code", "")))
    if token is None:
        return {
            "error": "bad_verification_code",
            "error_description": "The code passed is incorrect or expired.",
        }
    return {
        "access_token": token.value,
        "token_type": "bearer",
        "scope": "",
        "expires_in": 28800,
    }


@route("GET", "/user/installations")
def user_installations(call: Call) -> dict[str, Any]:
    """List the installations a user token can see."""
    if call.actor.kind != "user":
        raise ApiError(403, "This endpoint requires a user token.")
    seen = [
        i
        for i in call.hub.app.installations.values()
        if i.account.lower() == call.login.lower()
        or call.login.lower() in call.hub.world.account(i.account).members
    ]
    return {
        "total_count": len(seen),
        "installations": [call.hub.installation_shape(i) for i in seen],
    }

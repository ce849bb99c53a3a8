"""`/setup`: create changebot's GitHub App from a manifest, on a fresh server.

`changebot serve` on a data directory with no App credentials serves only
this page (and /healthz) until the App exists.

It is offered when ``CHANGEBOT_PUBLIC_URL`` is set (the manifest's webhook
and callback URLs are made from it):

1. `GET /setup?token=T` shows a form that posts the App manifest (least
   permissions, the events changebot answers) to GitHub. The token is
   printed in the terminal, so only the operator can start the flow.
2. GitHub creates the App and sends the browser to `/setup/callback` with
   a one-use code; the server trades it for the App's id, private key,
   webhook secret and OAuth client, and stores them with mode 0600.
3. It makes the Ed25519 key that signs the audit log, and shows the public
   half to pin out of band.
4. `changebot serve` then starts for real, with the stored credentials
   (`adopt_stored_app` puts them in the environment of every process).

See: https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from flask import Blueprint, Flask, Response, current_app, redirect, request
from werkzeug.serving import make_server
from werkzeug.wrappers import Response as BaseResponse

from changebot.audit.signing import SigningKey
from changebot.compose import Services
from changebot.errors import ForgeError, SettingsError
from changebot.render import render
from changebot.settings import Settings

log = logging.getLogger(__name__)

APP_FILE = "github-app.json"
KEY_FILE = "github-app.pem"
SIGNING_PREFIX = "audit-signing"
TOKEN_FILE = "setup-token"  # noqa: S105 - a file name, not a password
#: Set on the Flask app; the callback sets it once the App is stored.
DONE = "changebot.setup_done"

#: What changebot needs, and nothing more. See docs/production.md.
PERMISSIONS = {
    "administration": "read",  # branch_protection_rule events
    "checks": "write",  # the `changebot` check run
    "contents": "write",  # read policy and diffs; append to the audit branch
    "deployments": "write",  # read deployments; add the summary status
    "issues": "write",  # issue_comment events; answer commands
    "members": "read",  # team membership, member events
    "metadata": "read",  # required of every App
    "pull_requests": "write",  # read PRs and reviews; the summary comment
}
EVENTS = [
    "branch_protection_rule",
    "deployment_protection_rule",
    "deployment_status",
    "issue_comment",
    "member",
    "pull_request",
    "pull_request_review",
    "push",
]

blueprint = Blueprint("setup", __name__)


# --- the stored App ---------------------------------------------------------


def stored_env(data_dir: Path) -> dict[str, str]:
    """Return the settings a stored App provides, as environment variables."""
    try:
        app = json.loads((data_dir / APP_FILE).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        raise SettingsError(
            f"{data_dir / APP_FILE} cannot be read: {err}",
            hint="restore it from a backup, or move it away to run /setup again",
        ) from err
    return {
        "CHANGEBOT_APP_ID": str(app["id"]),
        "CHANGEBOT_PRIVATE_KEY_PATH": str(data_dir / KEY_FILE),
        "CHANGEBOT_WEBHOOK_SECRET": str(app["webhook_secret"]),
        "CHANGEBOT_SIGNING_KEY_PATH": str(data_dir / f"{SIGNING_PREFIX}.key"),
        "CHANGEBOT_OAUTH_CLIENT_ID": str(app["client_id"]),
        "CHANGEBOT_OAUTH_CLIENT_SECRET": str(app["client_secret"]),
    }


def adopt_stored_app(environ: MutableMapping[str, str] | None = None) -> bool:
    """Fill unset settings from the App stored in the data directory.

    Variables already set win, so an operator can still override any of
    them. Return whether a stored App was found.
    """
    env = os.environ if environ is None else environ
    stored = stored_env(Settings.from_env(env).data_dir)
    for name, value in stored.items():
        if not env.get(name, "").strip():
            env[name] = value
    return bool(stored)


def wanted(settings: Settings) -> bool:
    """Say whether to offer /setup: no App credentials set or stored, yet.

    The manifest must name a webhook URL GitHub can reach, so /setup is
    offered only when ``CHANGEBOT_PUBLIC_URL`` says what that is; without
    it, a server with no credentials stops and names the missing setting.
    """
    configured = settings.webhook_secret or settings.app_id
    stored = (settings.data_dir / APP_FILE).exists()
    return not configured and not stored and bool(settings.public_url)


# --- serving /setup until the App exists ------------------------------------


def offer_setup(host: str, port: int, announce: Callable[[str], None]) -> None:
    """On a fresh data directory, serve /setup until the App is stored.

    Returns at once when the App's credentials are set or stored; then
    they are in the environment, for this process and its children.
    """
    if adopt_stored_app() or not wanted(Settings.from_env()):
        return
    from changebot.server import create_app

    settings = Settings.from_env()
    token = new_token(settings.data_dir)
    app = create_app(settings)
    done = app.extensions[DONE]
    server = make_server(host, port, app, threaded=True)
    local = _local_url(host, port)
    public = str(settings.public_url).rstrip("/")
    announce(render("setup/announce.txt", public=public, local=local, token=token))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    done.wait()
    # NOTE: let the callback's page reach the browser before the port closes.
    time.sleep(0.5)
    server.shutdown()
    server.server_close()
    adopt_stored_app()


def create_setup_app(services: Services) -> Flask:
    """Return the web app of a server with no App yet: /setup and /healthz."""
    from changebot.server import operations

    app = Flask("changebot")
    app.extensions["changebot"] = services
    app.extensions[DONE] = threading.Event()
    app.register_blueprint(blueprint)
    app.register_blueprint(operations.blueprint)
    log.info("no github app yet: serving /setup")
    return app


def new_token(data_dir: Path) -> str:
    """Make the one-time token that opens /setup, kept in the data directory."""
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    _write_private(data_dir / TOKEN_FILE, token.encode(), replace=True)
    return token


# --- the pages --------------------------------------------------------------


@blueprint.get("/")
def home() -> BaseResponse:
    """Send a visitor of the bare server to the setup page."""
    return redirect("/setup")


@blueprint.get("/setup")
def start() -> Response:
    """Show the manifest form, to whoever holds the setup token."""
    token = request.args.get("token", "")
    if not _token_ok(token):
        return _page("setup/locked.html", 403)
    org = request.args.get("org", "").strip()
    return _page(
        "setup/start.html",
        200,
        action=_new_app_url(org),
        state=_state_of(token),
        manifest=json.dumps(manifest(_public_url()), indent=2),
        org=org,
        token=token,
    )


@blueprint.get("/setup/callback")
def callback() -> Response:
    """Trade GitHub's code for the App's credentials; store them; make the key."""
    data_dir = _services().settings.data_dir
    if (data_dir / APP_FILE).exists():
        return _page("setup/locked.html", 409, already=True)
    token = _read_token(data_dir)
    state = request.args.get("state", "")
    code = request.args.get("code", "")
    if not token or not hmac.compare_digest(state, _state_of(token)):
        log.warning("setup callback with a wrong state")
        return _page("setup/locked.html", 403)
    if not code or len(code) > 200:
        return _page("setup/failed.html", 400, error="GitHub sent no code back")
    try:
        app = convert(_services().settings.github_url, code)
    except ForgeError as err:
        log.warning("manifest conversion failed", extra={"status": err.status})
        return _page("setup/failed.html", 502, error=err.explain())
    key = store(data_dir, app, _services().settings.signing_key_path)
    current_app.extensions[DONE].set()
    return _page("setup/done.html", 201, app=app, key=key, data_dir=data_dir)


# --- the manifest and its conversion ---------------------------------------


def manifest(public_url: str, name: str = "changebot") -> dict[str, Any]:
    """Return the App manifest for a server reachable at ``public_url``."""
    base = public_url.rstrip("/")
    return {
        "name": name,
        "url": base,
        "description": (
            "Makes every infrastructure and configuration change accountable."
        ),
        "hook_attributes": {"url": f"{base}/webhook", "active": True},
        "redirect_url": f"{base}/setup/callback",
        "callback_urls": [f"{base}/audit/callback"],
        "public": False,
        "request_oauth_on_install": False,
        "default_permissions": dict(PERMISSIONS),
        "default_events": list(EVENTS),
    }


def convert(api_url: str, code: str) -> dict[str, Any]:
    """Trade a manifest code for the new App (id, pem, webhook secret, client)."""
    url = f"{api_url.rstrip('/')}/app-manifests/{quote(code, safe='')}/conversions"
    try:
        answer = requests.post(
            url, headers={"Accept": "application/vnd.github+json"}, timeout=15
        )
    except requests.RequestException as err:
        raise ForgeError(
            f"GitHub did not answer the manifest conversion: {err}",
            hint="check CHANGEBOT_GITHUB_URL and that this server can reach it",
        ) from err
    if answer.status_code != 201:
        raise ForgeError(
            f"GitHub refused the manifest code ({answer.status_code})",
            hint="codes work once and for one hour; start again from /setup",
            status=answer.status_code,
        )
    created: dict[str, Any] = answer.json()
    return created


def store(
    data_dir: Path, app: dict[str, Any], signing_key_path: Path | None = None
) -> SigningKey:
    """Write the App's credentials (mode 0600); return the audit signing key.

    The key is made in the data directory, unless one is configured or was
    made there already: a key that signed entries is never replaced.
    """
    kept = {
        name: app.get(name) for name in ("id", "slug", "name", "html_url", "client_id")
    } | {
        "owner": (app.get("owner") or {}).get("login"),
        "webhook_secret": app["webhook_secret"],
        "client_secret": app["client_secret"],
    }
    _write_private(data_dir / KEY_FILE, str(app["pem"]).encode(), replace=True)
    key = _signing_key(data_dir, signing_key_path, str(app.get("slug") or "changebot"))
    # NOTE: written last: its presence is what marks the App as set up.
    _write_private(data_dir / APP_FILE, json.dumps(kept, indent=2).encode())
    (data_dir / TOKEN_FILE).unlink(missing_ok=True)
    log.info("github app stored", extra={"app_id": app["id"], "slug": app.get("slug")})
    return key


def _signing_key(data_dir: Path, configured: Path | None, name: str) -> SigningKey:
    existing = configured or data_dir / f"{SIGNING_PREFIX}.key"
    if existing.exists():
        return SigningKey.load(existing)
    key = SigningKey.generate(name)
    key.save(data_dir / SIGNING_PREFIX)
    log.info("audit signing key made", extra={"keyid": key.keyid})
    return key


# --- helpers of the pages above ---------------------------------------------


def _services() -> Services:
    services: Services = current_app.extensions["changebot"]
    return services


def _page(template: str, status: int, **context: Any) -> Response:
    html = render(template, **context)
    return Response(html, status=status, mimetype="text/html")


def _read_token(data_dir: Path) -> str:
    try:
        return (data_dir / TOKEN_FILE).read_text().strip()
    except OSError:
        return ""


def _token_ok(given: str) -> bool:
    expected = _read_token(_services().settings.data_dir)
    return bool(expected) and hmac.compare_digest(given, expected)


def _state_of(token: str) -> str:
    """Derive the OAuth-style state from the token, so no worker must remember it."""
    return hmac.new(token.encode(), b"changebot-setup", hashlib.sha256).hexdigest()


def _public_url() -> str:
    return str(_services().settings.public_url).rstrip("/")


def _new_app_url(org: str) -> str:
    web = github_web_url(_services().settings.github_url)
    if org:
        return f"{web}/organizations/{quote(org, safe='')}/settings/apps/new"
    return f"{web}/settings/apps/new"


def github_web_url(
    api_url: str, environ: MutableMapping[str, str] | None = None
) -> str:
    """Return GitHub's web address for its API address (github.com, GHES, simulator)."""
    env = os.environ if environ is None else environ
    configured = env.get("CHANGEBOT_GITHUB_WEB_URL", "").strip()
    if configured:
        return configured.rstrip("/")
    api = api_url.rstrip("/")
    if api == "https://api.github.com":
        return "https://github.com"
    return api.removesuffix("/api/v3")


def _local_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - compared, not bound
    return f"http://{shown}:{port}"


def _write_private(path: Path, content: bytes, *, replace: bool = False) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(content)
    os.chmod(path, 0o600)

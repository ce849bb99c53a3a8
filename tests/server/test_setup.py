"""`/setup`: the GitHub App manifest flow, through the simulator's conversion.

The test plays the operator's browser: it opens /setup with the token the
server printed, posts the manifest form to (simulated) GitHub, follows
GitHub's redirect back to the callback, and then checks what the server
stored, with which file modes, and that the stored App really works.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from deliveries import headers as signed_headers

from changebot.adapters.github import GitHubForge
from changebot.audit import SigningKey
from changebot.server import create_app, setup
from changebot.settings import Settings

pytestmark = pytest.mark.e2e

PUBLIC = "https://changebot.example.test"
ENTRY = "from changebot.cli import main; main(prog_name='changebot')"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def fresh(simulator: Any, data_dir: Path) -> Any:
    """Return the test client of a server with no App yet, and its token."""
    settings = Settings(
        data_dir=data_dir, github_url=simulator.base_url, public_url=PUBLIC
    )
    client = create_app(settings).test_client()
    return client, setup.new_token(data_dir)


def _form(page: str) -> tuple[str, dict[str, Any]]:
    """Return the manifest form's action and the manifest it posts."""
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    value = re.search(r'name="manifest" value="([^"]*)"', page)
    assert action and value, page
    return html.unescape(action.group(1)), json.loads(html.unescape(value.group(1)))


def _through_github(action: str, manifest: dict[str, Any]) -> dict[str, str]:
    """Post the form to the simulator as a browser does; return code and state."""
    answer = requests.post(
        action,
        data={"manifest": json.dumps(manifest)},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    return {name: values[0] for name, values in query.items()}


def _mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777


def _create(fresh: Any) -> tuple[Any, Any]:
    client, token = fresh
    page = client.get(f"/setup?token={token}")
    assert page.status_code == 200
    action, manifest = _form(page.get_data(as_text=True))
    back = _through_github(action, manifest)
    done = client.get(urlsplit(manifest["redirect_url"]).path, query_string=back)
    return done, manifest


def test_the_manifest_asks_for_the_least_changebot_needs(fresh: Any) -> None:
    client, token = fresh

    page = client.get(f"/setup?token={token}").get_data(as_text=True)

    action, manifest = _form(page)
    assert urlsplit(action).path == "/settings/apps/new"
    assert manifest["hook_attributes"] == {"url": f"{PUBLIC}/webhook", "active": True}
    assert manifest["redirect_url"] == f"{PUBLIC}/setup/callback"
    assert manifest["callback_urls"] == [f"{PUBLIC}/audit/callback"]
    assert manifest["public"] is False
    permissions = manifest["default_permissions"]
    assert permissions["metadata"] == "read"
    assert "administration" in permissions and permissions["administration"] == "read"
    assert not {"statuses", "actions", "secrets", "workflows"} & set(permissions)
    assert set(manifest["default_events"]) == {
        "branch_protection_rule",
        "deployment_protection_rule",
        "deployment_status",
        "issue_comment",
        "member",
        "pull_request",
        "pull_request_review",
        "push",
    }


def test_an_organization_gets_the_org_form(fresh: Any) -> None:
    client, token = fresh

    page = client.get(f"/setup?token={token}&org=acme").get_data(as_text=True)

    action, _ = _form(page)
    assert urlsplit(action).path == "/organizations/acme/settings/apps/new"


def test_setup_needs_the_token_printed_in_the_terminal(fresh: Any) -> None:
    client, token = fresh

    assert client.get("/setup").status_code == 403
    assert client.get("/setup?token=guess").status_code == 403
    assert client.get(f"/setup?token={token}").status_code == 200


def test_the_callback_stores_the_app_with_mode_0600_and_makes_the_signing_key(
    simulator: Any, fresh: Any, data_dir: Path
) -> None:
    done, _ = _create(fresh)

    assert done.status_code == 201, done.get_data(as_text=True)
    stored = json.loads((data_dir / "github-app.json").read_text())
    created = simulator.app
    assert stored["id"] == created["id"]
    assert stored["webhook_secret"] == simulator.webhook_secret
    assert stored["client_id"] == created["client_id"]
    assert stored["client_secret"] == created["client_secret"]
    pem = (data_dir / "github-app.pem").read_text()
    assert pem == created["private_key"]
    key = SigningKey.load(data_dir / "audit-signing.key")
    for secret in ("github-app.json", "github-app.pem", "audit-signing.key"):
        assert _mode(data_dir / secret) == 0o600, secret
    assert not (data_dir / "setup-token").exists()
    page = done.get_data(as_text=True)
    assert key.keyid in page
    assert stored["html_url"].startswith(simulator.base_url)
    assert f"{stored['html_url']}/installations/new" in page
    assert simulator.webhook_secret not in page and "PRIVATE KEY" not in page


def test_the_stored_app_takes_webhooks_and_calls_github(
    simulator: Any, seeded_repo: Any, fresh: Any, data_dir: Path
) -> None:
    _create(fresh)
    env = {
        "CHANGEBOT_DATA_DIR": str(data_dir),
        "CHANGEBOT_GITHUB_URL": simulator.base_url,
    }

    assert setup.adopt_stored_app(env)
    settings = Settings.from_env(env)
    app = create_app(settings).test_client()
    body = json.dumps({"zen": "Keep it logically awesome."}).encode()
    ping = app.post(
        "/webhook",
        data=body,
        headers=signed_headers(
            "ping", str(uuid.uuid4()), body, str(settings.webhook_secret)
        ),
    )
    forge = GitHubForge.for_app(
        app_id=str(settings.app_id),
        private_key=str(settings.private_key),
        base_url=simulator.base_url,
    )

    assert ping.status_code == 200
    assert forge.default_branch(seeded_repo.full_name) == "main"
    assert env["CHANGEBOT_OAUTH_CLIENT_ID"] == simulator.app["client_id"]
    assert Path(env["CHANGEBOT_SIGNING_KEY_PATH"]).exists()


def test_worker_commands_find_the_stored_app(
    simulator: Any, fresh: Any, data_dir: Path
) -> None:
    from click.testing import CliRunner

    from changebot.cli import main

    _create(fresh)
    # NOTE: None unsets a variable for the run and restores it afterwards, so
    # what the command adopts from the data directory does not leak out.
    adopted = dict.fromkeys(setup.stored_env(data_dir))
    env = adopted | {
        "CHANGEBOT_DATA_DIR": str(data_dir),
        "CHANGEBOT_GITHUB_URL": simulator.base_url,
    }

    result = CliRunner().invoke(main, ["reconcile"], env=env)

    assert result.exit_code == 0, result.output
    assert "CHANGEBOT_APP_ID" not in os.environ


def test_a_callback_with_a_forged_state_stores_nothing(
    fresh: Any, data_dir: Path
) -> None:
    client, _ = fresh

    answer = client.get("/setup/callback?code=abc&state=forged")

    assert answer.status_code == 403
    assert not (data_dir / "github-app.json").exists()


def test_a_code_github_does_not_know_is_refused_and_stores_nothing(
    fresh: Any, data_dir: Path
) -> None:
    client, token = fresh
    state = setup._state_of(token)

    answer = client.get(f"/setup/callback?code=not-a-code&state={state}")

    assert answer.status_code == 502
    assert "refused the manifest code" in answer.get_data(as_text=True)
    assert not (data_dir / "github-app.json").exists()


def test_a_second_callback_is_refused(fresh: Any, data_dir: Path) -> None:
    _create(fresh)
    before = (data_dir / "github-app.json").read_bytes()
    client, token = fresh

    again = client.get(f"/setup/callback?code=x&state={setup._state_of(token)}")

    assert again.status_code == 409
    assert (data_dir / "github-app.json").read_bytes() == before


def test_without_a_public_url_no_setup_is_offered(tmp_path: Path) -> None:
    assert not setup.wanted(Settings(data_dir=tmp_path))
    assert setup.wanted(Settings(data_dir=tmp_path, public_url=PUBLIC))
    assert not setup.wanted(
        Settings(data_dir=tmp_path, public_url=PUBLIC, webhook_secret="s")
    )


def test_serve_offers_setup_then_starts_with_the_stored_app(
    simulator: Any, data_dir: Path
) -> None:
    from changebot.demo.stage import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANGEBOT_")} | {
        "CHANGEBOT_DATA_DIR": str(data_dir),
        "CHANGEBOT_GITHUB_URL": simulator.base_url,
        "CHANGEBOT_PUBLIC_URL": url,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(
        [sys.executable, "-c", ENTRY, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        link = _printed_setup_link(server)
        page = requests.get(link, timeout=10)
        action, manifest = _form(page.text)
        back = _through_github(action, manifest)
        done = requests.get(manifest["redirect_url"], params=back, timeout=10)
        assert done.status_code == 201, done.text

        # NOTE: the setup server answers /healthz too, but has no /webhook.
        ping = _ping_until_taken(f"{url}/webhook", simulator.webhook_secret)
        health = requests.get(f"{url}/healthz", timeout=10)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        finally:
            _kill_session(server)

    assert health.json()["status"] == "ok"
    assert ping.status_code == 200
    assert _mode(data_dir / "github-app.pem") == 0o600


def _printed_setup_link(server: subprocess.Popen[str]) -> str:
    assert server.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        if "/setup?token=" in line:
            return line.strip()
        assert line or server.poll() is None, "serve stopped before offering /setup"
    raise AssertionError("serve printed no /setup link")


def _ping_until_taken(url: str, secret: str) -> requests.Response:
    """Send a signed ping until the App (not the setup page) takes it."""
    body = b'{"zen": "Design for failure."}'
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sent = signed_headers("ping", str(uuid.uuid4()), body, secret)
        try:
            answer = requests.post(url, data=body, headers=sent, timeout=5)
        except requests.ConnectionError:
            answer = None
        if answer is not None and answer.status_code != 404:
            return answer
        time.sleep(0.2)
    raise AssertionError(f"nothing took webhooks at {url}")


def _kill_session(server: subprocess.Popen[str]) -> None:
    try:
        os.killpg(server.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass

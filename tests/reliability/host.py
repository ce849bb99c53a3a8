"""What the reliability tests share: the App on the simulator, and the promises.

`promises_kept` is the one check every fault and attack test ends with: each
merged PR has exactly one `change` entry, indices are dense, the log
verifies, and changebot posted no comment twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from flows.apphost import RATIONALE, AppHost

from changebot.compose import build
from changebot.server import create_app

REPO = "acme/infra"

__all__ = [
    "RATIONALE",
    "REPO",
    "AppHost",
    "browser",
    "promises_kept",
    "rebuild",
    "resign",
    "sign_in",
    "signed_post",
]


def rebuild(host: AppHost, **changes: Any) -> AppHost:
    """Give ``host`` new settings (retries, Redis) and services built from them."""
    host.settings = replace(host.settings, **changes)
    host.services = build(host.settings)
    host.services.notifier = host.notices  # type: ignore[misc]
    host.web = create_app(services=host.services).test_client()
    return host


def resign(secret: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
    """Return ``headers`` with the signature GitHub would put on ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {**headers, "X-Hub-Signature-256": f"sha256={digest}"}


def signed_post(host: AppHost, event: str, guid: str, payload: dict[str, Any]) -> int:
    """POST ``payload`` to the App as a correctly signed delivery."""
    body = json.dumps(payload).encode()
    headers = resign(
        host.settings.webhook_secret or "",
        body,
        {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": guid,
            "Content-Type": "application/json",
        },
    )
    return host.receive(headers, body)


def promises_kept(host: AppHost, repo: str = REPO) -> list[dict[str, Any]]:
    """Assert the log's promises for ``repo``; return its entries."""
    entries = host.entries(repo)
    assert [e["index"] for e in entries] == list(range(len(entries)))
    host.verified(repo)

    merged = [p.number for p in host.simulator.repo(repo).pulls.values() if p.merged_at]
    changes = Counter(e["pr"]["number"] for e in entries if e["kind"] == "change")
    assert changes == Counter(merged), f"change entries {changes}, merged {merged}"

    keys = Counter(e["idempotency_key"] for e in entries)
    assert [k for k, n in keys.items() if n > 1] == []
    for number in {c.number for c in host.simulator.repo(repo).comments.values()}:
        assert len(host.summary_comments(repo, number)) <= 1, number
    return entries


def browser(host: AppHost, tmp_path: Path, repo: str = REPO) -> Any:
    """Return a test client of the audit browser over ``repo``'s indexed log."""
    from flask import Flask

    from changebot.index import Indexer
    from changebot.index.refresh import refresh
    from changebot.server.browser import BrowserConfig, register_browser

    index = tmp_path / "index.sqlite3"
    refresh(Indexer(index), repo, host.store(repo), [host.key.public])
    simulator = host.simulator
    config = BrowserConfig(
        index_path=index,
        sessions_path=tmp_path / "sessions.sqlite3",
        client_id=simulator.app["client_id"],
        client_secret=simulator.app["client_secret"],
        github_web=simulator.base_url,
        github_api=simulator.base_url,
        secure_cookies=False,
    )
    app = Flask("reliability-browser")
    register_browser(app, config)
    return app.test_client()


def sign_in(client: Any, login: str) -> None:
    """Go through the OAuth web flow as ``login``, as a browser would."""
    start = client.get("/audit/login?next=/audit/")
    authorize = requests.get(
        start.headers["Location"] + f"&login={login}", allow_redirects=False, timeout=10
    )
    callback = urlsplit(authorize.headers["Location"])
    assert client.get(f"{callback.path}?{callback.query}").status_code == 302

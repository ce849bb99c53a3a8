"""Fixtures for the App's web side: real settings, a real SQLite queue."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from deliveries import SECRET, headers
from flask import Flask
from flask.testing import FlaskClient

from changebot.compose import Services, build
from changebot.server import create_app
from changebot.settings import Settings

Deliver = Callable[..., Any]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(webhook_secret=SECRET, data_dir=tmp_path / "data")


@pytest.fixture
def services(settings: Settings) -> Services:
    return build(settings)


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services=services)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def github_headers() -> Callable[..., dict[str, str]]:
    """Build the headers of a delivery (event, guid, body, secret=...)."""
    return headers


@pytest.fixture
def deliver(client: FlaskClient) -> Deliver:
    """POST a signed delivery of ``event`` with ``payload`` to /webhook."""

    def post(
        event: str, payload: dict[str, Any], guid: str = "guid-1", **kw: Any
    ) -> Any:
        body = json.dumps(payload).encode()
        return client.post(
            "/webhook", data=body, headers=headers(event, guid, body, **kw)
        )

    return post


@pytest.fixture
def pull_request() -> Callable[..., dict[str, Any]]:
    """Build the part of a pull_request payload the intake reads."""

    def payload(action: str = "opened", number: int = 7) -> dict[str, Any]:
        return {
            "action": action,
            "number": number,
            "pull_request": {"number": number},
            "repository": {"full_name": "octo/infra"},
        }

    return payload


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Return a Redis on loopback: CI's, or one started for this session."""
    given = os.environ.get("CHANGEBOT_TEST_REDIS_URL")
    if given:
        yield given
        return
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_for(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int) -> None:
    for _ in range(200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.025)
    raise RuntimeError(f"redis-server did not listen on port {port}")

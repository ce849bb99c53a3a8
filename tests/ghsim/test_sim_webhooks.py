"""Webhooks: signed and shaped as GitHub sends them, recorded, redeliverable."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
import requests
from seeding import SeededRepo

from ghsim import Simulator


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers.items()), body))
        self.send_response(202)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """Serve a webhook receiver on loopback; yield its URL and what it got."""
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/webhook", _Receiver.received
    server.shutdown()
    server.server_close()


def _app(simulator: Simulator) -> requests.Session:
    now = int(time.time())
    token = jwt.encode(
        {"iat": now - 60, "exp": now + 540, "iss": str(simulator.app["id"])},
        simulator.app["private_key"],
        algorithm="RS256",
    )
    session = simulator.client("unused")
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def test_webhooks_reach_the_url_signed(
    tmp_path: Any, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    url, received = receiver
    with Simulator(tmp_path / "gh", webhook_url=url, webhook_secret="s3cret") as sim:
        sim.client("alice").post("/orgs/acme/repos", json={"name": "x"})

    headers, body = received[-1]
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == f"sha256={expected}"
    assert headers["X-GitHub-Event"] == "installation_repositories"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("GitHub-Hookshot/")
    assert uuid.UUID(headers["X-GitHub-Delivery"])
    assert headers["X-GitHub-Hook-ID"].isdigit()
    assert sim.deliveries()[-1].status_code == 202


def test_pull_request_lifecycle_events(seeded_repo: SeededRepo) -> None:
    number = seeded_repo.open_pull("w", {"infra/w.tf": "1"}, draft=True)
    seeded_repo.call("dev", "PATCH", f"pulls/{number}", json={"draft": False})
    before = seeded_repo.head("w")
    seeded_repo.commit("w", {"infra/w.tf": "2"}, login="dev", force_parent=before)
    seeded_repo.call("dev", "PATCH", f"pulls/{number}", json={"body": "Why: now"})
    seeded_repo.call("dev", "PATCH", f"pulls/{number}", json={"state": "closed"})

    events = [
        d.payload
        for d in seeded_repo.simulator.deliveries("pull_request")
        if d.payload["number"] == number
    ]

    assert [e["action"] for e in events] == [
        "opened",
        "ready_for_review",
        "synchronize",
        "edited",
        "closed",
    ]
    assert events[2]["before"] == before
    assert events[2]["after"] == seeded_repo.head("w")
    assert events[3]["changes"] == {"body": {"from": ""}}
    assert events[4]["pull_request"]["merged"] is False
    assert events[0]["installation"]["id"] == seeded_repo.simulator.installation_id(
        "acme"
    )
    assert events[0]["organization"]["login"] == "acme"


def test_issue_comment_carries_pull_request_link(seeded_repo: SeededRepo) -> None:
    number = seeded_repo.open_pull("ic", {"a": "1"})
    seeded_repo.call(
        "pat", "POST", f"issues/{number}/comments", json={"body": "/changebot status"}
    )

    payload = seeded_repo.simulator.deliveries("issue_comment")[-1].payload

    assert payload["issue"]["number"] == number
    assert payload["issue"]["pull_request"]["url"].endswith(f"/pulls/{number}")
    assert payload["comment"]["body"] == "/changebot status"
    assert payload["sender"]["login"] == "pat"


def test_push_reports_created_forced_and_deleted(seeded_repo: SeededRepo) -> None:
    first = seeded_repo.commit("topic", {"a": "1"})
    seeded_repo.commit("topic", {"a": "2"}, force_parent=seeded_repo.head())
    seeded_repo.call(None, "DELETE", "git/refs/heads/topic")

    pushes = [
        d.payload
        for d in seeded_repo.simulator.deliveries("push")
        if d.payload["ref"] == "refs/heads/topic"
    ]

    assert [(p["created"], p["forced"], p["deleted"]) for p in pushes] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]
    assert pushes[0]["head_commit"]["id"] == first
    assert pushes[0]["commits"][0]["added"] == ["a"]
    assert pushes[0]["pusher"]["name"] == "admin"


def test_dropped_deliveries_are_listed_and_redelivered(
    seeded_repo: SeededRepo, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    simulator = seeded_repo.simulator
    url, received = receiver
    simulator.hub.hooks.url = url
    simulator.drop_webhooks()
    seeded_repo.open_pull("lost", {"a": "1"})
    simulator.drop_webhooks(False)
    app = _app(simulator)

    listed, cursor = [], None
    while True:
        page = app.get("/app/hook/deliveries", params={"per_page": 5, "cursor": cursor})
        listed += page.json()
        if "next" not in page.links:
            break
        cursor = page.links["next"]["url"].split("cursor=")[1]
    lost = next(d for d in listed if d["event"] == "pull_request")
    answer = app.post(f"/app/hook/deliveries/{lost['id']}/attempts")

    assert lost["status_code"] == 0
    assert len(listed) == len(simulator.deliveries()) - 1
    assert answer.status_code == 202
    headers, body = received[-1]
    assert headers["X-GitHub-Delivery"] == lost["guid"]
    assert json.loads(body)["action"] == "opened"
    assert simulator.deliveries()[-1].redelivery is True


def test_deployment_and_status_events(seeded_repo: SeededRepo) -> None:
    deployment = seeded_repo.call(
        None,
        "POST",
        "deployments",
        json={"ref": "main", "environment": "production", "payload": {"n": 1}},
    )
    seeded_repo.call(
        None,
        "POST",
        f"deployments/{deployment['id']}/statuses",
        json={"state": "success", "description": "done"},
    )

    status = seeded_repo.simulator.deliveries("deployment_status")[-1].payload
    listed = seeded_repo.call(None, "GET", "deployments?environment=production")

    assert status["deployment_status"]["state"] == "success"
    assert status["deployment"]["sha"] == seeded_repo.head()
    assert [d["id"] for d in listed] == [deployment["id"]]
    assert listed[0]["payload"] == {"n": 1}

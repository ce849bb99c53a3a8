"""POST /webhook: what GitHub and an attacker can expect of the intake."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from changebot.compose import build
from changebot.server import create_app
from changebot.server.webhook import MAX_BODY


def test_signed_delivery_is_queued(deliver, pull_request, services):
    answer = deliver("pull_request", pull_request())

    assert answer.status_code == 202
    assert answer.json["outcome"] == "queued"
    assert services.queue.depth() == 1


def test_unsigned_delivery_is_refused(client, pull_request, services):
    body = json.dumps(pull_request()).encode()

    answer = client.post(
        "/webhook",
        data=body,
        headers={"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "g1"},
    )

    assert answer.status_code == 401
    assert services.queue.depth() == 0


def test_wrongly_signed_delivery_is_refused(
    client, github_headers, pull_request, services
):
    body = json.dumps(pull_request()).encode()
    forged = github_headers("pull_request", "g1", body, secret="guessed")

    answer = client.post("/webhook", data=body, headers=forged)

    assert answer.status_code == 401
    assert services.queue.depth() == 0


def test_signature_covers_every_byte(client, github_headers, pull_request, services):
    body = json.dumps(pull_request()).encode()
    sent = github_headers("pull_request", "g1", body)

    answer = client.post("/webhook", data=body + b" ", headers=sent)

    assert answer.status_code == 401
    assert services.queue.depth() == 0


def test_oversize_delivery_is_refused_before_reading(client, github_headers, services):
    body = b"{" + b" " * MAX_BODY + b"}"

    answer = client.post(
        "/webhook", data=body, headers=github_headers("pull_request", "g1", body)
    )

    assert answer.status_code == 413
    assert services.queue.depth() == 0


def test_repeated_delivery_is_acknowledged_once(deliver, pull_request, services):
    first = deliver("pull_request", pull_request(), guid="same")
    again = deliver("pull_request", pull_request(), guid="same")

    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json["outcome"] == "duplicate"
    assert services.queue.depth() == 1


def test_repeat_to_another_process_is_not_queued(
    settings, github_headers, pull_request
):
    # Two web processes share the queue's storage, so the dedup holds across them.
    body = json.dumps(pull_request()).encode()
    sent = github_headers("pull_request", "shared", body)
    clients = [create_app(services=build(settings)).test_client() for _ in range(2)]

    answers = [c.post("/webhook", data=body, headers=sent) for c in clients]

    assert sorted(a.status_code for a in answers) == [200, 202]
    assert build(settings).queue.depth() == 1


def test_ping_answers_200(deliver, services):
    answer = deliver("ping", {"zen": "Keep it logically awesome."})

    assert answer.status_code == 200
    assert services.queue.depth() == 0


def test_unhandled_event_is_dropped(deliver, services):
    answer = deliver("star", {"action": "created"})

    assert answer.status_code == 202
    assert answer.json["outcome"] == "ignored"
    assert services.queue.depth() == 0


def test_unhandled_action_is_dropped(deliver, pull_request, services):
    answer = deliver("pull_request", pull_request(action="assigned"))

    assert answer.status_code == 202
    assert answer.json["outcome"] == "ignored"
    assert services.queue.depth() == 0


def test_malformed_json_is_refused_with_a_reason(client, github_headers, services):
    body = b'{"action": "opened",'

    answer = client.post(
        "/webhook", data=body, headers=github_headers("pull_request", "g1", body)
    )

    assert answer.status_code == 400
    assert "JSON" in answer.json["error"]
    assert services.queue.depth() == 0


def test_form_encoded_delivery_is_queued(
    client, github_headers, pull_request, services
):
    body = urlencode({"payload": json.dumps(pull_request())}).encode()
    sent = github_headers("pull_request", "g1", body)
    sent["Content-Type"] = "application/x-www-form-urlencoded"

    answer = client.post("/webhook", data=body, headers=sent)

    assert answer.status_code == 202
    assert services.queue.depth() == 1


def test_queued_job_carries_the_delivery(deliver, pull_request, services):
    deliver("pull_request", pull_request(number=12), guid="abc")

    (task,) = services.queue.huey.pending()

    assert task.name == "delivery"
    assert task.args[0:2] == ("pull_request", "abc")
    assert json.loads(task.args[2])["pull_request"]["number"] == 12

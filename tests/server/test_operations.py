"""GET /healthz and GET /metrics, as the platform team's monitoring sees them."""

from __future__ import annotations

import shutil

from prometheus_client.parser import text_string_to_metric_families

from changebot.server import create_app
from changebot.settings import Settings


def sample(client, name: str, **labels: str) -> float:
    """Return one sample's value from /metrics (0 when it is absent)."""
    text = client.get("/metrics").get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return 0.0


def test_healthz_reports_a_working_queue(client):
    answer = client.get("/healthz")

    assert answer.status_code == 200
    assert answer.json["status"] == "ok"
    assert answer.json["queue"] == "sqlite"
    assert answer.json["checks"] == {"queue": "ok", "data_dir": "ok"}


def test_healthz_fails_when_the_data_directory_is_gone(tmp_path):
    data_dir = tmp_path / "data"
    app = create_app(Settings(webhook_secret="s", data_dir=data_dir))
    shutil.rmtree(data_dir)
    data_dir.write_text("a file where the directory was")

    answer = app.test_client().get("/healthz")

    assert answer.status_code == 503
    assert answer.json["status"] == "failing"
    assert answer.json["checks"]["data_dir"].startswith("failing")


def test_healthz_fails_when_redis_does_not_answer(tmp_path):
    settings = Settings(
        webhook_secret="s", data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0"
    )

    answer = create_app(settings).test_client().get("/healthz")

    assert answer.status_code == 503
    assert answer.json["queue"] == "redis"
    assert answer.json["checks"]["queue"].startswith("failing")


def test_metrics_count_webhooks_by_event_and_outcome(deliver, pull_request, client):
    counted = ("changebot_webhooks_total",)
    queued = {"event": "pull_request", "outcome": "queued"}
    duplicate = {"event": "pull_request", "outcome": "duplicate"}
    other = {"event": "other", "outcome": "ignored"}
    before = [
        sample(client, *counted, **labels) for labels in (queued, duplicate, other)
    ]

    deliver("pull_request", pull_request(), guid="m1")
    deliver("pull_request", pull_request(), guid="m1")
    deliver("star", {"action": "created"}, guid="m2")

    after = [
        sample(client, *counted, **labels) for labels in (queued, duplicate, other)
    ]
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 1]


def test_metrics_show_the_current_queue_depth(deliver, pull_request, client):
    for number in range(3):
        deliver("pull_request", pull_request(number=number), guid=f"d{number}")

    answer = client.get("/metrics")

    assert answer.mimetype == "text/plain"
    assert sample(client, "changebot_queue_depth") == 3

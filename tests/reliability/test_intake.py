"""Hostile and broken deliveries at `POST /webhook`: refused, and nothing lost.

Each test sends the bad delivery first and a real one from the simulator
after it: the bad one gets a clear refusal (or is handled safely), and the
real one is still processed to the end.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reliability.host import (
    RATIONALE,
    REPO,
    AppHost,
    promises_kept,
    resign,
    signed_post,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def app_host(simulator, tmp_path):
    return AppHost(simulator, tmp_path / "app")


@pytest.fixture
def infra(app_host, seeded_repo):
    app_host.listen()
    return seeded_repo


def _last(simulator, event: str, action: str | None = None) -> Any:
    found = [
        d
        for d in simulator.deliveries(event)
        if action is None or d.payload.get("action") == action
    ]
    return found[-1]


def _post(host: AppHost, headers: dict[str, str], body: bytes) -> Any:
    return host.web.post("/webhook", data=body, headers=headers)


def _opened_then_held(app_host, infra) -> tuple[int, Any]:
    """Open a PR while the App cannot hear, and return its `opened` delivery."""
    infra.simulator.drop_webhooks()
    number = infra.open_pull("tf", {"infra/main.tf": "# x\n"}, body=RATIONALE)
    infra.simulator.drop_webhooks(False)
    return number, _last(infra.simulator, "pull_request", "opened")


def test_unsigned_and_wrongly_signed_deliveries_are_refused_and_run_nothing(
    app_host, infra
):
    number, delivery = _opened_then_held(app_host, infra)
    unsigned = {k: v for k, v in delivery.headers.items() if "Signature" not in k}
    forged = resign("not the secret", delivery.body, delivery.headers)
    tampered_body = delivery.body.replace(b'"opened"', b'"closed"')

    assert _post(app_host, unsigned, delivery.body).status_code == 401
    assert _post(app_host, forged, delivery.body).status_code == 401
    assert _post(app_host, delivery.headers, tampered_body).status_code == 401
    assert app_host.work() == 0
    assert infra.simulator.check_runs(REPO, "changebot") == []

    assert _post(app_host, delivery.headers, delivery.body).status_code == 202
    app_host.work()
    assert app_host.check(REPO, number).status == "in_progress"


def test_a_replayed_delivery_runs_once_even_under_a_new_delivery_id(app_host, infra):
    number = infra.open_pull("tf", {"infra/main.tf": "# x\n"}, body=RATIONALE)
    infra.review(number, "pat")
    app_host.work()
    infra.merge(number, login="paula")
    app_host.work()
    closed = _last(infra.simulator, "pull_request", "closed")

    again = _post(app_host, closed.headers, closed.body)
    # NOTE: the signature covers the body only: a replayer can pick any id.
    renamed = {**closed.headers, "X-GitHub-Delivery": "replayed-with-a-new-id"}
    replayed = _post(app_host, renamed, closed.body)
    app_host.work()

    assert again.status_code == 200
    assert again.get_json()["outcome"] == "duplicate"
    assert replayed.status_code == 202
    promises_kept(app_host)
    [comment] = app_host.summary_comments(REPO, number)
    assert comment


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b"payload=%7Bbroken", "application/x-www-form-urlencoded"),
        (b"", "application/json"),
    ],
    ids=["broken", "array", "binary", "form-broken", "empty"],
)
def test_a_malformed_signed_body_is_refused_and_the_next_delivery_runs(
    app_host, infra, body, content_type
):
    number, delivery = _opened_then_held(app_host, infra)
    headers = resign(
        app_host.settings.webhook_secret,
        body,
        {**delivery.headers, "Content-Type": content_type, "X-GitHub-Delivery": "bad"},
    )

    answer = _post(app_host, headers, body)

    assert answer.status_code == 400
    assert answer.get_json()["outcome"] == "malformed"
    assert _post(app_host, delivery.headers, delivery.body).status_code == 202
    app_host.work()
    assert app_host.check(REPO, number).status == "in_progress"


def test_json_sent_as_plain_text_is_read_as_json(app_host, infra):
    number, delivery = _opened_then_held(app_host, infra)
    headers = {**delivery.headers, "Content-Type": "text/plain"}

    assert _post(app_host, headers, delivery.body).status_code == 202
    app_host.work()
    assert app_host.check(REPO, number).status == "in_progress"


def test_an_oversize_body_is_refused_and_the_next_delivery_runs(app_host, infra):
    number, delivery = _opened_then_held(app_host, infra)
    huge = b"{" + b" " * (25 * 1024 * 1024) + b"}"
    headers = resign(app_host.settings.webhook_secret, huge, delivery.headers)

    answer = _post(app_host, {**headers, "X-GitHub-Delivery": "huge"}, huge)

    assert answer.status_code == 413
    assert _post(app_host, delivery.headers, delivery.body).status_code == 202
    app_host.work()
    assert app_host.check(REPO, number).status == "in_progress"


def _nulled(payload: dict[str, Any], *paths: str) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    for path in paths:
        *parents, last = path.split(".")
        node = changed
        for part in parents:
            node = node[part]
        node[last] = None
    return changed


@pytest.mark.parametrize(
    "paths",
    [
        ("pull_request.head.repo",),
        ("pull_request.user", "sender"),
        ("pull_request.body",),
        ("pull_request.head.repo", "pull_request.user", "sender"),
    ],
    ids=["deleted-fork", "deleted-user", "no-body", "all"],
)
def test_a_pull_from_a_deleted_fork_or_user_is_evaluated(app_host, infra, paths):
    number, delivery = _opened_then_held(app_host, infra)

    payload = _nulled(delivery.payload, *paths)
    assert signed_post(app_host, "pull_request", "nulled", payload) == 202
    app_host.work()

    assert app_host.check(REPO, number).status == "in_progress"


def test_a_merge_by_a_deleted_user_is_recorded(app_host, infra):
    number = infra.open_pull("tf", {"infra/main.tf": "# x\n"}, body=RATIONALE)
    infra.review(number, "pat")
    app_host.work()
    infra.simulator.drop_webhooks()
    infra.merge(number, login="paula")
    infra.simulator.drop_webhooks(False)
    closed = _last(infra.simulator, "pull_request", "closed")

    payload = _nulled(
        closed.payload,
        "pull_request.user",
        "pull_request.merged_by",
        "pull_request.head.repo",
        "sender",
    )
    assert signed_post(app_host, "pull_request", "ghost", payload) == 202
    app_host.work()

    promises_kept(app_host)


def test_signed_deliveries_missing_what_they_name_are_dropped(app_host, infra):
    number, delivery = _opened_then_held(app_host, infra)
    broken = [
        {"action": "opened"},
        {"action": "opened", "repository": None, "pull_request": None},
        {"action": "opened", "repository": {}, "pull_request": {"number": 1}},
        {"action": "closed", "repository": {"full_name": REPO}, "pull_request": {}},
        {"ref": None, "repository": {"full_name": REPO}},
        {"action": "created", "comment": None, "issue": None},
    ]
    events = ["pull_request"] * 4 + ["push", "issue_comment"]

    for n, (event, payload) in enumerate(zip(events, broken, strict=True)):
        assert signed_post(app_host, event, f"broken-{n}", payload) in (202, 400)
    assert _post(app_host, delivery.headers, delivery.body).status_code == 202
    app_host.work()

    assert app_host.check(REPO, number).status == "in_progress"


def test_a_body_of_several_megabytes_is_judged_within_githubs_limits(app_host, infra):
    filler = ("Padding words of a very long rationale. " * 20 + "\n") * 6000
    body = RATIONALE + "\n\n" + filler
    assert len(body.encode()) > 4_000_000

    number = infra.open_pull("tf", {"infra/main.tf": "# x\n"}, body=body)
    app_host.work()
    infra.review(number, "pat")
    app_host.work()

    run = app_host.check(REPO, number)
    assert run.conclusion == "success"
    assert len(run.output["summary"]) <= 65_535
    assert len(run.output.get("text") or "") <= 65_535
    for comment in app_host.summary_comments(REPO, number):
        assert len(comment) <= 65_536

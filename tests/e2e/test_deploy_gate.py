"""The deployment gate: the App answers GitHub's custom deployment protection rule.

A deploy job that targets a guarded environment waits; the simulator sends
`deployment_protection_rule`, the worker judges the range the deployment
would bring against the audit log, and posts its answer and reason back at
the run's callback. The tests read the answer from the simulated run.
"""

from __future__ import annotations

import pytest
import requests
from flows.apphost import RATIONALE
from seeding import SEED_FILES

pytestmark = pytest.mark.e2e

REPO = "acme/infra"
PROTECTED = SEED_FILES[".changebot.yml"] + (
    "deployments:\n  production: {protected: true}\n  staging: {}\n"
)


@pytest.fixture
def infra(app_host, seeded_repo):
    """Return ``acme/infra`` with production protected and live at its head."""
    seeded_repo.commit("main", {".changebot.yml": PROTECTED}, message="Protect prod")
    _deployed(seeded_repo, seeded_repo.head())
    app_host.listen()
    return seeded_repo


def _deployed(infra, sha: str, environment: str = "production") -> None:
    """Record a finished deployment on GitHub, as a deploy job would."""
    deployment = infra.call(
        "admin",
        "POST",
        "deployments",
        json={"ref": sha, "environment": environment, "auto_merge": False},
    )
    infra.call(
        "admin",
        "POST",
        f"deployments/{deployment['id']}/statuses",
        json={"state": "success"},
    )


def _merged_pull(app_host, infra, branch: str) -> int:
    number = infra.open_pull(
        branch, {"docs/notes.md": f"# {branch}\n"}, title=branch, body=RATIONALE
    )
    infra.merge(number, login="paula")
    app_host.work()
    return number


def _answer(app_host, infra, environment: str = "production"):
    gate = app_host.simulator.request_gate(REPO, environment, infra.head(), "ana")
    app_host.work()
    [review] = gate.reviews
    return review


def test_a_clean_range_is_approved(app_host, infra):
    _merged_pull(app_host, infra, "notes")

    review = _answer(app_host, infra)

    assert review.state == "approved"
    assert review.environment == "production"
    assert "every change in it is recorded" in review.comment
    assert review.reviewer.endswith("[bot]")
    assert app_host.notices.of_kind("refusal") == []


def test_an_unrecorded_direct_push_is_rejected_with_the_reason(
    app_host, infra, simulator
):
    _merged_pull(app_host, infra, "notes")
    simulator.drop_webhooks()
    pushed = infra.commit("main", {"infra/main.tf": "# sneaky\n"}, login="pat")
    simulator.drop_webhooks(False)

    review = _answer(app_host, infra)

    assert review.state == "rejected"
    assert "refuses the deployment" in review.comment
    assert "1 commit with no audit entry" in review.comment
    assert f"`{pushed[:10]}`" in review.comment
    [notice] = app_host.notices.of_kind("refusal")
    assert notice.environment == "production"
    assert "refused" in notice.title
    assert notice.text == review.comment


def test_a_recorded_direct_push_passes(app_host, infra):
    infra.commit("main", {"infra/main.tf": "# hotfix\n"}, login="pat")
    app_host.work()
    assert app_host.entries(REPO, "direct-push")

    assert _answer(app_host, infra).state == "approved"


def test_an_environment_the_policy_does_not_protect_is_approved(
    app_host, infra, simulator
):
    simulator.drop_webhooks()
    infra.commit("main", {"infra/main.tf": "# sneaky\n"}, login="pat")
    simulator.drop_webhooks(False)

    assert _answer(app_host, infra, environment="staging").state == "approved"


def test_an_unreadable_policy_refuses(app_host, infra, simulator):
    simulator.drop_webhooks()
    infra.commit("main", {".changebot.yml": "areas: [oops\n"}, login="admin")
    simulator.drop_webhooks(False)

    review = _answer(app_host, infra)

    assert review.state == "rejected"
    assert "cannot be read" in review.comment


def test_the_gate_webhook_and_the_answer_follow_githubs_schemas(
    app_host, infra, openapi
):
    _answer(app_host, infra)

    [delivery] = app_host.simulator.deliveries("deployment_protection_rule")
    openapi.validate_webhook("deployment_protection_rule", delivery.payload)
    [exchange] = [
        e
        for e in app_host.simulator.exchanges()
        if e.path.endswith("/deployment_protection_rule")
    ]
    openapi.validate_request(exchange.method, exchange.path, exchange.request)
    assert exchange.status == 204


def test_only_the_app_answers_and_only_for_the_waiting_environment(
    seeded_repo, simulator
):
    gate = simulator.request_gate(REPO, "production", seeded_repo.head(), "ana")
    path = f"/repos/{REPO}/actions/runs/{gate.run_id}/deployment_protection_rule"
    body = {"environment_name": "production", "state": "approved", "comment": "ok"}
    app = requests.Session()
    app.headers["Authorization"] = f"token {simulator.installation_token('acme')}"
    url = simulator.base_url + path

    assert simulator.client("admin").post(path, json=body).status_code == 403
    wrong = {**body, "environment_name": "staging"}
    assert app.post(url, json=wrong, timeout=30).status_code == 422
    assert app.post(url, json={**body, "state": "maybe"}, timeout=30).status_code == 422
    assert (
        app.post(
            url.replace(f"/runs/{gate.run_id}/", "/runs/1/"), json=body, timeout=30
        ).status_code
        == 404
    )
    assert gate.reviews == []

    assert app.post(url, json=body, timeout=30).status_code == 204
    assert [r.state for r in gate.reviews] == ["approved"]

"""The simulator's answers and webhooks match GitHub's published schemas.

One scenario touches every family of endpoints; then each request body,
each answer and each webhook it produced is validated against the schemas
extracted from @octokit/openapi and @octokit/openapi-webhooks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests
from openapi import OpenAPI
from seeding import SeededRepo, put_file, seed

from ghsim import Simulator


def _app_session(simulator: Simulator) -> requests.Session:
    now = int(time.time())
    token = jwt.encode(
        {"iat": now - 60, "exp": now + 540, "iss": str(simulator.app["id"])},
        simulator.app["private_key"],
        algorithm="RS256",
    )
    session = simulator.client("unused")
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def _bot_session(simulator: Simulator, app: requests.Session) -> requests.Session:
    installation = app.get("/repos/acme/infra/installation").json()["id"]
    token = app.post(f"/app/installations/{installation}/access_tokens").json()
    bot = simulator.client("unused")
    bot.headers["Authorization"] = f"token {token['token']}"
    return bot


def _scenario(repo: SeededRepo) -> None:
    """Drive every family of endpoints once, the way changebot and people do."""
    sim, api = repo.simulator, repo.api
    dev, admin = repo.client("dev"), repo.client()
    app = _app_session(sim)
    bot = _bot_session(sim, app)

    # 1. A PR that touches infra, seen from every angle.
    number = repo.open_pull("change/infra", {"infra/main.tf": "# v2\n"}, body="Why: x")
    head = repo.head("change/infra")
    for tail in (
        f"pulls/{number}",
        f"pulls/{number}/files",
        f"pulls/{number}/commits",
        "pulls?state=all&sort=updated&direction=desc",
        f"commits/{head}",
        f"commits/{head}/pulls",
        f"compare/main...{head}",
        "contents/CODEOWNERS?ref=main",
        "collaborators/pat/permission",
    ):
        admin.get(api(tail))
    admin.get("/orgs/acme/teams/platform/memberships/pat")
    admin.get("/orgs/acme/teams/platform/members")

    # 2. Reviews, comments, labels, edits, statuses and check runs.
    review = repo.review(number, "pat", "REQUEST_CHANGES", body="Explain the risk.")
    admin.put(
        api(f"pulls/{number}/reviews/{review['id']}/dismissals"),
        json={"message": "stale"},
    )
    repo.review(number, "pat")
    dev.get(api(f"pulls/{number}/reviews"))
    comment = bot.post(api(f"issues/{number}/comments"), json={"body": "hi"}).json()
    bot.patch(api(f"issues/comments/{comment['id']}"), json={"body": "hello"})
    bot.get(api(f"issues/{number}/comments"))
    admin.post(api(f"issues/{number}/labels"), json={"labels": ["infra"]})
    admin.delete(api(f"issues/{number}/labels/infra"))
    dev.patch(api(f"pulls/{number}"), json={"title": "Change infra", "body": "Why: y"})
    bot.post(api(f"statuses/{head}"), json={"state": "success", "context": "ci"})
    run = bot.post(
        api("check-runs"),
        json={"name": "changebot", "head_sha": head, "status": "in_progress"},
    ).json()
    bot.patch(
        api(f"check-runs/{run['id']}"),
        json={"conclusion": "success", "output": {"title": "ok", "summary": "fine"}},
    )
    bot.get(api(f"commits/{head}/check-runs?check_name=changebot"))

    # 3. Pushes (synchronize, force push), merge, git data API writes.
    put_file(dev, repo.full_name, "infra/vars.tf", "# vars\n", branch="change/infra")
    repo.commit(
        "change/infra", {"infra/main.tf": "# v3\n"}, force_parent=head, login="dev"
    )
    admin.put(api(f"pulls/{number}/merge"), json={"merge_method": "squash"})
    repo.commit("changebot/audit", {"entries/0/0.json": "{}"}, login="admin")
    admin.get(api("git/ref/heads/changebot%2Faudit"))
    admin.get(api("git/matching-refs/heads/changebot"))
    tip = repo.head("main")
    admin.get(api(f"git/trees/{tip}?recursive=1"))
    admin.delete(api("git/refs/heads/change%2Finfra"))

    draft = repo.open_pull("change/k8s", {"k8s/deploy.yaml": "kind: Job\n"}, draft=True)
    dev.patch(api(f"pulls/{draft}"), json={"draft": False})
    dev.patch(api(f"pulls/{draft}"), json={"state": "closed"})
    dev.patch(api(f"pulls/{draft}"), json={"state": "open"})

    # 4. Deployments, protection, the App and its deliveries.
    deployment = bot.post(
        api("deployments"),
        json={
            "ref": "main",
            "environment": "production",
            "auto_merge": False,
            "required_contexts": [],
        },
    ).json()
    bot.post(
        api(f"deployments/{deployment['id']}/statuses"),
        json={"state": "success", "description": "deployed"},
    )
    bot.get(api("deployments?environment=production"))
    bot.get(api(f"deployments/{deployment['id']}/statuses"))
    admin.put(
        api("branches/main/protection"),
        json={
            "required_status_checks": None,
            "enforce_admins": True,
            "required_pull_request_reviews": {"required_approving_review_count": 1},
            "restrictions": None,
        },
    )
    app.get("/app")
    app.get("/app/installations")
    app.get("/orgs/acme/installation")
    deliveries = app.get("/app/hook/deliveries?per_page=5").json()
    app.post(f"/app/hook/deliveries/{deliveries[0]['id']}/attempts")
    admin.get(api(""))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """Run the scenario once for the module, on a seeded repository."""
    with Simulator(tmp_path_factory.mktemp("fidelity")) as sim:
        _scenario(seed(sim))
        yield sim


def _failures(spec: OpenAPI, simulator: Simulator) -> list[str]:
    failures = []
    for ex in simulator.exchanges():
        try:
            if ex.request is not None and ex.method in ("POST", "PUT", "PATCH"):
                spec.validate_request(ex.method, ex.path, ex.request)
            spec.validate_response(ex.method, ex.path, ex.status, ex.response)
        except KeyError:
            continue  # not a GitHub REST operation (`/_sim`, OAuth pages)
        except Exception as err:  # noqa: BLE001 - collect every mismatch
            failures.append(f"{ex.method} {ex.path} {ex.status}: {_short(err)}")
    return failures


def _short(err: Any) -> str:
    where = "/".join(str(p) for p in getattr(err, "absolute_path", []))
    return f"{where}: {str(getattr(err, 'message', err))[:200]}"


def test_every_answer_matches_githubs_schema(
    scenario: Simulator, openapi: OpenAPI
) -> None:
    # NOTE: the seeding helpers probe for branches and files with GETs that 404.
    refused = [
        f"{ex.method} {ex.path} {ex.status}"
        for ex in scenario.exchanges()
        if ex.status >= 400 and not (ex.method == "GET" and ex.status == 404)
    ]
    assert refused == [], "the scenario itself must succeed"
    failures = _failures(openapi, scenario)
    assert failures == [], "\n".join(failures)


def test_every_webhook_matches_githubs_schema(
    scenario: Simulator, openapi: OpenAPI
) -> None:
    failures, seen = [], set()
    for delivery in scenario.deliveries():
        try:
            seen.add(openapi.validate_webhook(delivery.event, delivery.payload))
        except Exception as err:  # noqa: BLE001 - collect every mismatch
            failures.append(f"{delivery.event}.{delivery.action}: {_short(err)}")
    assert failures == []
    assert {
        "pull_request.opened",
        "pull_request.synchronize",
        "pull_request.closed",
        "pull_request_review.submitted",
        "pull_request_review.dismissed",
        "issue_comment.created",
        "issue_comment.edited",
        "push",
        "deployment.created",
        "deployment_status.created",
        "installation.created",
        "branch_protection_rule.created",
        "member.added",
    } <= seen


def test_error_answers_match_githubs_schema(
    simulator: Simulator, openapi: OpenAPI
) -> None:
    alice = simulator.client("alice")
    alice.post("/orgs/acme/repos", json={"name": "infra", "auto_init": True})

    missing = alice.get("/repos/acme/infra/pulls/99")
    invalid = alice.post(
        "/repos/acme/infra/pulls", json={"title": "x", "head": "nope", "base": "main"}
    )

    assert missing.status_code == 404
    assert invalid.status_code == 422
    openapi.validate_response("GET", "/repos/acme/infra/pulls/99", 404, missing.json())
    openapi.validate_response("POST", "/repos/acme/infra/pulls", 422, invalid.json())
    assert set(invalid.json()) >= {"message", "documentation_url", "errors"}

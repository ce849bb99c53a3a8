"""How the simulator answers as a service: limits, faults, errors, the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from seeding import SeededRepo, seed

from ghsim import Simulator


def test_every_answer_carries_rate_limit_headers(simulator: Simulator) -> None:
    alice = simulator.client("alice")

    first = alice.get("/user")
    second = alice.get("/repos/nobody/nothing")

    for answer in (first, second):
        assert answer.headers["X-RateLimit-Limit"] == "5000"
        assert int(answer.headers["X-RateLimit-Reset"]) > 0
    assert (
        int(second.headers["X-RateLimit-Remaining"])
        == int(first.headers["X-RateLimit-Remaining"]) - 1
    )


@pytest.mark.parametrize(
    ("kind", "status", "header"),
    [
        ("500", 500, None),
        ("502", 502, None),
        ("secondary", 403, "Retry-After"),
        ("429", 429, "Retry-After"),
        ("primary", 403, "X-RateLimit-Reset"),
    ],
)
def test_injected_fault_hits_the_next_matching_calls_only(
    seeded_repo: SeededRepo, kind: str, status: int, header: str | None
) -> None:
    seeded_repo.simulator.fail("/repos/acme/infra/pulls*", kind, times=2, retry_after=7)
    admin = seeded_repo.client()

    elsewhere = admin.get(seeded_repo.api("commits/main"))
    answers = [admin.get(seeded_repo.api("pulls")) for _ in range(3)]

    assert elsewhere.status_code == 200
    assert [a.status_code for a in answers] == [status, status, 200]
    if header == "Retry-After":
        assert answers[0].headers["Retry-After"] == "7"
    if header == "X-RateLimit-Reset":
        assert answers[0].headers["X-RateLimit-Remaining"] == "0"
    assert "message" in answers[0].json()


def test_faults_can_be_set_over_http(seeded_repo: SeededRepo) -> None:
    admin = seeded_repo.client()
    admin.post(
        "/_sim/faults", json={"kind": "502", "path": "*/check-runs", "method": "POST"}
    )

    listed = admin.get(seeded_repo.api("commits/main/check-runs"))

    assert listed.status_code == 200
    assert seeded_repo.simulator.hub.faults.take("POST", "/x/check-runs") is not None


def test_unknown_routes_and_objects_answer_githubs_404(simulator: Simulator) -> None:
    alice = simulator.client("alice")

    for path in ("/nope", "/repos/acme/none/pulls/1", "/repos/acme/none"):
        answer = alice.get(path)
        assert answer.status_code == 404
        assert answer.json()["message"] == "Not Found"
        assert answer.json()["documentation_url"].startswith("https://docs.github.com")


def test_private_repositories_hide_from_strangers(simulator: Simulator) -> None:
    simulator.client("alice").post(
        "/orgs/acme/repos", json={"name": "secret", "private": True}
    )

    stranger = simulator.client("mallory").get("/repos/acme/secret")

    assert stranger.status_code == 404


def test_pages_are_capped_at_100(seeded_repo: SeededRepo) -> None:
    for n in range(3):
        seeded_repo.call(
            "pat",
            "POST",
            "statuses/main",
            json={"state": "success", "context": f"c{n}"},
        )
    admin = seeded_repo.client()

    capped = admin.get(seeded_repo.api("commits/main/statuses?per_page=500"))
    paged = admin.get(seeded_repo.api("commits/main/statuses?per_page=1&page=2"))

    assert len(capped.json()) == 3
    assert set(paged.links) == {"prev", "first", "next", "last"}
    assert paged.links["last"]["url"].endswith("page=3")


def test_check_runs_list_filters_by_name(seeded_repo: SeededRepo) -> None:
    simulator = seeded_repo.simulator
    bot = simulator.client("unused")
    bot.headers["Authorization"] = f"token {simulator.installation_token('acme')}"
    for name in ("changebot", "ci", "changebot"):
        bot.post(seeded_repo.api("check-runs"), json={"name": name, "head_sha": "main"})

    listed = bot.get(seeded_repo.api("commits/main/check-runs?check_name=changebot"))

    assert listed.json()["total_count"] == 2
    assert len(simulator.check_runs("acme/infra", "changebot")) == 2


def test_timeout_fault_holds_the_answer_back(seeded_repo: SeededRepo) -> None:
    seeded_repo.simulator.fail("/repos/acme/infra", "timeout", delay=0.5)

    with pytest.raises(requests.Timeout):
        seeded_repo.client().get(seeded_repo.api(""), timeout=0.1)
    assert seeded_repo.client().get(seeded_repo.api("")).status_code == 200


def test_a_crashing_webhook_sink_is_a_failed_delivery(seeded_repo: SeededRepo) -> None:
    def crash(headers: dict[str, str], body: bytes) -> int:
        raise RuntimeError("receiver down")

    seeded_repo.simulator.set_webhook_sink(crash)

    opened = seeded_repo.client("dev").post(
        seeded_repo.api("pulls"),
        json={
            "title": "t",
            "head": seeded_repo.commit("s", {"a": "1"}) and "s",
            "base": "main",
        },
    )

    assert opened.status_code == 201
    assert seeded_repo.simulator.deliveries("pull_request")[-1].status_code == 0


def test_a_persistent_simulator_remembers_across_restarts(tmp_path: Path) -> None:
    with Simulator(tmp_path / "gh", persistent=True) as first:
        seeded = seed(first)
        number = seeded.open_pull("keep", {"infra/k.tf": "1"})
        seeded.review(number, "pat")
        installation = first.installation_id("acme")
        head = seeded.head("keep")

    with Simulator(tmp_path / "gh", persistent=True) as second:
        pat = second.client("pat")
        pull = pat.get(f"/repos/acme/infra/pulls/{number}").json()
        reviews = pat.get(f"/repos/acme/infra/pulls/{number}/reviews").json()
        seeded.simulator = second
        another = seeded.open_pull("next", {"infra/n.tf": "1"})

    assert (pull["state"], pull["head"]["sha"]) == ("open", head)
    assert [r["user"]["login"] for r in reviews] == ["pat"]
    assert second.installation_id("acme") == installation
    assert another == number + 1

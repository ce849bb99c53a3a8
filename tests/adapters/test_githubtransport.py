"""Rate limits, retries and refusals of the GitHub adapter, one call at a time."""

from __future__ import annotations

import logging

import pytest
import requests
import responses

from changebot.adapters.github import GitHubForge
from changebot.adapters.githubauth import TokenAuth
from changebot.errors import ForgeError, ForgeUnavailable, NotFound, RateLimited

BASE = "https://ghe.example/api/v3"
# NOTE: PyGithub's requester spells the default port out in the URLs it sends.
API = "https://ghe.example:443/api/v3"
REPO_URL = f"{API}/repos/octo/infra"
NOW = 1_700_000_000.0
TOKEN = "ghs_not-a-real-token-0123456789"


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def seen() -> list[tuple[str, str, int, int | None]]:
    return []


@pytest.fixture
def forge(sleeps: list[float], seen: list[tuple[str, str, int, int | None]]):
    return GitHubForge(
        TokenAuth(TOKEN, BASE),
        sleep=sleeps.append,
        clock=lambda: NOW,
        on_response=lambda *args: seen.append(args),
    )


def repo_ok() -> dict[str, object]:
    return {"json": {"default_branch": "trunk"}, "status": 200}


@responses.activate
def test_secondary_rate_limit_waits_for_retry_after(forge, sleeps):
    responses.get(
        REPO_URL,
        status=403,
        headers={"Retry-After": "7"},
        json={"message": "You have exceeded a secondary rate limit."},
    )
    responses.get(REPO_URL, **repo_ok())

    assert forge.default_branch("octo/infra") == "trunk"
    assert sleeps == [7.0]


@responses.activate
def test_429_waits_for_retry_after(forge, sleeps):
    responses.get(REPO_URL, status=429, headers={"Retry-After": "3"}, json={})
    responses.get(REPO_URL, **repo_ok())

    assert forge.default_branch("octo/infra") == "trunk"
    assert sleeps == [3.0]


@responses.activate
def test_secondary_rate_limit_without_header_waits_a_minute(forge, sleeps):
    responses.get(
        REPO_URL,
        status=403,
        json={"message": "You have exceeded a secondary rate limit."},
    )
    responses.get(REPO_URL, **repo_ok())

    forge.default_branch("octo/infra")
    assert sleeps == [60.0]


@responses.activate
def test_primary_rate_limit_waits_until_reset(forge, sleeps):
    responses.get(
        REPO_URL,
        status=403,
        headers={
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(NOW) + 30),
        },
        json={"message": "API rate limit exceeded for installation ID 1."},
    )
    responses.get(REPO_URL, **repo_ok())

    assert forge.default_branch("octo/infra") == "trunk"
    assert sleeps == [31.0]


@responses.activate
def test_long_rate_limit_raises_instead_of_blocking(forge, sleeps):
    reset = int(NOW) + 3600
    responses.get(
        REPO_URL,
        status=403,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
        json={"message": "API rate limit exceeded"},
    )

    with pytest.raises(RateLimited) as caught:
        forge.default_branch("octo/infra")

    assert caught.value.retry_at == pytest.approx(reset + 1)
    assert sleeps == []
    assert len(responses.calls) == 1


@responses.activate
def test_server_errors_are_retried_with_growing_backoff(forge, sleeps):
    responses.get(REPO_URL, status=502, body="bad gateway")
    responses.get(REPO_URL, status=503, json={"message": "unavailable"})
    responses.get(REPO_URL, **repo_ok())

    assert forge.default_branch("octo/infra") == "trunk"
    assert sleeps == [1.0, 2.0]


@responses.activate
def test_server_errors_give_up_after_the_last_attempt(forge, sleeps):
    responses.get(REPO_URL, status=500, json={"message": "boom"})

    with pytest.raises(ForgeUnavailable) as caught:
        forge.default_branch("octo/infra")

    attempts = forge.transport.policy.attempts
    assert len(responses.calls) == attempts
    assert sleeps == [1.0, 2.0, 4.0, 8.0][: attempts - 1]
    assert caught.value.status == 500
    assert caught.value.hint


@responses.activate
def test_timeouts_are_retried(forge, sleeps):
    responses.get(REPO_URL, body=requests.ConnectTimeout("slow"))
    responses.get(REPO_URL, body=requests.ConnectionError("reset"))
    responses.get(REPO_URL, **repo_ok())

    assert forge.default_branch("octo/infra") == "trunk"
    assert sleeps == [1.0, 2.0]


@responses.activate
def test_not_found_is_not_retried_and_says_what_github_said(forge, sleeps):
    responses.get(REPO_URL, status=404, json={"message": "Not Found"})

    with pytest.raises(NotFound) as caught:
        forge.default_branch("octo/infra")

    assert "Not Found" in str(caught.value)
    assert "GET /repos/{owner}/{repo}" in str(caught.value)
    assert caught.value.hint
    assert len(responses.calls) == 1
    assert sleeps == []


@responses.activate
def test_validation_failure_is_not_retried_and_carries_details(forge, sleeps):
    responses.post(
        f"{REPO_URL}/issues/4/comments",
        status=422,
        json={
            "message": "Validation Failed",
            "errors": [
                {
                    "resource": "IssueComment",
                    "code": "custom",
                    "message": "body is too long",
                }
            ],
        },
    )

    with pytest.raises(ForgeError) as caught:
        forge.reply("octo/infra", 4, "hello")

    assert caught.value.status == 422
    assert "Validation Failed; body is too long" in str(caught.value)
    assert len(responses.calls) == 1
    assert sleeps == []


@responses.activate
def test_forbidden_without_rate_limit_is_a_permission_problem(forge, sleeps):
    responses.get(
        REPO_URL,
        status=403,
        json={"message": "Resource not accessible by integration"},
    )

    with pytest.raises(ForgeError) as caught:
        forge.default_branch("octo/infra")

    assert caught.value.status == 403
    assert "permission" in caught.value.hint
    assert len(responses.calls) == 1


@responses.activate
def test_every_attempt_reaches_the_response_hook(forge, seen):
    responses.get(REPO_URL, status=502, headers={"X-RateLimit-Remaining": "41"})
    responses.get(
        REPO_URL, headers={"X-RateLimit-Remaining": "40"}, json={"default_branch": "x"}
    )

    forge.default_branch("octo/infra")

    route = "/repos/{owner}/{repo}"
    assert seen == [("GET", route, 502, 41), ("GET", route, 200, 40)]


@responses.activate
def test_a_timeout_reaches_the_hook_as_status_zero(forge, seen):
    responses.get(REPO_URL, body=requests.ReadTimeout("slow"))
    responses.get(REPO_URL, **repo_ok())

    forge.default_branch("octo/infra")

    assert seen[0] == ("GET", "/repos/{owner}/{repo}", 0, None)


@responses.activate
def test_listings_follow_link_headers(forge):
    url = f"{REPO_URL}/commits/abc/pulls"
    responses.get(
        url,
        match=[responses.matchers.query_param_matcher({"per_page": "100"})],
        headers={"Link": f'<{url}?per_page=100&page=2>; rel="next"'},
        json=[{"number": 1, "merged_at": "2024-01-01T00:00:00Z"}],
    )
    responses.get(
        url,
        match=[
            responses.matchers.query_param_matcher({"per_page": "100", "page": "2"})
        ],
        json=[
            {"number": 2, "merged_at": None},
            {"number": 3, "merged_at": "2024-01-02T00:00:00Z"},
        ],
    )

    assert forge.pulls_for_commit("octo/infra", "abc") == [1, 3]


@responses.activate
def test_the_token_never_reaches_a_log_line(forge, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="github")
    responses.get(REPO_URL, status=502)
    responses.get(REPO_URL, **repo_ok())

    forge.default_branch("octo/infra")

    sent = responses.calls[-1].request.headers["Authorization"]
    assert sent == f"token {TOKEN}"
    assert caplog.records, "debug logging should have produced records"
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(forge.auth)


@responses.activate
def test_requests_carry_api_version_and_user_agent(forge):
    responses.get(REPO_URL, **repo_ok())

    forge.default_branch("octo/infra")

    headers = responses.calls[0].request.headers
    assert headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert headers["Accept"] == "application/vnd.github+json"
    assert headers["User-Agent"].startswith("changebot")

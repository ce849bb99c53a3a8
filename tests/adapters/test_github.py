"""The forge adapter's reads and writes, against recorded GitHub answers."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
import responses
from responses import matchers

from changebot.adapters.github import GitHubForge
from changebot.adapters.githubauth import TokenAuth
from changebot.ports import CheckReport

BASE = "https://ghe.example/api/v3"
# NOTE: PyGithub's requester spells the default port out in the URLs it sends.
API = "https://ghe.example:443/api/v3"
REPO = f"{API}/repos/octo/infra"
HEAD, BASE_SHA = "h" * 40, "b" * 40


@pytest.fixture
def forge() -> GitHubForge:
    return GitHubForge(TokenAuth("ghp_token", BASE), sleep=lambda _: None)


def page(url: str, items: object, number: int, last: int, **query: str) -> None:
    """Register page ``number`` of a listing, linking to the next one."""
    params = {"per_page": "100", **query}
    if number > 1:
        params["page"] = str(number)
    headers = {}
    if number < last:
        headers["Link"] = f'<{url}?per_page=100&page={number + 1}>; rel="next"'
    responses.get(
        url,
        match=[matchers.query_param_matcher(params)],
        json=items,
        headers=headers,
    )


def contents(text: str) -> dict[str, object]:
    encoded = base64.b64encode(text.encode()).decode()
    return {"type": "file", "encoding": "base64", "content": encoded, "sha": "c" * 40}


def body(call_index: int) -> dict[str, object]:
    return json.loads(responses.calls[call_index].request.body)


# --- the PR -------------------------------------------------------------------


def seed_pull(files: int = 150, changed_files: int | None = None) -> None:
    responses.get(
        f"{REPO}/pulls/7",
        json={
            "number": 7,
            "title": "Grow the cluster",
            "body": "## Why\nmore load",
            "user": {"login": "Alice"},
            "draft": True,
            "labels": [{"name": "infra"}],
            "base": {"ref": "main", "sha": BASE_SHA},
            "head": {"ref": "grow", "sha": HEAD},
            "changed_files": files if changed_files is None else changed_files,
            "html_url": "https://ghe.example/octo/infra/pull/7",
        },
    )
    listed = [
        {"filename": f"infra/f{i}.tf", "status": "modified"} for i in range(files)
    ]
    listed[0] = {
        "filename": "infra/new.tf",
        "status": "renamed",
        "previous_filename": "infra/old.tf",
    }
    pages = [listed[i : i + 100] for i in range(0, files, 100)] or [[]]
    for number, items in enumerate(pages, 1):
        page(f"{REPO}/pulls/7/files", items, number, len(pages))
    page(
        f"{REPO}/pulls/7/commits",
        [
            {
                "sha": "1" * 40,
                "author": {"login": "Alice"},
                "committer": {"login": "web-flow"},
                "commit": {"message": "first", "tree": {"sha": "t1" * 20}},
            },
            {
                "sha": HEAD,
                "author": None,
                "committer": {"login": "alice"},
                "commit": {"message": "second", "tree": {"sha": "t2" * 20}},
            },
        ],
        1,
        1,
    )
    page(
        f"{REPO}/pulls/7/reviews",
        [
            {
                "user": {"login": "Bob"},
                "state": "APPROVED",
                "commit_id": "1" * 40,
                "submitted_at": "2024-05-01T10:00:00Z",
            },
            {
                "user": {"login": "carol"},
                "state": "CHANGES_REQUESTED",
                "commit_id": "9" * 40,
                "submitted_at": "2024-05-01T11:00:00Z",
            },
        ],
        1,
        1,
    )


@responses.activate
def test_pull_collects_every_fact_the_policy_needs(forge):
    seed_pull()
    responses.get(f"{REPO}/contents/.github/CODEOWNERS", status=404, json={})
    responses.get(f"{REPO}/contents/CODEOWNERS", json=contents("infra/ @octo/platform"))

    facts = forge.pull("octo/infra", 7)

    assert (facts.title, facts.author, facts.draft) == (
        "Grow the cluster",
        "alice",
        True,
    )
    assert (facts.base_sha, facts.head_sha, facts.head_tree) == (
        BASE_SHA,
        HEAD,
        "t2" * 20,
    )
    assert facts.labels == ("infra",)
    assert len(facts.files) == 150
    assert facts.files[0].status == "renamed"
    assert facts.files[0].previous_path == "infra/old.tf"
    assert not facts.files_truncated
    assert [c.committer for c in facts.commits] == ["web-flow", "alice"]
    approved, changes = facts.reviews
    assert (approved.user, approved.tree) == ("bob", "t1" * 20)
    assert approved.submitted_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert (changes.user, changes.tree) == ("carol", None)
    assert facts.codeowners == "infra/ @octo/platform"
    assert facts.memberships == {}


@responses.activate
def test_pull_reads_codeowners_from_the_base_commit(forge):
    seed_pull(files=3)
    responses.get(
        f"{REPO}/contents/.github/CODEOWNERS",
        match=[matchers.query_param_matcher({"ref": BASE_SHA})],
        json=contents("* @octo/owners"),
    )

    assert forge.pull("octo/infra", 7).codeowners == "* @octo/owners"


@responses.activate
def test_pull_with_50_files_and_5_reviews_stays_within_the_budget(forge):
    seed_pull(files=50)
    for path in (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"):
        responses.get(f"{REPO}/contents/{path}", status=404, json={})

    facts = forge.pull("octo/infra", 7)

    assert facts.codeowners is None
    assert len(responses.calls) <= 8


@responses.activate
def test_a_second_evaluation_reuses_codeowners_of_the_same_base(forge):
    seed_pull(files=3)
    responses.get(f"{REPO}/contents/.github/CODEOWNERS", json=contents("* @a"))

    forge.pull("octo/infra", 7)
    forge.pull("octo/infra", 7)

    paths = [c.request.path_url for c in responses.calls]
    assert sum("CODEOWNERS" in p for p in paths) == 1


@responses.activate
def test_pull_over_the_listing_limit_is_marked_truncated(forge):
    seed_pull(files=3, changed_files=3500)
    responses.get(f"{REPO}/contents/.github/CODEOWNERS", json=contents(""))

    assert forge.pull("octo/infra", 7).files_truncated


@responses.activate
def test_file_at_a_branch_is_asked_each_time(forge):
    url = f"{REPO}/contents/.changebot.yml"
    responses.get(url, json=contents("areas: {}\n"))

    assert forge.file_at("octo/infra", "main", ".changebot.yml") == "areas: {}\n"
    assert forge.file_at("octo/infra", "main", ".changebot.yml") == "areas: {}\n"
    assert len(responses.calls) == 2


@responses.activate
def test_file_at_a_directory_or_missing_path_is_none(forge):
    responses.get(f"{REPO}/contents/infra", json=[{"type": "file", "name": "a.tf"}])
    responses.get(f"{REPO}/contents/nope", status=404, json={"message": "Not Found"})

    assert forge.file_at("octo/infra", "main", "infra") is None
    assert forge.file_at("octo/infra", "main", "nope") is None


# --- check run ----------------------------------------------------------------


def report(annotations: int = 0, summary: str = "All rules pass") -> CheckReport:
    notes = tuple(
        {
            "path": "infra/a.tf",
            "start_line": i + 1,
            "end_line": i + 1,
            "annotation_level": "notice",
            "message": f"note {i}",
        }
        for i in range(annotations)
    )
    return CheckReport(
        head_sha=HEAD,
        status="completed",
        conclusion="success",
        title="changebot: 2 areas",
        summary=summary,
        annotations=notes,
    )


def no_check_run_yet() -> None:
    responses.get(
        f"{REPO}/commits/{HEAD}/check-runs",
        match=[
            matchers.query_param_matcher(
                {"check_name": "changebot", "filter": "latest"}
            )
        ],
        json={"total_count": 0, "check_runs": []},
    )


@responses.activate
def test_check_run_is_created_when_there_is_none(forge):
    no_check_run_yet()
    responses.post(f"{REPO}/check-runs", status=201, json={"id": 55})

    forge.set_check_run("octo/infra", report())

    sent = body(1)
    assert sent["name"] == "changebot"
    assert sent["head_sha"] == HEAD
    assert sent["conclusion"] == "success"
    assert sent["output"]["summary"] == "All rules pass"


@responses.activate
def test_check_run_is_updated_in_place_when_it_exists(forge):
    responses.get(
        f"{REPO}/commits/{HEAD}/check-runs",
        json={"total_count": 1, "check_runs": [{"id": 31, "name": "changebot"}]},
    )
    responses.patch(f"{REPO}/check-runs/31", json={"id": 31})

    forge.set_check_run("octo/infra", report())
    forge.set_check_run("octo/infra", report())

    methods = [c.request.method for c in responses.calls]
    assert methods == ["GET", "PATCH", "PATCH"]
    assert "head_sha" not in body(1)


@responses.activate
def test_check_run_annotations_go_fifty_per_request(forge):
    no_check_run_yet()
    responses.post(f"{REPO}/check-runs", status=201, json={"id": 55})
    responses.patch(f"{REPO}/check-runs/55", json={"id": 55})

    forge.set_check_run("octo/infra", report(annotations=120))

    batches = [len(body(i)["output"]["annotations"]) for i in (1, 2, 3)]
    assert batches == [50, 50, 20]
    assert body(3)["output"]["annotations"][-1]["message"] == "note 119"


@responses.activate
def test_check_run_summary_is_cut_to_githubs_limit(forge):
    no_check_run_yet()
    responses.post(f"{REPO}/check-runs", status=201, json={"id": 55})

    forge.set_check_run("octo/infra", report(summary="x" * 70_000))

    assert len(body(1)["output"]["summary"]) == 65_535


# --- the summary comment ------------------------------------------------------

MARKER = "<!-- changebot:summary -->"


@responses.activate
def test_comment_with_the_marker_is_found_across_pages_and_edited(forge):
    url = f"{REPO}/issues/7/comments"
    page(url, [{"id": i, "body": "lgtm"} for i in range(100)], 1, 2)
    mine = {"id": 900, "body": f"{MARKER}\nold", "user": {"type": "Bot"}}
    page(url, [mine], 2, 2)
    responses.patch(f"{REPO}/issues/comments/900", json={"id": 900})

    forge.upsert_comment("octo/infra", 7, MARKER, f"{MARKER}\nnew")

    assert responses.calls[-1].request.method == "PATCH"
    assert body(-1) == {"body": f"{MARKER}\nnew"}


@responses.activate
def test_comment_is_created_when_none_carries_the_marker(forge):
    page(f"{REPO}/issues/7/comments", [{"id": 1, "body": "hi"}], 1, 1)
    responses.post(f"{REPO}/issues/7/comments", status=201, json={"id": 77})
    responses.patch(f"{REPO}/issues/comments/77", json={"id": 77})

    forge.upsert_comment("octo/infra", 7, MARKER, "first")
    forge.upsert_comment("octo/infra", 7, MARKER, "second")

    methods = [c.request.method for c in responses.calls]
    assert methods == ["GET", "POST", "PATCH"]
    assert body(1)["body"].startswith(MARKER)


@responses.activate
def test_a_marker_planted_in_a_persons_comment_is_left_alone(forge):
    planted = {"id": 5, "body": f"{MARKER} mine now", "user": {"type": "User"}}
    page(f"{REPO}/issues/7/comments", [planted], 1, 1)
    responses.post(f"{REPO}/issues/7/comments", status=201, json={"id": 77})

    forge.upsert_comment("octo/infra", 7, MARKER, f"{MARKER}\nverdict")

    methods = [c.request.method for c in responses.calls]
    assert methods == ["GET", "POST"]


@responses.activate
def test_long_comment_is_cut_and_keeps_its_marker(forge):
    page(f"{REPO}/issues/7/comments", [], 1, 1)
    responses.post(f"{REPO}/issues/7/comments", status=201, json={"id": 77})

    forge.upsert_comment("octo/infra", 7, MARKER, "y" * 70_000 + MARKER)

    sent = body(-1)["body"]
    assert len(sent) == 65_536
    assert MARKER in sent


# --- merges, compare, deployments, deliveries -----------------------------------


def pull_item(number: int, updated: str, merged: str | None) -> dict[str, object]:
    return {
        "number": number,
        "updated_at": updated,
        "merged_at": merged,
        "merge_commit_sha": f"{number}" * 40 if merged else None,
        "base": {"ref": "main"},
    }


@responses.activate
def test_merged_pulls_stop_at_the_first_older_update(forge):
    since = datetime(2024, 5, 1, tzinfo=UTC)
    url = f"{REPO}/pulls"
    query = {"state": "closed", "sort": "updated", "direction": "desc"}
    page(
        url,
        [
            pull_item(3, "2024-05-03T00:00:00Z", "2024-05-03T00:00:00Z"),
            pull_item(2, "2024-05-02T12:00:00Z", None),
            pull_item(1, "2024-05-02T00:00:00Z", "2024-05-01T09:00:00Z"),
            pull_item(4, "2024-05-01T08:00:00Z", "2024-04-30T00:00:00Z"),
        ]
        + [pull_item(9, "2024-04-01T00:00:00Z", None)] * 96,
        1,
        2,
        **query,
    )

    merged = forge.merged_pulls("octo/infra", since)

    assert [m.number for m in merged] == [1, 3]
    assert len(responses.calls) == 1


@responses.activate
def test_compare_follows_every_page_of_commits(forge):
    url = f"{REPO}/compare/{BASE_SHA}...{HEAD}"
    first = {
        "status": "ahead",
        "ahead_by": 3,
        "behind_by": 0,
        "html_url": "https://ghe.example/octo/infra/compare/x",
        "commits": [{"sha": "1" * 40}, {"sha": "2" * 40}],
    }
    page(url, first, 1, 2)
    page(url, {"status": "ahead", "commits": [{"sha": "3" * 40}]}, 2, 2)

    comparison = forge.compare("octo/infra", BASE_SHA, HEAD)

    assert comparison.status == "ahead"
    assert comparison.commits == ("1" * 40, "2" * 40, "3" * 40)
    assert comparison.html_url == "https://ghe.example/octo/infra/compare/x"


@responses.activate
def test_deployment_status_description_is_cut_to_140(forge):
    responses.post(f"{REPO}/deployments/5/statuses", status=201, json={"id": 1})

    forge.set_deployment_status("octo/infra", 5, "success", "d" * 500, "https://ci/1")

    sent = body(0)
    assert len(sent["description"]) == 140
    assert sent["state"] == "success"
    assert sent["log_url"] == "https://ci/1"


@responses.activate
def test_deployments_carry_their_latest_state(forge):
    responses.get(
        f"{REPO}/deployments",
        match=[
            matchers.query_param_matcher(
                {"environment": "production", "per_page": "10"}
            )
        ],
        json=[
            {
                "id": 5,
                "sha": HEAD,
                "environment": "production",
                "creator": {"login": "Dana"},
                "created_at": "2024-05-02T00:00:00Z",
                "payload": {},
            }
        ],
    )
    responses.get(f"{REPO}/deployments/5/statuses", json=[{"state": "success"}])

    (deployment,) = forge.deployments("octo/infra", "production")

    assert (deployment.id, deployment.state, deployment.creator) == (
        5,
        "success",
        "dana",
    )


def delivery(id: int, guid: str, status: int, at: str) -> dict[str, object]:
    return {
        "id": id,
        "guid": guid,
        "event": "pull_request",
        "status_code": status,
        "delivered_at": at,
        "redelivery": False,
    }


@responses.activate
def test_failed_deliveries_skip_the_ones_redelivered_since(forge, monkeypatch):
    monkeypatch.setattr(
        forge.auth,
        "for_app",
        lambda transport: forge.auth.for_repo(transport, "octo/infra"),
    )
    url = f"{API}/app/hook/deliveries"
    responses.get(
        url,
        match=[matchers.query_param_matcher({"per_page": "100"})],
        headers={"Link": f'<{url}?per_page=100&cursor=abc>; rel="next"'},
        json=[
            delivery(5, "g-b", 200, "2024-05-02T00:00:00Z"),
            delivery(4, "g-a", 502, "2024-05-01T12:00:00Z"),
        ],
    )
    responses.get(
        url,
        match=[matchers.query_param_matcher({"per_page": "100", "cursor": "abc"})],
        json=[
            delivery(3, "g-b", 0, "2024-05-01T11:00:00Z"),
            delivery(2, "g-a", 500, "2024-05-01T10:00:00Z"),
            delivery(1, "g-old", 500, "2024-04-01T10:00:00Z"),
        ],
    )

    failed = forge.failed_deliveries(datetime(2024, 5, 1, tzinfo=UTC))

    assert [(d.id, d.guid) for d in failed] == [(4, "g-a")]


@responses.activate
def test_permission_prefers_the_finer_role_name(forge):
    url = f"{REPO}/collaborators/Bob/permission"
    responses.get(url, json={"permission": "write", "role_name": "maintain"})
    responses.get(f"{REPO}/collaborators/ghost/permission", status=404, json={})

    assert forge.permission("octo/infra", "Bob") == "maintain"
    assert forge.permission("octo/infra", "ghost") == "none"


@responses.activate
def test_a_fresh_check_run_is_created_without_a_lookup(forge):
    responses.post(f"{REPO}/check-runs", status=201, json={"id": 56})

    run_id = forge.set_check_run("octo/infra", report(), fresh=True)

    assert run_id == 56
    assert [c.request.method for c in responses.calls] == ["POST"]


@responses.activate
def test_a_known_check_run_is_updated_without_a_lookup(forge):
    responses.patch(f"{REPO}/check-runs/31", json={"id": 31})

    run_id = forge.set_check_run("octo/infra", report(), 31)

    assert run_id == 31
    assert [c.request.method for c in responses.calls] == ["PATCH"]


@responses.activate
def test_a_known_check_run_that_vanished_is_made_again(forge):
    responses.patch(f"{REPO}/check-runs/31", status=404, json={"message": "Not Found"})
    responses.post(f"{REPO}/check-runs", status=201, json={"id": 57})

    run_id = forge.set_check_run("octo/infra", report(), 31)

    assert run_id == 57
    assert [c.request.method for c in responses.calls] == ["PATCH", "POST"]


# --- a small PR in one compare --------------------------------------------------

COMPARE = f"{REPO}/compare/{BASE_SHA}...{HEAD}"


def seed_small_pull(files: int, commits: int) -> None:
    """Register a PR that says how many files and commits it has."""
    responses.get(
        f"{REPO}/pulls/7",
        json={
            "number": 7,
            "user": {"login": "alice"},
            "base": {"ref": "main", "sha": BASE_SHA},
            "head": {"ref": "grow", "sha": HEAD},
            "changed_files": files,
            "commits": commits,
        },
    )
    page(f"{REPO}/pulls/7/reviews", [], 1, 1)
    responses.get(f"{REPO}/contents/.github/CODEOWNERS", json=contents("* @a"))


def compared(files: int, commits: int) -> dict[str, object]:
    return {
        "status": "ahead",
        "total_commits": commits,
        "files": [
            {"filename": f"infra/f{i}.tf", "status": "added", "patch": "@@ +1 @@"}
            for i in range(files)
        ],
        "commits": [
            {"sha": f"{i:040}", "commit": {"message": "m", "tree": {"sha": "t" * 40}}}
            for i in range(commits)
        ],
    }


@responses.activate
def test_a_small_pull_reads_files_and_commits_in_one_compare(forge):
    seed_small_pull(files=40, commits=3)
    responses.get(
        COMPARE,
        match=[matchers.query_param_matcher({"per_page": "100"})],
        json=compared(40, 3),
    )

    facts = forge.pull("octo/infra", 7)
    again = forge.pull("octo/infra", 7)

    assert [f.path for f in facts.files][:2] == ["infra/f0.tf", "infra/f1.tf"]
    assert len(facts.files) == len(again.files) == 40
    assert len(facts.commits) == len(again.commits) == 3
    paths = [c.request.path_url.split("?")[0] for c in responses.calls]
    assert "/api/v3/repos/octo/infra/pulls/7/files" not in paths
    assert sum("/compare/" in p for p in paths) == 1


@responses.activate
def test_a_compare_that_disagrees_with_the_pull_gives_way_to_the_listings(forge):
    seed_small_pull(files=2, commits=1)
    responses.get(COMPARE, json=compared(5, 1))
    page(f"{REPO}/pulls/7/files", [{"filename": "a"}, {"filename": "b"}], 1, 1)
    page(f"{REPO}/pulls/7/commits", compared(0, 1)["commits"], 1, 1)

    facts = forge.pull("octo/infra", 7)

    assert [f.path for f in facts.files] == ["a", "b"]
    assert len(facts.commits) == 1


@responses.activate
def test_a_pull_of_over_100_commits_is_listed_not_compared(forge):
    seed_small_pull(files=2, commits=101)
    page(f"{REPO}/pulls/7/files", [{"filename": "a"}, {"filename": "b"}], 1, 1)
    commits = compared(0, 101)["commits"]
    assert isinstance(commits, list)
    page(f"{REPO}/pulls/7/commits", commits[:100], 1, 2)
    page(f"{REPO}/pulls/7/commits", commits[100:], 2, 2)

    facts = forge.pull("octo/infra", 7)

    assert len(facts.commits) == 101
    assert not any("/compare/" in c.request.path_url for c in responses.calls)

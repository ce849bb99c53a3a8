"""The forge adapter against the GitHub simulator, over real HTTP.

One scenario per capability the flows rely on: a PR touching an infra path
with its files across pages, reviews, the check run, the summary comment,
merges with every merge method, the audit branch under concurrent writers,
and refused credentials.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from changebot.adapters.github import GitHubForge
from changebot.adapters.githubauth import AppAuth, InstallationToken
from changebot.adapters.githubstore import GitDataStore
from changebot.errors import ForgeError, NotFound
from changebot.ports import CheckReport

pytestmark = pytest.mark.e2e

MARKER = "<!-- changebot:summary -->"


@pytest.fixture
def calls() -> list[tuple[str, str, int, int | None]]:
    return []


@pytest.fixture
def forge(simulator: Any, calls: list[Any]) -> GitHubForge:
    app = simulator.app
    return GitHubForge.for_app(
        app_id=app["id"],
        private_key=app["private_key"],
        base_url=simulator.base_url,
        on_response=lambda *call: calls.append(call),
    )


def fresh(forge: GitHubForge, simulator: Any) -> GitHubForge:
    """Return a second adapter with empty caches, as another process has."""
    app = simulator.app
    return GitHubForge.for_app(
        app_id=app["id"], private_key=app["private_key"], base_url=simulator.base_url
    )


def infra_pull(repo: Any, files: int = 120) -> int:
    changes: dict[str, str | None] = {
        f"infra/modules/m{i:03}.tf": f"# module {i}\n" for i in range(files)
    }
    changes["infra/main.tf"] = None
    changes["infra/core/main.tf"] = 'resource "null_resource" "demo" {}\n'
    return int(
        repo.open_pull(
            "grow",
            changes,
            title="Grow the modules",
            body="## Why\nload\n## Risk\nlow\n## Rollback plan\nrevert",
        )
    )


def report(head_sha: str, conclusion: str, summary: str) -> CheckReport:
    return CheckReport(
        head_sha=head_sha,
        status="completed",
        conclusion=conclusion,  # type: ignore[arg-type]
        title=f"changebot: {conclusion}",
        summary=summary,
        annotations=tuple(
            {
                "path": "infra/core/main.tf",
                "start_line": 1,
                "end_line": 1,
                "annotation_level": "warning",
                "message": f"needs review {i}",
            }
            for i in range(60)
        ),
    )


# --- the PR -------------------------------------------------------------------


def test_pull_lists_every_file_across_pages_with_renames(forge, seeded_repo):
    number = infra_pull(seeded_repo)

    facts = forge.pull("acme/infra", number)

    assert len(facts.files) == 121
    assert not facts.files_truncated
    moved = [f for f in facts.files if f.path == "infra/core/main.tf"]
    assert [(f.status, f.previous_path) for f in moved] == [
        ("renamed", "infra/main.tf")
    ]
    assert facts.author == "dev"
    assert facts.codeowners == "/infra/ @acme/platform\n/.github/ @acme/security\n"
    assert facts.head_sha == seeded_repo.head("grow")
    assert facts.head_tree is not None


def test_pull_reads_reviews_with_the_tree_they_saw(forge, seeded_repo):
    number = infra_pull(seeded_repo, files=3)
    seeded_repo.review(number, "pat", "APPROVE")
    seeded_repo.commit("grow", {"infra/extra.tf": "# more\n"}, login="dev")
    seeded_repo.review(number, "sam", "REQUEST_CHANGES", body="why?")

    facts = forge.pull("acme/infra", number)

    pat, sam = facts.reviews
    assert (pat.user, pat.state) == ("pat", "APPROVED")
    assert (sam.user, sam.state) == ("sam", "CHANGES_REQUESTED")
    assert pat.tree == facts.commits[0].tree
    assert sam.tree == facts.head_tree != pat.tree


def test_evaluating_a_pull_stays_within_the_call_budget(forge, seeded_repo, calls):
    changes = {f"infra/f{i}.tf": f"# {i}\n" for i in range(50)}
    number = seeded_repo.open_pull("budget", changes, title="Budget")
    for login in ("pat", "paula", "sam", "admin", "pat"):
        seeded_repo.review(number, login, "COMMENT", body="noted")
    forge.default_branch("acme/infra")
    calls.clear()

    facts = forge.pull("acme/infra", number)

    assert len(facts.files) == 50
    assert len(facts.reviews) == 5
    assert len(calls) <= 8


def test_team_members_and_permissions(forge, seeded_repo):
    assert forge.team_members("acme", "platform") == {"pat", "paula"}
    assert forge.permission("acme/infra", "dev") == "write"
    assert forge.permission("acme/infra", "admin") == "admin"
    assert forge.default_branch("acme/infra") == "main"
    assert forge.file_at("acme/infra", "main", "README.md").startswith("# infra")
    assert forge.file_at("acme/infra", "main", "nope.txt") is None


# --- the check run and the comment -------------------------------------------


def test_check_run_is_upserted_by_name_on_the_head(forge, simulator, seeded_repo):
    number = infra_pull(seeded_repo, files=2)
    head = forge.pull("acme/infra", number).head_sha

    forge.set_check_run("acme/infra", report(head, "failure", "needs platform"))
    fresh(forge, simulator).set_check_run(
        "acme/infra", report(head, "success", "all rules pass")
    )

    (run,) = simulator.check_runs("acme/infra", "changebot")
    assert run.head_sha == head
    assert run.conclusion == "success"
    assert run.output["summary"] == "all rules pass"
    assert len(run.annotations) == 120


def test_summary_comment_is_edited_in_place(forge, simulator, seeded_repo):
    number = infra_pull(seeded_repo, files=2)
    seeded_repo.call("dev", "POST", f"issues/{number}/comments", json={"body": "hi"})

    forge.upsert_comment("acme/infra", number, MARKER, f"{MARKER}\nfirst")
    fresh(forge, simulator).upsert_comment(
        "acme/infra", number, MARKER, f"{MARKER}\nsecond"
    )

    bodies = [c.body for c in simulator.comments("acme/infra", number)]
    assert bodies == ["hi", f"{MARKER}\nsecond"]


# --- merges -------------------------------------------------------------------


@pytest.mark.parametrize("method", ["merge", "squash", "rebase"])
def test_merged_pull_reports_each_merge_method(forge, seeded_repo, method):
    before = seeded_repo.head()
    since = datetime.now(UTC) - timedelta(minutes=1)
    number = seeded_repo.open_pull(f"m-{method}", {"infra/x.tf": f"# {method}\n"})
    seeded_repo.review(number, "pat", "APPROVE")

    merge_sha = seeded_repo.merge(number, method, login="pat")

    merged = forge.merged_pull("acme/infra", number)
    assert merged is not None
    assert (merged.merge_sha, merged.merged_by, merged.base_ref) == (
        merge_sha,
        "pat",
        "main",
    )
    assert [m.number for m in forge.merged_pulls("acme/infra", since)] == [number]
    assert number in forge.pulls_for_commit("acme/infra", merge_sha)
    comparison = forge.compare("acme/infra", before, merge_sha)
    assert comparison.status == "ahead"
    assert comparison.commits[-1] == merge_sha
    assert forge.pull("acme/infra", number).merged


def test_an_open_pull_is_not_merged(forge, seeded_repo):
    number = infra_pull(seeded_repo, files=1)

    assert forge.merged_pull("acme/infra", number) is None
    with pytest.raises(NotFound):
        forge.merged_pull("acme/infra", 999)


# --- the audit branch through the git data API -------------------------------


def test_concurrent_audit_appends_lose_and_duplicate_nothing(forge, seeded_repo):
    writers, each = 4, 4
    failures: list[BaseException] = []

    def append(writer: int) -> None:
        store = GitDataStore(forge, "acme/infra")
        try:
            for n in range(each):
                _append(store, f"w{writer}-{n}".encode())
        except BaseException as err:  # noqa: BLE001 - reported by the test
            failures.append(err)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    store = GitDataStore(forge, "acme/infra")
    head = store.head()
    assert head is not None
    contents = [data for _, data in store.walk(head, "entries")]
    expected = {f"w{w}-{n}".encode() for w in range(writers) for n in range(each)}
    assert sorted(contents) == sorted(expected)
    names = store.list(head, "entries")
    assert sorted(names, key=lambda n: int(n.removesuffix(".json"))) == [
        f"{i}.json" for i in range(writers * each)
    ]


def _append(store: GitDataStore, payload: bytes) -> None:
    """Append ``payload`` as the next entry, re-reading after a lost race."""
    while True:
        head = store.head()
        index = len(store.list(head, "entries")) if head else 0
        commit = store.write(head, {f"entries/{index}.json": payload}, "append")
        if store.advance(head, commit):
            return


# --- credentials ---------------------------------------------------------------


def test_a_bad_app_jwt_is_refused(simulator, seeded_repo):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = stranger.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    forge = GitHubForge(AppAuth(simulator.app["id"], pem, simulator.base_url))

    with pytest.raises(ForgeError) as caught:
        forge.default_branch("acme/infra")

    assert caught.value.status == 401
    assert "private key" in caught.value.hint


def test_an_expired_installation_token_is_refused_then_renewed(
    forge, simulator, seeded_repo
):
    simulator.set_token_ttl(0)
    expired = simulator.installation_token("acme")
    simulator.set_token_ttl(3600)
    refused = requests.get(
        f"{simulator.base_url}/repos/acme/infra",
        headers={"Authorization": f"token {expired}"},
        timeout=10,
    )
    assert refused.status_code == 401

    # The adapter believes the token good for an hour; GitHub says otherwise.
    installation = simulator.installation_id("acme")
    forge.auth.tokens.remember_installation("acme", installation)
    forge.auth.tokens.keep(installation, InstallationToken(expired, time.time() + 3600))

    assert forge.default_branch("acme/infra") == "main"

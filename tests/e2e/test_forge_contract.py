"""The forge adapter against the GitHub simulator, over real HTTP.

One scenario per capability the flows rely on: a PR touching an infra path
with its files across pages, reviews, the check run, the summary comment,
merges with every merge method, deployments, webhook deliveries, the audit
branch under concurrent writers, and refused credentials.

Every request the adapter sends is recorded, and after each test checked
against GitHub's published OpenAPI description: the operation exists, its
query parameters are declared, and its body validates against the schema.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from changebot.adapters.github import GitHubForge, RequesterSend
from changebot.adapters.githubauth import AppAuth, InstallationToken
from changebot.adapters.githubstore import GitDataStore
from changebot.errors import ForgeError, NotFound
from changebot.ports import CheckReport

pytestmark = pytest.mark.e2e

MARKER = "<!-- changebot:summary -->"


Sent = list[tuple[str, str, dict[str, Any], Any]]


class Recorder:
    """Sends like the adapter does, and remembers every request."""

    def __init__(self, base_url: str, sent: Sent) -> None:
        self._send = RequesterSend(base_url)
        self._sent = sent

    def __call__(
        self,
        method: str,
        target: str,
        query: dict[str, Any],
        headers: dict[str, str],
        body: Any,
    ) -> Any:
        self._sent.append((method, target, dict(query), body))
        return self._send(method, target, query, headers, body)


@pytest.fixture
def sent(openapi: Any) -> Any:
    """Collect the test's requests; check them against GitHub's description."""
    requests_sent: Sent = []
    yield requests_sent
    problems = [
        problem
        for method, target, query, body in requests_sent
        if (problem := _problem(openapi, method, target, query, body))
    ]
    assert requests_sent
    assert problems == []


def _problem(
    openapi: Any, method: str, target: str, query: dict[str, Any], body: Any
) -> str | None:
    try:
        operation = openapi.operation(method, target)
        if body is not None or (operation.spec.get("requestBody") or {}).get(
            "required"
        ):
            openapi.validate_request(method, target, body)
    except (KeyError, jsonschema.ValidationError) as err:
        return f"{method} {target}: {getattr(err, 'message', err)}"
    declared = _query_parameters(openapi, operation)
    unknown = sorted(set(query) - set(declared))
    if unknown:
        return f"{method} {operation.template}: undeclared query {unknown}"
    for name, value in query.items():
        schema = declared[name]
        if schema.get("type") == "integer":
            value = int(value)
        try:
            jsonschema.validate(value, schema)
        except jsonschema.ValidationError as err:
            return f"{method} {operation.template}: {name}={value}: {err.message}"
    return None


def _query_parameters(openapi: Any, operation: Any) -> dict[str, dict[str, Any]]:
    """Return the query parameters an operation declares, with their schemas."""
    found = {}
    for parameter in operation.spec.get("parameters", []):
        if "$ref" in parameter:
            name = parameter["$ref"].rsplit("/", 1)[-1]
            parameter = openapi.rest["components"]["parameters"][name]
        if parameter["in"] == "query":
            found[parameter["name"]] = parameter.get("schema", {})
    return found


@pytest.fixture
def calls() -> list[tuple[str, str, int, int | None]]:
    return []


@pytest.fixture
def adapter(simulator: Any, sent: Sent) -> Any:
    """Return a factory of adapters (each with empty caches, like a process)."""

    def make(on_response: Any = None, private_key: str | None = None) -> GitHubForge:
        app = simulator.app
        auth = AppAuth(app["id"], private_key or app["private_key"], simulator.base_url)
        send = Recorder(simulator.base_url, sent)
        return GitHubForge(auth, on_response=on_response, send=send)

    return make


@pytest.fixture
def forge(adapter: Any, calls: list[Any]) -> GitHubForge:
    return adapter(on_response=lambda *call: calls.append(call))


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


def test_check_run_is_upserted_by_name_on_the_head(
    forge, adapter, simulator, seeded_repo
):
    number = infra_pull(seeded_repo, files=2)
    head = forge.pull("acme/infra", number).head_sha

    forge.set_check_run("acme/infra", report(head, "failure", "needs platform"))
    adapter().set_check_run("acme/infra", report(head, "success", "all rules pass"))

    (run,) = simulator.check_runs("acme/infra", "changebot")
    assert run.head_sha == head
    assert run.conclusion == "success"
    assert run.output["summary"] == "all rules pass"
    assert len(run.annotations) == 120


def test_summary_comment_is_edited_in_place(forge, adapter, simulator, seeded_repo):
    number = infra_pull(seeded_repo, files=2)
    seeded_repo.call("dev", "POST", f"issues/{number}/comments", json={"body": "hi"})

    forge.upsert_comment("acme/infra", number, MARKER, f"{MARKER}\nfirst")
    adapter().upsert_comment("acme/infra", number, MARKER, f"{MARKER}\nsecond")

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


# --- deployments and webhook deliveries ---------------------------------------


def test_deployments_carry_their_latest_status(forge, seeded_repo):
    first = seeded_repo.call(
        None, "POST", "deployments", json={"ref": "main", "environment": "production"}
    )
    second = seeded_repo.call(
        None, "POST", "deployments", json={"ref": "main", "environment": "production"}
    )
    seeded_repo.call(
        None, "POST", "deployments", json={"ref": "main", "environment": "staging"}
    )

    forge.set_deployment_status("acme/infra", first["id"], "success", "deployed " * 40)
    forge.set_deployment_status(
        "acme/infra", second["id"], "in_progress", "rolling", "https://ci.example/1"
    )

    newest, oldest = forge.deployments("acme/infra", "production")
    assert (newest.id, newest.state) == (second["id"], "in_progress")
    assert (oldest.id, oldest.state) == (first["id"], "success")
    assert newest.sha == seeded_repo.head()
    statuses = seeded_repo.call(None, "GET", f"deployments/{first['id']}/statuses")
    assert len(statuses[0]["description"]) == 140


def test_failed_deliveries_are_listed_and_redelivered(forge, simulator, seeded_repo):
    since = datetime.now(UTC) - timedelta(minutes=1)
    received: list[str] = []
    simulator.set_webhook_sink(
        lambda headers, body: received.append(headers["X-GitHub-Event"]) or 200
    )
    simulator.drop_webhooks()
    infra_pull(seeded_repo, files=1)
    simulator.drop_webhooks(False)

    failed = forge.failed_deliveries(since)

    assert "pull_request" in {d.event for d in failed}
    assert all(not 200 <= d.status_code < 300 for d in failed)
    assert received == []
    for delivery in failed:
        forge.redeliver(delivery.id)
    assert forge.failed_deliveries(since) == []
    assert sorted(received) == sorted(d.event for d in failed)


# --- the audit branch through the git data API -------------------------------


def test_concurrent_audit_appends_lose_and_duplicate_nothing(forge, seeded_repo):
    writers, each = 3, 3
    failures: list[BaseException] = []

    def append(writer: int) -> None:
        store = GitDataStore(forge, "acme/infra")
        try:
            for n in range(each):
                _append(store, f"w{writer}-{n}".encode())
        except BaseException as err:  # reported by the assertion below
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


def test_a_bad_app_jwt_is_refused(adapter, seeded_repo):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = stranger.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    forge = adapter(private_key=pem)

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

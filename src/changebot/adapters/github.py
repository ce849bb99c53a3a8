"""GitHub's REST API through PyGithub (the only PyGithub import).

`GitHubForge` implements the `Forge` port. It sends one raw request per REST
operation through PyGithub's requester, under the policy of
`changebot.adapters.githubtransport`: PyGithub's objects would complete
themselves lazily with extra calls, and its built-in retry sleeps where
tests cannot see it.

Reading a PR costs three calls (the PR, one compare for its files and
commits, its reviews; two listings more for a PR of over 100 commits or 300
files) plus one to three for CODEOWNERS (`changebot.adapters.githubowners`;
usually one at a later base commit). Files at a commit SHA and compares
of two SHAs are cached, as are the ids of the check run and of the summary
comment, so a re-evaluation costs less.

See: https://docs.github.com/en/rest
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import requests
from github.Auth import Auth as PyGithubAuth
from github.Requester import Requester

from changebot.adapters import githubfacts as facts
from changebot.adapters.githubauth import DEFAULT_BASE_URL, AppAuth, TokenAuth
from changebot.adapters.githubcache import ShaCache
from changebot.adapters.githubfacts import split
from changebot.adapters.githubowners import LOCATIONS as CODEOWNERS_PATHS
from changebot.adapters.githubowners import CodeownersFinder, Found, Listing
from changebot.adapters.githubretry import RetryPolicy
from changebot.adapters.githubtransport import (
    Answer,
    Authorizer,
    Clock,
    NoAnswer,
    ResponseHook,
    Send,
    Sleep,
    Transport,
)
from changebot.errors import NotFound
from changebot.policy.facts import PullFacts
from changebot.ports import (
    CheckReport,
    Comparison,
    Delivery,
    DeploymentRecord,
    MergedPull,
    Permission,
)

__all__ = ["AppAuth", "GitHubForge", "RequesterSend", "TokenAuth"]

log = logging.getLogger(__name__)
# NOTE: PyGithub logs every response body at DEBUG, installation tokens
# included; changebot's transport logs its calls without them.
logging.getLogger("github.Requester").setLevel(logging.INFO)

# NOTE: PyGithub gives its logger a level and a stderr handler on import;
# changebot's entry points alone decide where log records go.
logging.getLogger("github").handlers.clear()
logging.getLogger("github").setLevel(logging.NOTSET)


class _Masked(PyGithubAuth):
    """Keeps the Authorization header changebot sets out of PyGithub's log."""

    @property
    def token_type(self) -> str:
        return "token"

    @property
    def token(self) -> str:
        return ""

    def authentication(self, headers: dict[str, Any]) -> None:
        """Leave the header set for each request as it is."""

    def mask_authentication(self, headers: dict[str, Any]) -> None:
        """Hide the credential when PyGithub logs a request."""
        if "Authorization" in headers:
            headers["Authorization"] = "(hidden)"


class RequesterSend:
    """Sends requests through PyGithub's requester, one per thread."""

    def __init__(self, base_url: str = DEFAULT_BASE_URL, timeout: int = 15) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout
        # NOTE: PyGithub's connection object holds the request being sent in
        # its attributes, so threads must not share a requester.
        self._local = threading.local()

    def __call__(
        self,
        method: str,
        target: str,
        query: dict[str, Any],
        headers: dict[str, str],
        body: Any,
    ) -> tuple[int, Mapping[str, Any], str]:
        """Send one request; raise NoAnswer on a timeout or a failed connection."""
        try:
            return self._requester().requestJson(method, target, query, headers, body)
        except (requests.Timeout, requests.ConnectionError) as err:
            raise NoAnswer(f"{type(err).__name__} from {self.base_url}") from err

    def _requester(self) -> Requester:
        requester: Requester | None = getattr(self._local, "requester", None)
        if requester is None:
            requester = Requester(
                auth=_Masked(),
                base_url=self.base_url,
                timeout=self._timeout,
                user_agent="changebot",
                per_page=100,
                verify=True,
                retry=None,
                pool_size=None,
                api_version="2022-11-28",
            )
            self._local.requester = requester
        return requester


CHECK_NAME = "changebot"
PAGE_SIZE = 100
PAGE = {"per_page": PAGE_SIZE}

_PULL = "/repos/{owner}/{repo}/pulls/{pull_number}"
_SHA = re.compile(r"[0-9a-f]{40}")


class GitHubForge:
    """What changebot reads from and writes to GitHub, over its REST API."""

    def __init__(
        self,
        auth: AppAuth | TokenAuth,
        *,
        on_response: ResponseHook | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
        policy: RetryPolicy | None = None,
        send: Send | None = None,
    ) -> None:
        self.auth = auth
        self.transport = Transport(
            send or RequesterSend(auth.base_url),
            policy=policy,
            sleep=sleep,
            clock=clock,
            on_response=on_response,
        )
        self._files: ShaCache[str | None] = ShaCache()
        self._check_runs: ShaCache[int] = ShaCache()
        self._comments: ShaCache[int] = ShaCache()
        self._compares: ShaCache[tuple[list[Any], list[Any]]] = ShaCache(256)
        self._owners = CodeownersFinder(_OwnersReads(self))

    @classmethod
    def for_app(
        cls,
        *,
        app_id: str | int,
        private_key: str,
        base_url: str = DEFAULT_BASE_URL,
        installation_id: int | None = None,
        on_response: ResponseHook | None = None,
    ) -> GitHubForge:
        """Return GitHub as a GitHub App's installations see it."""
        auth = AppAuth(app_id, private_key, base_url, installation_id=installation_id)
        return cls(auth, on_response=on_response)

    @classmethod
    def for_token(
        cls,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        on_response: ResponseHook | None = None,
    ) -> GitHubForge:
        """Return GitHub as a workflow token (or personal token) sees it."""
        return cls(TokenAuth(token, base_url), on_response=on_response)

    # --- plumbing -------------------------------------------------------------

    def call(
        self,
        repo: str,
        method: str,
        route: str,
        params: Mapping[str, str | int] | None = None,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Answer:
        """Send one request about ``repo`` with its installation's credential."""
        return self.transport.request(
            self._for(repo),
            method,
            route,
            _with_repo(repo, params),
            query=query,
            body=body,
        )

    def listing(
        self,
        repo: str,
        route: str,
        params: Mapping[str, str | int] | None = None,
        *,
        query: Mapping[str, Any] | None = None,
    ) -> Iterator[Any]:
        """Yield every item of a listing about ``repo``, page after page."""
        return self.transport.items(
            self._for(repo),
            route,
            _with_repo(repo, params),
            query={**PAGE, **(query or {})},
        )

    def _for(self, repo: str) -> Authorizer:
        return self.auth.for_repo(self.transport, repo)

    # --- reads ------------------------------------------------------------------

    def pull(self, repo: str, number: int) -> PullFacts:
        """Return the facts of a PR: files (all pages), commits, reviews, owners.

        ``memberships`` stays empty: the flow asks `team_members` for the
        teams its configuration names.
        """
        n = {"pull_number": number}
        pull = self.call(repo, "GET", _PULL, n).data
        files, commits = self._compared(repo, pull) or (
            list(self.listing(repo, _PULL + "/files", n)),
            list(self.listing(repo, _PULL + "/commits", n)),
        )
        reviews = list(self.listing(repo, _PULL + "/reviews", n))
        owners = self.codeowners(repo, pull["base"]["sha"])
        return facts.pull_facts(repo, pull, files, commits, reviews, owners)

    def _compared(self, repo: str, pull: Any) -> tuple[list[Any], list[Any]] | None:
        """Return a small PR's files and commits from one compare, or None.

        NOTE: the first page of a compare holds up to 100 commits and every
        changed file (300 at most): one call instead of two listings. The
        counts the PR itself gives must match, else the listings are read.
        """
        files_count, commits_count = pull.get("changed_files"), pull.get("commits")
        if not isinstance(files_count, int) or not isinstance(commits_count, int):
            return None
        if files_count >= facts.COMPARE_FILES_LIMIT or commits_count > PAGE_SIZE:
            return None
        basehead = f"{pull['base']['sha']}...{pull['head']['sha']}"
        key = (repo, basehead)
        found = self._compares.get(key)
        if found is not None:
            return found
        answer = self.call(
            repo,
            "GET",
            "/repos/{owner}/{repo}/compare/{basehead}",
            {"basehead": basehead},
            query=PAGE,
        ).data
        files, commits = answer.get("files") or [], answer.get("commits") or []
        if (len(files), len(commits)) == (files_count, commits_count):
            # NOTE: two SHAs always compare alike; patches are dropped to keep
            # the cache small, as the policy reads none.
            slim = [{k: v for k, v in f.items() if k != "patch"} for f in files]
            return self._compares.put(key, (slim, commits))
        log.info(
            "compare disagrees with the pull, listing instead",
            extra={"repo": repo, "pr": pull.get("number")},
        )
        return None

    def codeowners(self, repo: str, ref: str) -> str | None:
        """Return the CODEOWNERS text GitHub would use at ``ref``, or None."""
        if _SHA.fullmatch(ref):
            return self._owners.find(repo, ref)
        for path in CODEOWNERS_PATHS:
            text = self.file_at(repo, ref, path)
            if text is not None:
                return text
        return None

    def file_at(self, repo: str, ref: str, path: str) -> str | None:
        """Return a text file's content at ``ref``, or None when absent."""
        key = (repo, ref, path)
        found, text = self._files.lookup(key)
        if found:
            return text
        text = self._fetch_file(repo, ref, path)
        if _SHA.fullmatch(ref):
            self._files.put(key, text)
        return text

    def _fetch_file(self, repo: str, ref: str, path: str) -> str | None:
        try:
            answer = self.call(
                repo,
                "GET",
                "/repos/{owner}/{repo}/contents/{path}",
                {"path": path},
                query={"ref": ref},
            )
        except NotFound:
            return None
        raw = self.content(repo, answer.data)
        return None if raw is None else raw.decode("utf-8", errors="replace")

    def content(self, repo: str, item: Any) -> bytes | None:
        """Return the bytes of a contents answer; None when it is no file."""
        if not isinstance(item, dict) or item.get("type") != "file":
            return None
        if item.get("encoding") == "base64":
            return base64.b64decode(item.get("content") or "")
        # NOTE: files over 1 MB come without content; the blob has it.
        blob = self.call(
            repo,
            "GET",
            "/repos/{owner}/{repo}/git/blobs/{file_sha}",
            {"file_sha": item["sha"]},
        )
        return base64.b64decode(blob.data["content"])

    def team_members(self, org: str, team: str) -> frozenset[str]:
        """Return the logins of a team's members (lower-case)."""
        members = self.transport.items(
            self.auth.for_org(self.transport, org),
            "/orgs/{org}/teams/{team_slug}/members",
            {"org": org, "team_slug": team},
            query=PAGE,
        )
        return frozenset(m["login"].lower() for m in members)

    def permission(self, repo: str, login: str) -> Permission:
        """Return a user's permission on a repository ("none" if unknown)."""
        try:
            answer = self.call(
                repo,
                "GET",
                "/repos/{owner}/{repo}/collaborators/{username}/permission",
                {"username": login},
            )
        except NotFound:
            return "none"
        return facts.permission(answer.data)

    def default_branch(self, repo: str) -> str:
        """Return the repository's default branch name."""
        return str(
            self.call(repo, "GET", "/repos/{owner}/{repo}").data["default_branch"]
        )

    # --- the check run and the comment ---------------------------------------

    def set_check_run(
        self,
        repo: str,
        report: CheckReport,
        run_id: int | None = None,
        *,
        fresh: bool = False,
    ) -> int:
        """Create or update the `changebot` check run on ``report.head_sha``.

        ``run_id`` names the run when the caller knows it; ``fresh`` says
        the caller knows changebot made none on this SHA yet, so it is
        created without a lookup. Otherwise the run is looked up first, as
        GitHub would keep a second run of the same name beside the first.
        Return the run's id. GitHub takes 50 annotations per request: the
        rest follow in updates.
        """
        batches = facts.batches(report.annotations, facts.ANNOTATIONS_PER_REQUEST)
        first, rest = (batches[0], batches[1:]) if batches else ((), [])
        body = _check_body(report, first)
        run_id = self._write_check_run(repo, report, body, run_id, fresh)
        for batch in rest:
            self._update_check_run(repo, run_id, {"output": _output(report, batch)})
        return run_id

    def _write_check_run(
        self,
        repo: str,
        report: CheckReport,
        body: dict[str, Any],
        run_id: int | None,
        fresh: bool,
    ) -> int:
        key = (repo, report.head_sha)
        run_id = run_id or self._check_runs.get(key)
        if run_id is None and not fresh:
            run_id = self._find_check_run(repo, report)
        if run_id is not None:
            try:
                self._update_check_run(repo, run_id, body)
                return self._check_runs.put(key, run_id)
            except NotFound:
                log.info("check run vanished", extra={"repo": repo, "id": run_id})
        created = self.call(
            repo,
            "POST",
            "/repos/{owner}/{repo}/check-runs",
            body={"name": CHECK_NAME, "head_sha": report.head_sha, **body},
        )
        return self._check_runs.put(key, int(created.data["id"]))

    def _find_check_run(self, repo: str, report: CheckReport) -> int | None:
        query: dict[str, Any] = {"check_name": CHECK_NAME, "filter": "latest"}
        if isinstance(self.auth, AppAuth):
            query["app_id"] = self.auth.app_id
        answer = self.call(
            repo,
            "GET",
            "/repos/{owner}/{repo}/commits/{ref}/check-runs",
            {"ref": report.head_sha},
            query=query,
        )
        runs = answer.data.get("check_runs") or []
        return int(runs[0]["id"]) if runs else None

    def _update_check_run(self, repo: str, run_id: int, body: dict[str, Any]) -> int:
        self.call(
            repo,
            "PATCH",
            "/repos/{owner}/{repo}/check-runs/{check_run_id}",
            {"check_run_id": run_id},
            body=body,
        )
        return run_id

    def upsert_comment(self, repo: str, number: int, marker: str, body: str) -> None:
        """Create, or update in place, the one comment carrying ``marker``."""
        text = _marked(body, marker)
        key = (repo, number, marker)
        comment_id = self._comments.get(key) or self._find_comment(repo, number, marker)
        if comment_id is not None:
            try:
                self._edit_comment(repo, comment_id, text)
                self._comments.put(key, comment_id)
                return
            except NotFound:
                log.info("comment vanished", extra={"repo": repo, "pr": number})
        created = self._post_comment(repo, number, text)
        self._comments.put(key, created)

    def reply(self, repo: str, number: int, body: str) -> None:
        """Post a new comment on a PR or issue."""
        self._post_comment(repo, number, facts.cut(body, facts.COMMENT_LIMIT))

    def _find_comment(self, repo: str, number: int, marker: str) -> int | None:
        comments = self.listing(
            repo,
            "/repos/{owner}/{repo}/issues/{issue_number}/comments",
            {"issue_number": number},
        )
        for comment in comments:
            if marker in (comment.get("body") or "") and _by_a_bot(comment):
                return int(comment["id"])
        return None

    def _edit_comment(self, repo: str, comment_id: int, text: str) -> None:
        self.call(
            repo,
            "PATCH",
            "/repos/{owner}/{repo}/issues/comments/{comment_id}",
            {"comment_id": comment_id},
            body={"body": text},
        )

    def _post_comment(self, repo: str, number: int, text: str) -> int:
        answer = self.call(
            repo,
            "POST",
            "/repos/{owner}/{repo}/issues/{issue_number}/comments",
            {"issue_number": number},
            body={"body": text},
        )
        return int(answer.data["id"])

    # --- merges, commits, deployments ----------------------------------------

    def merged_pulls(self, repo: str, since: datetime) -> list[MergedPull]:
        """Return PRs merged since ``since``, oldest first (all pages).

        NOTE: GitHub's listing carries no `merged_by`; it is None here, and
        `merged_pull` tells it for one PR.
        """
        merged: list[MergedPull] = []
        closed = self.listing(
            repo,
            "/repos/{owner}/{repo}/pulls",
            query={"state": "closed", "sort": "updated", "direction": "desc"},
        )
        for item in closed:
            updated = facts.timestamp(item.get("updated_at"))
            if updated is not None and updated < since:
                break
            found = facts.merged_pull(item)
            if found is not None and found.merged_at >= since:
                merged.append(found)
        return sorted(merged, key=lambda m: m.merged_at)

    def merged_pull(self, repo: str, number: int) -> MergedPull | None:
        """Return how a PR was merged, or None if it is not merged."""
        return facts.merged_pull(
            self.call(repo, "GET", _PULL, {"pull_number": number}).data
        )

    def pulls_for_commit(self, repo: str, sha: str) -> list[int]:
        """Return the merged PRs that contain ``sha`` (for direct-push checks)."""
        pulls = self.listing(
            repo,
            "/repos/{owner}/{repo}/commits/{commit_sha}/pulls",
            {"commit_sha": sha},
        )
        return [p["number"] for p in pulls if p.get("merged_at")]

    def compare(self, repo: str, base: str, head: str) -> Comparison:
        """Compare two commits, following every page of commits."""
        pages = self.transport.pages(
            self._for(repo),
            "/repos/{owner}/{repo}/compare/{basehead}",
            _with_repo(repo, {"basehead": f"{base}...{head}"}),
            query=PAGE,
        )
        first = next(pages)
        commits = [*first.data.get("commits", [])]
        for page in pages:
            commits.extend(page.data.get("commits", []))
        return facts.comparison(first.data, commits)

    def deployments(
        self, repo: str, environment: str, limit: int = 10
    ) -> list[DeploymentRecord]:
        """Return an environment's latest ``limit`` deployments, newest first."""
        answer = self.call(
            repo,
            "GET",
            "/repos/{owner}/{repo}/deployments",
            query={"environment": environment, "per_page": min(limit, 100)},
        )
        return [facts.deployment(d, self._state(repo, d["id"])) for d in answer.data]

    def _state(self, repo: str, deployment_id: int) -> str | None:
        answer = self.call(
            repo,
            "GET",
            "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
            {"deployment_id": deployment_id},
            query={"per_page": 1},
        )
        return answer.data[0]["state"] if answer.data else None

    def set_deployment_status(
        self,
        repo: str,
        deployment_id: int,
        state: str,
        description: str,
        log_url: str | None = None,
    ) -> None:
        """Add a status to a deployment (description cut to 140 characters)."""
        body = {
            "state": state,
            "description": facts.cut(description, facts.DEPLOYMENT_DESCRIPTION_LIMIT),
        }
        if log_url:
            body["log_url"] = log_url
        self.call(
            repo,
            "POST",
            "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
            {"deployment_id": deployment_id},
            body=body,
        )

    def review_deployment_gate(
        self, repo: str, run_id: int, environment: str, approved: bool, comment: str
    ) -> None:
        """Approve or reject a deployment waiting on changebot's protection rule."""
        self.call(
            repo,
            "POST",
            "/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule",
            {"run_id": run_id},
            body={
                "environment_name": environment,
                "state": "approved" if approved else "rejected",
                "comment": comment,
            },
        )

    # --- webhook deliveries ---------------------------------------------------

    def failed_deliveries(self, since: datetime) -> list[Delivery]:
        """Return App webhook deliveries since ``since`` that did not succeed.

        A delivery whose GUID later went through (a redelivery) is left out;
        of the failed ones the latest attempt is returned, oldest first.
        """
        failed: dict[str, Delivery] = {}
        done: set[str] = set()
        listing = self.transport.items(
            self.auth.for_app(self.transport), "/app/hook/deliveries", query=PAGE
        )
        for item in listing:
            delivery = facts.delivery(item)
            if delivery.delivered_at < since:
                break
            if facts.succeeded(delivery):
                done.add(delivery.guid)
            else:
                failed.setdefault(delivery.guid, delivery)
        kept = [d for guid, d in failed.items() if guid not in done]
        return sorted(kept, key=lambda d: d.delivered_at)

    # --- installations ---------------------------------------------------------

    def installed_repos(self) -> list[str]:
        """Return the repositories of every installation of the App (all pages).

        A token that is not the App's (the Action's) lists nothing.
        """
        if not isinstance(self.auth, AppAuth):
            return []
        app = self.auth.for_app(self.transport)
        repos: list[str] = []
        for item in self.transport.items(app, "/app/installations", query=PAGE):
            account = str(item["account"]["login"])
            self.auth.tokens.remember_installation(account, int(item["id"]))
            listing = self.transport.items(
                self.auth.for_org(self.transport, account),
                "/installation/repositories",
                query=PAGE,
                key="repositories",
            )
            repos += [str(repo["full_name"]) for repo in listing]
        return sorted(set(repos))

    def redeliver(self, delivery_id: int) -> None:
        """Ask GitHub to deliver a webhook again."""
        self.transport.request(
            self.auth.for_app(self.transport),
            "POST",
            "/app/hook/deliveries/{delivery_id}/attempts",
            {"delivery_id": delivery_id},
        )


class _OwnersReads:
    """The reads `CodeownersFinder` makes, over GitHub's contents and git APIs."""

    def __init__(self, forge: GitHubForge) -> None:
        self._forge = forge

    def probe(self, repo: str, commit: str, path: str) -> Found | None:
        """Return a file's blob SHA and text at ``commit``, or None."""
        try:
            answer = self._forge.call(
                repo,
                "GET",
                "/repos/{owner}/{repo}/contents/{path}",
                {"path": path},
                query={"ref": commit},
            )
        except NotFound:
            return None
        raw = self._forge.content(repo, answer.data)
        if raw is None:
            return None
        return str(answer.data["sha"]), raw.decode("utf-8", errors="replace")

    def root(self, repo: str, commit: str) -> Listing:
        """Return the entries of ``commit``'s root tree by name."""
        answer = self._forge.call(
            repo,
            "GET",
            "/repos/{owner}/{repo}/git/trees/{tree_sha}",
            {"tree_sha": commit},
        )
        entries = answer.data.get("tree") or []
        return {e["path"]: (str(e["type"]), str(e["sha"])) for e in entries}

    def blob_text(self, repo: str, blob: str) -> str:
        """Return a blob's text."""
        answer = self._forge.call(
            repo,
            "GET",
            "/repos/{owner}/{repo}/git/blobs/{file_sha}",
            {"file_sha": blob},
        )
        raw = base64.b64decode(answer.data["content"])
        return raw.decode("utf-8", errors="replace")


def _with_repo(
    repo: str, params: Mapping[str, str | int] | None
) -> dict[str, str | int]:
    owner, name = split(repo)
    return {"owner": owner, "repo": name, **(params or {})}


def _check_body(report: CheckReport, annotations: tuple[Any, ...]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": report.status,
        "output": _output(report, annotations),
    }
    if report.conclusion is not None:
        body["conclusion"] = report.conclusion
    if report.details_url:
        body["details_url"] = report.details_url
    return body


def _output(report: CheckReport, annotations: tuple[Any, ...]) -> dict[str, Any]:
    return facts.check_output(report.title, report.summary, report.text, annotations)


def _marked(body: str, marker: str) -> str:
    """Return ``body`` within GitHub's limit, the marker kept in it."""
    if marker not in body:
        body = f"{marker}\n{body}"
    text = facts.cut(body, facts.COMMENT_LIMIT)
    if marker in text:
        return text
    return facts.cut(f"{marker}\n{body.replace(marker, '')}", facts.COMMENT_LIMIT)


def _by_a_bot(comment: Mapping[str, Any]) -> bool:
    """Tell whether a comment was written by a bot, as changebot's own are.

    NOTE: people cannot post as a bot, so a marker planted in a person's
    comment never makes changebot overwrite that comment.
    """
    user = comment.get("user") or {}
    return bool(user.get("type") == "Bot")

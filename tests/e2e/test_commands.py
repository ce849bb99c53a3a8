"""`/changebot` comment commands, end to end: simulator, real adapter, real log.

Comments are posted to the GitHub simulator as people; the `issue_comment`
(and `pull_request`) webhooks it sends are routed through the App's router,
with the PyGithub adapter, an audit branch kept on the simulated repository
and signed with a real key, and notes kept in a real SQLite ledger.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from changebot.adapters.github import GitHubForge
from changebot.adapters.githubstore import GitDataStore
from changebot.adapters.queue import SqliteLedger
from changebot.audit import AuditLog, SigningKey, verify_receipt
from changebot.cli import main
from changebot.flows.commands import reply_marker
from changebot.flows.context import Context
from changebot.flows.notes import Notes
from changebot.flows.router import route
from changebot.ports import Notice

pytestmark = pytest.mark.e2e

POLICY = (
    "areas:\n"
    "  terraform:\n"
    '    paths: ["infra/**/*.tf"]\n'
    "    reviewers: {count: 1, teams: [platform]}\n"
    "rationale:\n"
    "  sections: [Why, Risk, Rollback plan]\n"
    "overrides:\n"
    '  allowed: ["team:acme/sre-leads"]\n'
    "  min_words: 5\n"
)
RATIONALE = (
    "## Why\nThe demo resource must be replaced before the audit.\n"
    "## Risk\nLow: nothing depends on it.\n"
    "## Rollback plan\nRevert this PR."
)
REASON = "production is down and INC-42 needs this hotfix right now"


class Recorder:
    """A notifier that keeps what it was asked to send, by key."""

    def __init__(self) -> None:
        self.sent: dict[str, Notice] = {}
        self.calls = 0

    def send(self, notice: Notice) -> None:
        self.calls += 1
        self.sent[notice.key] = notice


class App:
    """The App as the worker runs it: deliveries routed to the flows."""

    EVENTS = ("issue_comment", "pull_request", "pull_request_review")

    def __init__(self, ctx: Context, repo: Any, key: SigningKey) -> None:
        self.ctx, self.repo, self.key = ctx, repo, key
        self.simulator = repo.simulator
        self.routed: set[int] = set()

    def pump(self) -> None:
        """Route every delivery not routed yet, oldest first, until none is left."""
        while True:
            waiting = [
                d
                for d in self.simulator.deliveries()
                if d.id not in self.routed and d.event in self.EVENTS
            ]
            if not waiting:
                return
            for delivery in waiting:
                self.routed.add(delivery.id)
                route(self.ctx, delivery.event, delivery.guid, delivery.payload)

    def say(self, number: int, login: str, body: str) -> int:
        """Comment on a PR as ``login``, let the App react; return the comment id."""
        self.pump()
        posted = self.repo.call(
            login, "POST", f"issues/{number}/comments", json={"body": body}
        )
        self.pump()
        return int(posted["id"])

    def replies(self, number: int) -> list[str]:
        """Return the bodies of changebot's comments on a PR."""
        return [
            c.body
            for c in self.simulator.comments(self.repo.full_name, number)
            if c.user.endswith("[bot]")
        ]

    def reply_to(self, number: int, comment_id: int) -> str:
        """Return changebot's reply to one comment; fail if there is none."""
        found = [b for b in self.replies(number) if reply_marker(comment_id) in b]
        assert len(found) == 1, self.replies(number)
        return found[0]

    def check(self, number: int) -> Any:
        """Return the latest `changebot` check run on the PR's head."""
        head = self.simulator.pull(self.repo.full_name, number).head_sha
        runs = [
            r
            for r in self.simulator.check_runs(self.repo.full_name, "changebot")
            if r.head_sha == head
        ]
        assert runs, "no changebot check run on the head"
        return runs[-1]

    def log(self) -> AuditLog:
        """Return the audit log of the repository, as the flows write it."""
        return self.ctx.audit(
            self.repo.full_name, self.ctx.policy(self.repo.full_name, "main")
        )

    def entries(self, kind: str) -> list[dict[str, Any]]:
        """Return the audit entries of ``kind``."""
        return [e for e in self.log().entries() if e["kind"] == kind]


@pytest.fixture
def app(seeded_repo: Any, simulator: Any, tmp_path: Path) -> App:
    creds = simulator.app
    forge = GitHubForge.for_app(
        app_id=creds["id"],
        private_key=creds["private_key"],
        base_url=simulator.base_url,
    )
    key = SigningKey.generate()
    ctx = Context(
        forge=forge,
        notifier=Recorder(),
        open_store=lambda repo, branch, central: GitDataStore(
            forge, central or repo, branch
        ),
        open_log=lambda store: AuditLog(store, key),
        notes=Notes(SqliteLedger(tmp_path / "queue.sqlite3")),
    )
    admin = seeded_repo.client()
    assert admin.post("/orgs/acme/teams", json={"name": "sre-leads"}).ok
    assert admin.put("/orgs/acme/teams/sre-leads/memberships/lee", json={}).ok
    assert admin.put(
        "/orgs/acme/teams/sre-leads/repos/acme/infra", json={"permission": "push"}
    ).ok
    seeded_repo.commit("main", {".changebot.yml": POLICY}, message="Set the policy")
    return App(ctx, seeded_repo, key)


def open_infra_pull(app: App, body: str = "", branch: str = "demo") -> int:
    number = app.repo.open_pull(
        branch,
        {"infra/main.tf": 'resource "null_resource" "demo2" {}\n'},
        title="Replace the demo resource",
        body=body,
    )
    app.pump()
    return int(number)


def notices(app: App) -> dict[str, Notice]:
    recorder = app.ctx.notifier
    assert isinstance(recorder, Recorder)
    return recorder.sent


# --- help, status, recheck, unknown verbs ----------------------------------------


def test_help_lists_only_the_verbs_this_person_may_run(app: App) -> None:
    number = open_infra_pull(app)

    writer = app.reply_to(number, app.say(number, "dev", "/changebot help"))
    lead = app.reply_to(number, app.say(number, "lee", "/changebot help"))
    reader = app.reply_to(number, app.say(number, "outsider", "/changebot help"))

    for verb in ("help", "status", "recheck", "rationale", "receipt", "verify"):
        assert f"/changebot {verb}" in writer
    assert "/changebot override" not in writer
    assert "/changebot override <reason>" in lead
    assert "/changebot status" in reader
    assert "/changebot recheck" not in reader
    assert "/changebot rationale" not in reader


def test_status_replies_with_what_is_missing_and_who_can_provide_it(
    app: App,
) -> None:
    number = open_infra_pull(app)

    reply = app.reply_to(number, app.say(number, "dev", "/changebot status"))

    check = app.check(number)
    assert check.conclusion == "failure"
    assert check.output["title"] in reply
    assert "platform" in reply  # who can approve the terraform area


def test_recheck_updates_the_check_run_and_says_nothing(app: App) -> None:
    number = open_infra_pull(app)
    assert app.check(number).conclusion == "failure"
    app.repo.call(None, "PATCH", f"pulls/{number}", json={"body": RATIONALE})
    app.repo.review(number, "pat")
    # NOTE: the webhooks of the edit and the review are lost on purpose:
    # only the recheck can notice that the PR now passes.
    app.routed.update(d.id for d in app.simulator.deliveries())
    assert app.check(number).conclusion == "failure"

    comment_id = app.say(number, "dev", "/changebot recheck")

    assert app.check(number).conclusion == "success"
    assert not [r for r in app.replies(number) if reply_marker(comment_id) in r]


def test_a_reader_may_not_recheck_and_is_told_why(app: App) -> None:
    number = open_infra_pull(app)

    reply = app.reply_to(number, app.say(number, "outsider", "/changebot recheck"))

    assert "refused" in reply
    assert "write" in reply and "read" in reply


def test_unknown_verbs_and_bad_arguments_get_the_usage(app: App) -> None:
    number = open_infra_pull(app)

    unknown = app.reply_to(number, app.say(number, "dev", "/changebot deploy prod"))
    extra = app.reply_to(number, app.say(number, "dev", "/changebot status please"))
    empty = app.reply_to(number, app.say(number, "dev", "/changebot rationale"))

    assert "deploy" in unknown and "/changebot override <reason>" in unknown
    assert "takes nothing" in extra and "/changebot help" in extra
    assert "needs text" in empty
    assert app.ctx.notes is not None
    assert app.ctx.notes.rationale(app.repo.full_name, number) is None


# --- rationale ---------------------------------------------------------------------


def test_a_rationale_given_by_command_satisfies_the_policy(app: App) -> None:
    number = open_infra_pull(app)
    app.repo.review(number, "pat")
    app.pump()
    assert app.check(number).conclusion == "failure"

    reply = app.reply_to(
        number, app.say(number, "dev", f"/changebot rationale\n{RATIONALE}")
    )

    assert app.check(number).conclusion == "success"
    assert "Rationale recorded" in reply
    app.repo.merge(number)
    app.pump()
    [change] = app.entries("change")
    assert "Revert this PR." in change["rationale"]
    assert change["verdict"]["conclusion"] == "success"
    assert change["bypassed"] is False


def test_only_the_author_or_a_writer_may_give_the_rationale(app: App) -> None:
    number = open_infra_pull(app)

    reply = app.reply_to(
        number, app.say(number, "outsider", f"/changebot rationale\n{RATIONALE}")
    )

    assert "refused" in reply and "author" in reply
    assert app.ctx.notes is not None
    assert app.ctx.notes.rationale(app.repo.full_name, number) is None


def test_text_quoted_back_cannot_mention_link_or_inject_markdown(app: App) -> None:
    number = open_infra_pull(app)
    hostile = (
        "/changebot rationale @acme/security look [here](https://evil.example/x) "
        "<img src=x onerror=alert(1)> **now**\n</details>\n# Approved"
    )

    reply = app.reply_to(number, app.say(number, "dev", hostile))

    assert "@acme/security" not in reply
    assert "](https://evil.example/x)" not in reply
    assert "<img" not in reply
    assert "</details>" not in reply
    assert "\n# Approved" not in reply


# --- override ----------------------------------------------------------------------


def test_an_override_passes_the_check_for_the_head_and_is_recorded(app: App) -> None:
    number = open_infra_pull(app)
    head = app.simulator.pull(app.repo.full_name, number).head_sha

    reply = app.reply_to(
        number, app.say(number, "lee", f"/changebot override {REASON}")
    )

    check = app.check(number)
    assert check.conclusion == "success"
    assert check.output["title"] == "Overridden by lee"
    [entry] = app.entries("override")
    assert entry["granted"] is True and entry["refusal"] is None
    assert entry["actor"] == "lee" and entry["reason"] == REASON
    assert entry["pr"] == {"number": number, "head_sha": head}
    assert f"#{entry['index']}" in reply and head[:12] in reply
    [notice] = notices(app).values()
    assert notice.kind == "override" and REASON in notice.text


def test_the_merge_entry_links_the_override_it_was_merged_under(app: App) -> None:
    number = open_infra_pull(app)
    app.say(number, "lee", f"/changebot override {REASON}")

    app.repo.merge(number)
    app.pump()

    [override] = app.entries("override")
    [change] = app.entries("change")
    assert change["override"] == override["index"]
    assert change["bypassed"] is False


def test_a_new_push_voids_the_override(app: App) -> None:
    number = open_infra_pull(app)
    app.say(number, "lee", f"/changebot override {REASON}")
    assert app.check(number).conclusion == "success"

    app.repo.commit("demo", {"infra/extra.tf": "# more\n"}, login="dev")
    app.pump()

    assert app.check(number).conclusion == "failure"
    assert "Overridden" not in json.dumps(app.check(number).output)


def test_an_override_by_someone_without_the_role_is_refused_and_recorded(
    app: App,
) -> None:
    number = open_infra_pull(app)

    reply = app.reply_to(
        number, app.say(number, "dev", f"/changebot override {REASON}")
    )

    assert "refused" in reply and "team:acme/sre-leads" in reply
    assert app.check(number).conclusion == "failure"
    [entry] = app.entries("override")
    assert entry["granted"] is False and entry["actor"] == "dev"
    assert "sre-leads" in entry["refusal"]
    assert f"entry **#{entry['index']}**" in reply
    [notice] = notices(app).values()
    assert notice.kind == "refusal"


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ("/changebot override", "needs a reason"),
        ("/changebot override fix it", "5 words"),
    ],
)
def test_an_override_without_a_substantive_reason_is_refused(
    app: App, command: str, why: str
) -> None:
    number = open_infra_pull(app)

    reply = app.reply_to(number, app.say(number, "lee", command))

    assert why in reply
    assert app.check(number).conclusion == "failure"
    [entry] = app.entries("override")
    assert entry["granted"] is False and why in entry["refusal"]


# --- receipt and verify ------------------------------------------------------------


def test_receipt_of_a_merged_pull_verifies_offline(app: App, tmp_path: Path) -> None:
    number = open_infra_pull(app, body=RATIONALE)
    app.repo.review(number, "pat")
    app.repo.merge(number)
    app.pump()

    reply = app.reply_to(number, app.say(number, "outsider", "/changebot receipt"))

    found = re.search(r"(`{3,})json\n(.*?)\n\1", reply, re.S)
    assert found, reply
    receipt = json.loads(found.group(2))
    [change] = app.entries("change")
    assert receipt["index"] == change["index"]
    assert verify_receipt(receipt, [app.key.public]) == []
    (tmp_path / "receipt.json").write_text(found.group(2))
    (tmp_path / "key.pub").write_bytes(app.key.public.pem())
    result = CliRunner().invoke(
        main,
        [
            "audit",
            "verify-receipt",
            str(tmp_path / "receipt.json"),
            "--trusted-key",
            str(tmp_path / "key.pub"),
        ],
    )
    assert result.exit_code == 0, result.output


def test_receipt_of_an_open_pull_is_refused(app: App) -> None:
    number = open_infra_pull(app)

    reply = app.reply_to(number, app.say(number, "dev", "/changebot receipt"))

    assert "not merged" in reply


def test_verify_replies_with_the_summary_line(app: App) -> None:
    number = open_infra_pull(app)
    app.say(number, "lee", f"/changebot override {REASON}")

    reply = app.reply_to(number, app.say(number, "outsider", "/changebot verify"))

    assert "intact: entries 0..0 (1 entries)" in reply


# --- what runs no command ----------------------------------------------------------


def test_an_edited_comment_runs_nothing(app: App) -> None:
    number = open_infra_pull(app)
    comment_id = app.say(number, "lee", "looks fine")

    app.repo.call(
        "lee",
        "PATCH",
        f"issues/comments/{comment_id}",
        json={"body": f"/changebot override {REASON}"},
    )
    app.pump()

    assert app.entries("override") == []
    assert not [r for r in app.replies(number) if reply_marker(comment_id) in r]


def test_a_quoted_command_runs_nothing(app: App) -> None:
    number = open_infra_pull(app)

    comment_id = app.say(
        number, "lee", f"> /changebot override {REASON}\n\nWe will not do that."
    )

    assert app.entries("override") == []
    assert not [r for r in app.replies(number) if reply_marker(comment_id) in r]


def test_a_bot_runs_nothing_not_even_changebot(app: App) -> None:
    number = open_infra_pull(app)
    comment_id = app.say(number, "dev", "/changebot help")
    [bot_reply] = [
        d
        for d in app.simulator.deliveries("issue_comment")
        if reply_marker(comment_id) in d.payload["comment"]["body"]
    ]
    payload = bot_reply.payload
    assert payload["comment"]["user"]["type"] == "Bot"
    payload["comment"]["body"] = "/changebot help\n/changebot override " + REASON
    before = len(app.replies(number))

    route(app.ctx, "issue_comment", "bot-delivery", payload)

    assert len(app.replies(number)) == before
    assert app.entries("override") == []


def test_a_comment_on_an_issue_that_is_not_a_pull_runs_nothing(app: App) -> None:
    number = open_infra_pull(app)
    app.say(number, "dev", "hello")
    delivery = app.simulator.deliveries("issue_comment")[-1]
    payload = delivery.payload
    del payload["issue"]["pull_request"]
    payload["comment"]["body"] = "/changebot help"
    before = len(app.replies(number))

    route(app.ctx, "issue_comment", "issue-delivery", payload)

    assert len(app.replies(number)) == before


def test_a_retried_delivery_replies_and_records_once(app: App) -> None:
    number = open_infra_pull(app)
    comment_id = app.say(
        number, "dev", f"/changebot override {REASON}\n/changebot help"
    )
    delivery = [
        d
        for d in app.simulator.deliveries("issue_comment")
        if d.payload["comment"]["id"] == comment_id
    ][0]
    recorder = app.ctx.notifier
    assert isinstance(recorder, Recorder)

    route(app.ctx, "issue_comment", delivery.guid, delivery.payload)

    reply = app.reply_to(number, comment_id)
    assert reply.index("refused") < reply.index("/changebot help")
    assert len(app.entries("override")) == 1
    assert len(notices(app)) == 1

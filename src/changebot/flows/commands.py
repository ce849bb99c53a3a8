"""run_command: answer `/changebot` commands in a PR, with permissions and a trail.

1. Ignore comments that may not run commands: edits, bots (changebot too),
   and issues that are not pull requests.
2. Run the comment's commands in the order written. Each first checks,
   through GitHub, that its writer may run it here; a refusal is answered,
   logged, and for an override also appended to the audit log and announced.
3. Answer them all in one reply that carries the comment's marker, so that
   a retried job edits its reply instead of posting another.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from changebot import metrics
from changebot.audit import verify
from changebot.audit.log import Appended, AuditLog
from changebot.commands import (
    VERBS,
    Asker,
    Command,
    CommandComment,
    allows,
    misuse,
    parse,
    principals,
    read_comment,
    word_count,
)
from changebot.errors import PermissionDenied
from changebot.flows.context import Context
from changebot.flows.merge import change_key
from changebot.flows.notes import GivenRationale, GrantedOverride, Notes
from changebot.flows.pull import Judgement, evaluate_pull
from changebot.policy.config import Config
from changebot.policy.facts import PullFacts
from changebot.ports import Notice
from changebot.render import render

log = logging.getLogger(__name__)

#: Findings listed in a `verify` reply; the rest are counted.
MAX_FINDINGS = 30
#: Verbs whose every refusal is an audit entry: they check permissions themselves.
SELF_CHECKED = frozenset({"override"})


def reply_marker(comment_id: int) -> str:
    """Return the hidden marker of changebot's reply to one comment."""
    return f"<!-- changebot:command:{comment_id} -->"


class Refused(PermissionDenied):
    """A command its writer may not run, or not now; ``str()`` says why."""

    def __init__(self, reason: str, *, entry: int | None = None) -> None:
        super().__init__(reason)
        #: The audit entry that records the refusal, when there is one.
        self.entry = entry


@dataclass(frozen=True)
class Answer:
    """What changebot says back about one command (None text: nothing)."""

    command: Command
    text: str | None
    refused: bool = False


def on_comment(ctx: Context, payload: Mapping[str, Any]) -> list[Answer]:
    """Run the commands of an `issue_comment` delivery and reply to them."""
    comment = read_comment(payload)
    if isinstance(comment, str):
        log.debug("comment runs no command", extra={"why": comment})
        return []
    return run_comment(ctx, comment)


def run_comment(ctx: Context, comment: CommandComment) -> list[Answer]:
    """Run every command of ``comment`` in order, then reply once."""
    turn = Turn(ctx, comment)
    answers = [run_command(turn, command) for command in parse(comment.body)]
    said = [answer for answer in answers if answer.text]
    if said:
        body = render("commands/reply.md", comment=comment, answers=said)
        ctx.forge.upsert_comment(
            comment.repo, comment.number, reply_marker(comment.comment_id), body
        )
    return answers


def run_command(turn: Turn, command: Command) -> Answer:
    """Check that ``command`` may run, run it, and return what to say."""
    wrong = misuse(command)
    if wrong is not None and not _refuses_itself(command, wrong):
        log.info("command misused", extra={**turn.fields(command), "misuse": wrong})
        text = render("commands/usage.md", command=command, misuse=wrong, verbs=VERBS)
        return Answer(command, text, refused=True)
    try:
        if command.verb not in SELF_CHECKED:
            turn.require(command.verb)
        return Answer(command, _VERBS[command.verb](turn, command))
    except Refused as err:
        log.warning(
            "command refused", extra={**turn.fields(command), "reason": str(err)}
        )
        text = render(
            "commands/refused.md", command=command, reason=str(err), entry=err.entry
        )
        return Answer(command, text, refused=True)


class Turn:
    """One comment's commands and what they share: the PR, its policy, the writer."""

    def __init__(self, ctx: Context, comment: CommandComment) -> None:
        self.ctx = ctx
        self.comment = comment
        self._teams: dict[tuple[str, str], frozenset[str]] = {}

    @cached_property
    def facts(self) -> PullFacts:
        """Return the PR as it is now."""
        return self.ctx.forge.pull(self.comment.repo, self.comment.number)

    @cached_property
    def config(self) -> Config:
        """Return the policy of the PR's base branch (defaults when invalid)."""
        return self.ctx.lenient_policy(self.comment.repo, self.facts.base_ref)

    @cached_property
    def asker(self) -> Asker:
        """Return the writer of the comment, with their permission on the repo."""
        login = self.comment.login
        return Asker(login, self.ctx.forge.permission(self.comment.repo, login))

    @cached_property
    def audit(self) -> AuditLog:
        """Return the repository's audit log."""
        return self.ctx.audit(self.comment.repo, self.config)

    @property
    def notes(self) -> Notes:
        """Return where rationales and overrides are kept, or refuse."""
        if self.ctx.notes is None:
            raise Refused(_refusal("no-notes"))
        return self.ctx.notes

    def may(self, verb: str) -> bool:
        """Tell whether the writer may run ``verb`` on this PR."""
        if verb == "rationale" and self.is_author:
            return True
        allowed = self.config.command_permission(verb)
        if not allows(principals(allowed, self.owner), self.asker, self.members):
            return False
        return verb != "override" or self.may_override

    @property
    def may_override(self) -> bool:
        """Tell whether the writer holds one of the configured override roles."""
        allowed = principals(self.config.overrides.allowed, self.owner)
        return allows(allowed, self.asker, self.members)

    def refusal(self, verb: str) -> str | None:
        """Return why the writer may not run ``verb`` here, or None if they may."""
        if self.may(verb):
            return None
        allowed = principals(self.config.command_permission(verb), self.owner)
        return _refusal(
            "permission",
            allowed=[str(p) for p in allowed],
            asker=self.asker,
            repo=self.comment.repo,
            author_may=verb == "rationale",
        )

    def require(self, verb: str) -> None:
        """Refuse unless the writer may run ``verb``."""
        refusal = self.refusal(verb)
        if refusal is not None:
            raise Refused(refusal)

    def members(self, org: str, slug: str) -> frozenset[str]:
        """Return a team's members, asking GitHub once per comment."""
        if (org, slug) not in self._teams:
            self._teams[org, slug] = self.ctx.forge.team_members(org, slug)
        return self._teams[org, slug]

    def evaluate(self) -> Judgement:
        """Evaluate the PR as the server does, updating its check run."""
        return evaluate_pull(self.ctx, self.comment.repo, self.comment.number)

    @property
    def owner(self) -> str:
        """Return the organization (or user) that owns the repository."""
        return self.comment.repo.split("/", 1)[0]

    @property
    def is_author(self) -> bool:
        """Tell whether the writer of the comment opened the PR."""
        author = self.comment.author or ""
        return author.lower() == self.comment.login.lower()

    def fields(self, command: Command) -> dict[str, Any]:
        """Return the log context of ``command``."""
        return {
            "repo": self.comment.repo,
            "pr": self.comment.number,
            "comment": self.comment.comment_id,
            "login": self.comment.login,
            "verb": command.verb,
        }


# --- the verbs ----------------------------------------------------------------


def run_help(turn: Turn, command: Command) -> str:
    """List the verbs the writer may run here."""
    allowed = [verb for name, verb in VERBS.items() if turn.may(name)]
    return render("commands/help.md", verbs=allowed, asker=turn.asker)


def run_status(turn: Turn, command: Command) -> str:
    """Re-evaluate the PR and say what is missing and who can provide it."""
    judgement = turn.evaluate()
    return render("commands/status.md", judgement=judgement, report=judgement.report)


def run_recheck(turn: Turn, command: Command) -> None:
    """Re-evaluate the PR and update its check run, saying nothing."""
    turn.evaluate()


def run_rationale(turn: Turn, command: Command) -> str:
    """Keep the given rationale for the PR and re-evaluate it."""
    given = GivenRationale(turn.comment.login, command.text, turn.comment.comment_id)
    turn.notes.give_rationale(turn.comment.repo, turn.comment.number, given)
    judgement = turn.evaluate()
    return render("commands/rationale.md", given=given, report=judgement.report)


def run_override(turn: Turn, command: Command) -> str:
    """Grant a break-glass override for the PR's head, or record the refusal."""
    notes = turn.notes
    refusal = override_refusal(turn, command.text)
    if refusal is not None:
        recorded = _record_override(turn, command, refusal)
        raise Refused(refusal, entry=recorded.index)

    appended = _record_override(turn, command, None)
    granted = GrantedOverride(
        login=turn.comment.login,
        reason=command.text,
        head_sha=turn.facts.head_sha,
        comment_id=turn.comment.comment_id,
        index=appended.index,
    )
    notes.grant_override(turn.comment.repo, turn.comment.number, granted)
    judgement = turn.evaluate()
    return render(
        "commands/override.md",
        granted=granted,
        entry=appended,
        report=judgement.report,
    )


def override_refusal(turn: Turn, reason: str) -> str | None:
    """Return why the writer may not override this PR now, or None."""
    overrides = turn.config.overrides
    if not turn.may_override:
        allowed = [str(p) for p in principals(overrides.allowed, turn.owner)]
        return _refusal("override-role", allowed=allowed)
    refusal = turn.refusal("override")
    if refusal is not None:
        return refusal
    if not turn.comment.open or turn.facts.merged:
        return _refusal("closed")
    if not reason:
        return _refusal("no-reason")
    words = word_count(reason)
    if words < overrides.min_words:
        return _refusal("short-reason", words=words, min_words=overrides.min_words)
    return None


def run_receipt(turn: Turn, command: Command) -> str:
    """Reply with the inclusion receipt of the PR's `change` entry."""
    repo, number = turn.comment.repo, turn.comment.number
    merged = turn.ctx.forge.merged_pull(repo, number)
    if merged is None:
        raise Refused(_refusal("not-merged"))
    index = turn.audit.find(change_key(repo, number))
    if index is None:
        raise Refused(_refusal("not-recorded"))
    receipt = turn.audit.receipt(index)
    text = json.dumps(receipt, indent=2, sort_keys=True)
    return render(
        "commands/receipt.md",
        index=index,
        receipt=text,
        fence=_fence(text),
        keyid=turn.audit.signer.keyid,
    )


def run_verify(turn: Turn, command: Command) -> str:
    """Verify the audit log and reply with its summary line and findings."""
    audit = turn.audit
    report = verify(audit.store, [audit.signer.public])
    if not report.ok:
        metrics.verification_failed()
    log.info(
        "audit verified on request",
        extra={"repo": turn.comment.repo, "exit": report.exit_code},
    )
    findings = report.findings[:MAX_FINDINGS]
    summary = report.summary_line()
    return render(
        "commands/verify.md",
        report=report,
        summary=summary,
        fence=_fence("\n".join([summary, *(f.line() for f in findings)])),
        findings=findings,
        more=max(0, len(report.findings) - MAX_FINDINGS),
        keyid=audit.signer.keyid,
    )


# --- the trail of overrides ------------------------------------------------------


def override_key(comment: CommandComment) -> str:
    """Return the idempotency key of the `override` entry of one comment."""
    return f"override:{comment.repo}#{comment.number}:{comment.comment_id}"


def _record_override(turn: Turn, command: Command, refusal: str | None) -> Appended:
    comment = turn.comment
    fields = {
        "pr": {"number": comment.number, "head_sha": turn.facts.head_sha},
        "actor": comment.login,
        "reason": command.text or None,
        "granted": refusal is None,
        "refusal": refusal,
    }
    appended = turn.audit.append(
        "override", comment.repo, fields, override_key(comment)
    )
    log.info(
        "override recorded",
        extra={**turn.fields(command), "index": appended.index, "granted": not refusal},
    )
    turn.ctx.notifier.send(_override_notice(turn, command, appended, refusal))
    return appended


def _override_notice(
    turn: Turn, command: Command, appended: Appended, refusal: str | None
) -> Notice:
    context = {
        "comment": turn.comment,
        "reason": command.text,
        "entry": appended,
        "refusal": refusal,
        "head_sha": turn.facts.head_sha,
    }
    return Notice(
        kind="override" if refusal is None else "refusal",
        key=override_key(turn.comment),
        repo=turn.comment.repo,
        title=render("commands/override_notice_title.txt", **context).strip(),
        text=render("commands/override_notice.mrkdwn", **context),
    )


def _refusal(why: str, **context: Any) -> str:
    """Return the one-line reason of a refusal."""
    return render("commands/refusal.txt", why=why, **context).strip()


def _refuses_itself(command: Command, wrong: str) -> bool:
    # NOTE: an override without a reason is still an attempt to break glass,
    # so it is refused (and recorded) by the verb rather than as bad usage.
    return command.verb in SELF_CHECKED and wrong == "missing-text"


def _fence(text: str) -> str:
    """Return a code fence longer than any run of backticks in ``text``."""
    longest, run = 0, 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


_VERBS: dict[str, Callable[[Turn, Command], str | None]] = {
    "help": run_help,
    "status": run_status,
    "recheck": run_recheck,
    "rationale": run_rationale,
    "override": run_override,
    "receipt": run_receipt,
    "verify": run_verify,
}

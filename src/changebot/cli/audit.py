"""`changebot audit`: append to, read, export and verify the audit log."""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click

from changebot.adapters.git import GitStore
from changebot.audit import AuditLog, PublicKey, SigningKey, verify, verify_receipt
from changebot.audit.canonical import canonical_json
from changebot.audit.entry import KINDS
from changebot.audit.layout import DEFAULT_BRANCH
from changebot.audit.receipt import make_receipt
from changebot.audit.signing import load_trusted
from changebot.audit.verify import VerifyReport
from changebot.cli import main
from changebot.errors import AuditError, ChangebotError, UsageError

repo_option = click.option(
    "--repo",
    "repo_path",
    required=True,
    type=click.Path(exists=True),
    help="A clone that holds the audit branch.",
)
branch_option = click.option("--branch", default=DEFAULT_BRANCH, show_default=True)


@main.group()
def audit() -> None:
    """Append to, read, export and verify the signed audit log."""


@audit.command()
@repo_option
@branch_option
@click.option("--key", "key_path", required=True, type=click.Path(exists=True))
@click.option("--kind", required=True, type=click.Choice(sorted(KINDS)))
@click.option(
    "--data",
    "data_file",
    required=True,
    type=click.File("rb"),
    help="A JSON object with the entry's fields (and `repo`).",
)
@click.option(
    "--idempotency-key",
    default=None,
    help="Defaults to a hash of the kind and the data.",
)
def append(
    repo_path: str,
    branch: str,
    key_path: str,
    kind: str,
    data_file: IO[bytes],
    idempotency_key: str | None,
) -> None:
    """Append one entry and print its index."""
    fields = _load_fields(data_file)
    store = GitStore(repo_path, branch)
    subject = str(fields.pop("repo", None) or store.origin.rsplit("@", 1)[0])
    key = idempotency_key or f"{kind}:{_digest(kind, fields)}"
    log = AuditLog(store, SigningKey.load(key_path))
    click.echo(log.append(kind, subject, fields, key).index)


@audit.command(name="verify")
@repo_option
@branch_option
@click.option(
    "--trusted-key",
    "trusted",
    multiple=True,
    required=True,
    help="A public key (.pub or .vkey) trusted out of band.",
)
@click.option(
    "--since",
    "since_file",
    type=click.Path(),
    help="A checkpoint saved earlier: prove the log only grew.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1, 64))
def verify_command(
    repo_path: str,
    branch: str,
    trusted: tuple[str, ...],
    since_file: str | None,
    as_json: bool,
    jobs: int,
) -> None:
    """Verify every entry, signature and checkpoint; exit 0, 1 or 2."""
    try:
        keys = load_trusted(list(trusted))
        since = Path(since_file).read_text() if since_file else None
        store = GitStore(repo_path, branch)
    except (ChangebotError, OSError) as err:
        report = VerifyReport(error=str(err))
    else:
        with _Progress() as progress:
            report = verify(store, keys, since=since, jobs=jobs, progress=progress)
    _print_report(report, as_json)
    sys.exit(report.exit_code)


@audit.command()
@repo_option
@branch_option
def checkpoint(repo_path: str, branch: str) -> None:
    """Print the current signed checkpoint."""
    note = _log(repo_path, branch).checkpoint()
    if note is None:
        raise AuditError(f"the audit branch {branch} does not exist in {repo_path}")
    click.echo(note, nl=False)


def _filters(f: Any) -> Any:
    for option in reversed(
        [
            click.option("--kind", type=click.Choice(sorted(KINDS))),
            click.option("--for-repo", "subject", help="Only entries of OWNER/NAME."),
            click.option("--area", help="Only entries that touch this area."),
            click.option("--actor", help="Only entries this login took part in."),
            click.option("--after", help="Only entries at or after this UTC time."),
            click.option("--before", help="Only entries before this UTC time."),
        ]
    ):
        f = option(f)
    return f


@audit.command(name="log")
@repo_option
@branch_option
@_filters
def log_command(repo_path: str, branch: str, **filters: str | None) -> None:
    """List entries, one line each."""
    from changebot.render import render

    for entry in _selected(repo_path, branch, filters):
        click.echo(render("audit/log_line.txt", entry=entry).rstrip("\n"))


@audit.command()
@repo_option
@branch_option
@click.argument("index", type=int)
def show(repo_path: str, branch: str, index: int) -> None:
    """Print one entry as JSON."""
    click.echo(
        json.dumps(_log(repo_path, branch).entry(index), indent=2, sort_keys=True)
    )


@audit.command()
@repo_option
@branch_option
@_filters
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
)
@click.option("--out", type=click.File("w"), default="-")
def export(
    repo_path: str, branch: str, fmt: str, out: IO[str], **filters: str | None
) -> None:
    """Export entries as JSON Lines or CSV, for a SIEM."""
    entries = _selected(repo_path, branch, filters)
    if fmt == "jsonl":
        for entry in entries:
            out.write(json.dumps(entry, sort_keys=True) + "\n")
        return
    _write_csv(out, entries)


@audit.command()
@repo_option
@branch_option
@click.argument("index", type=int)
def receipt(repo_path: str, branch: str, index: int) -> None:
    """Print the inclusion receipt of one entry (JSON)."""
    click.echo(json.dumps(make_receipt(GitStore(repo_path, branch), index), indent=2))


@audit.command(name="verify-receipt")
@click.argument("receipt_file", type=click.File("rb"))
@click.option("--trusted-key", "trusted", multiple=True, required=True)
def verify_receipt_command(receipt_file: IO[bytes], trusted: tuple[str, ...]) -> None:
    """Check a receipt offline; exit 0 when it proves its entry, 1 when not."""
    from changebot.render import render

    try:
        document = json.loads(receipt_file.read())
    except ValueError as err:
        raise UsageError(f"{receipt_file.name} is not JSON: {err}") from err
    problems = verify_receipt(document, [PublicKey.load(p) for p in trusted])
    click.echo(
        render("audit/receipt_result.txt", receipt=document, problems=problems).rstrip()
    )
    sys.exit(1 if problems else 0)


# --- helpers of the commands above --------------------------------------


class _Progress:
    """A progress bar on stderr, shown only when stderr is a terminal."""

    def __init__(self) -> None:
        self._bar: Any = None

    def __enter__(self) -> _Progress | None:
        return self if sys.stderr.isatty() else None

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = click.progressbar(
                length=total, label="verifying", file=sys.stderr
            )
            self._bar.__enter__()
        self._bar.update(done - self._bar.pos)


def _print_report(report: VerifyReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
        return
    for finding in report.findings:
        click.echo(finding.line())
    click.echo(report.summary_line())


def _log(repo_path: str, branch: str) -> AuditLog:
    # NOTE: reading needs no private key; a throwaway one satisfies the type.
    return AuditLog(GitStore(repo_path, branch), SigningKey.generate())


def _load_fields(data_file: IO[bytes]) -> dict[str, Any]:
    try:
        fields = json.loads(data_file.read())
    except ValueError as err:
        raise UsageError(f"{data_file.name} is not JSON: {err}") from err
    if not isinstance(fields, dict):
        raise UsageError(f"{data_file.name} must hold a JSON object")
    return fields


def _digest(kind: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json([kind, fields])).hexdigest()


def _selected(
    repo_path: str, branch: str, filters: dict[str, str | None]
) -> Iterator[dict[str, Any]]:
    for entry in _log(repo_path, branch).entries():
        if _matches(entry, **filters):
            yield entry


def _matches(
    entry: dict[str, Any],
    *,
    kind: str | None,
    subject: str | None,
    area: str | None,
    actor: str | None,
    after: str | None,
    before: str | None,
) -> bool:
    time = str(entry.get("time", ""))
    return (
        (kind is None or entry.get("kind") == kind)
        and (subject is None or entry.get("repo") == subject)
        and (area is None or area in (entry.get("areas") or []))
        and (actor is None or actor.lower() in _actors(entry))
        and (after is None or time >= after)
        and (before is None or time < before)
    )


def _actors(entry: dict[str, Any]) -> set[str]:
    names = {entry.get(k) for k in ("author", "merger", "pusher", "deployer", "actor")}
    for approver in entry.get("approvers") or []:
        if isinstance(approver, dict):
            names.add(approver.get("login"))
    return {str(n).lower() for n in names if n}


CSV_COLUMNS = (
    "index",
    "time",
    "kind",
    "repo",
    "idempotency_key",
    "actors",
    "areas",
    "summary",
)


def _write_csv(out: IO[str], entries: Iterator[dict[str, Any]]) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(
            [
                entry.get("index"),
                entry.get("time"),
                entry.get("kind"),
                entry.get("repo"),
                entry.get("idempotency_key"),
                " ".join(sorted(_actors(entry))),
                " ".join(entry.get("areas") or []),
                json.dumps(entry, sort_keys=True),
            ]
        )

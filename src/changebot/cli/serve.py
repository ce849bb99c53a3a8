"""`changebot serve`, `worker`, `jobs` and `reconcile`: running the App."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click

from changebot.cli import main
from changebot.compose import Services, build
from changebot.settings import Settings

log = logging.getLogger(__name__)

#: What the web side needs, and what the worker side needs, to start.
WEB_SETTINGS = ("webhook_secret",)
WORKER_SETTINGS = ("app_id", "private_key", "signing_key_path")
#: Runs the CLI in a fresh interpreter, with the arguments that follow.
_ENTRY = "from changebot.cli import main; main(prog_name='changebot')"


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, help="Port to bind.")
@click.option(
    "--workers", default=2, show_default=True, help="Web processes (gunicorn workers)."
)
@click.option(
    "--no-worker",
    is_flag=True,
    help="Only take webhooks; run `changebot worker` apart.",
)
@click.option(
    "--threads",
    default=2,
    show_default=True,
    help="Job threads of the embedded worker.",
)
def serve(host: str, port: int, workers: int, no_worker: bool, threads: int) -> None:
    """Run the GitHub App: webhook intake, health, metrics, and a job worker."""
    from changebot.server import create_app
    from changebot.server.setup import offer_setup
    from changebot.server.wsgi import serve as run_gunicorn

    offer_setup(host, port, click.echo)
    settings = Settings.from_env()
    settings.require(*WEB_SETTINGS, *(() if no_worker else WORKER_SETTINGS))
    build(settings).queue.ping()
    _share_metrics(settings.data_dir)

    worker = None if no_worker else _spawn_worker(threads)
    try:
        run_gunicorn(
            lambda: create_app(Settings.from_env()),
            host=host,
            port=port,
            workers=workers,
        )
    finally:
        _stop(worker)


@main.command()
@click.option("--threads", default=2, show_default=True, help="Jobs run at once.")
def worker(threads: int) -> None:
    """Run queued jobs (and the periodic reconcile) until stopped."""
    services = _services(*WORKER_SETTINGS)
    services.queue.ping()
    services.queue.consume(workers=threads)


@main.group(invoke_without_command=True)
@click.pass_context
def jobs(ctx: click.Context) -> None:
    """List waiting jobs and the dead letters of jobs that failed every retry."""
    if ctx.invoked_subcommand is not None:
        return
    from changebot.render import render

    queue = _services().queue
    click.echo(
        render(
            "server/jobs.txt",
            backend=queue.backend,
            depth=queue.depth(),
            letters=queue.dead_letters(),
        ).rstrip()
    )


@jobs.command("retry")
@click.argument("letter_ids", nargs=-1, type=int, required=True)
def retry_jobs(letter_ids: tuple[int, ...]) -> None:
    """Queue dead-lettered jobs again (ids from `changebot jobs`)."""
    from changebot.render import render

    queue = _services().queue
    for letter_id in letter_ids:
        letter = queue.retry(letter_id)
        click.echo(render("server/job_retried.txt", letter=letter).rstrip())


@main.command()
def reconcile() -> None:
    """Record merged PRs the webhooks missed, and redeliver failed webhooks."""
    from changebot.render import render
    from changebot.tasks import run_reconcile

    done = run_reconcile(_services(*WORKER_SETTINGS))
    click.echo(render("server/reconciled.txt", done=done).rstrip())


def _services(*required: str) -> Services:
    from changebot.server.setup import adopt_stored_app

    adopt_stored_app()
    settings = Settings.from_env()
    settings.require(*required)
    return build(settings)


def _share_metrics(data_dir: Path) -> None:
    """Start again with a metrics directory every process of this host shares."""
    # NOTE: gunicorn workers and the worker process each count their own
    # metrics; a shared directory lets /metrics add them up. prometheus_client
    # reads the variable when it is imported, hence the fresh interpreter.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    directory = data_dir / "metrics"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory.resolve())}
    log.info("restarting with shared metrics", extra={"dir": str(directory)})
    os.execve(sys.executable, [sys.executable, "-c", _ENTRY, *sys.argv[1:]], env)  # noqa: S606 - re-runs this very command


def _spawn_worker(threads: int) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable,
        "-c",
        _ENTRY,
        "worker",
        "--threads",
        str(threads),
    ]
    log.info("embedded worker starting", extra={"threads": threads})
    return subprocess.Popen(argv)  # noqa: S603 - our own interpreter and argv


def _stop(worker: subprocess.Popen[bytes] | None) -> None:
    if worker is None or worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()

"""`changebot demo`: play changebot's story on loopback, then keep it running."""

from __future__ import annotations

import logging
import signal
import sys
import tempfile
import threading
from pathlib import Path

import click

from changebot.cli import main
from changebot.errors import UsageError

log = logging.getLogger(__name__)


@main.command()
@click.option(
    "--no-serve",
    is_flag=True,
    help="Play the story and exit: 0 when every step happened as narrated, 1 if not.",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="New or empty directory for all the demo makes [default: a temporary one].",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="Port of the App server [default: a free one].",
)
def demo(no_serve: bool, data_dir: Path | None, port: int | None) -> None:
    """Run a simulated GitHub, Slack and the App, and play a story through them."""
    from changebot.demo import play
    from changebot.demo.narration import Narrator
    from changebot.demo.seed import REPO

    root = _fresh(data_dir)
    # NOTE: SIGINT too: a shell may start the demo with it ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    narrator = Narrator(click.echo)
    stage, result = play(root, narrator, port)
    try:
        if not no_serve:
            stage.index_for_browser(REPO)
            narrator.say(
                "demo/serving.txt",
                stage=stage,
                repo=REPO,
                git_dir=stage.simulator.git_dir(REPO),
            )
            _wait_for_interrupt()
    finally:
        stage.stop()
        narrator.say("demo/stopped.txt", root=root)
    sys.exit(0 if result.ok else 1)


def _fresh(data_dir: Path | None) -> Path:
    """Return a new or empty data directory (a temporary one by default)."""
    if data_dir is None:
        return Path(tempfile.mkdtemp(prefix="changebot-demo-"))
    if data_dir.exists() and any(data_dir.iterdir()):
        raise UsageError(
            f"{data_dir} is not empty",
            hint="the demo starts from nothing: pass a new or empty directory",
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir.resolve()


def _interrupt(signum: int, frame: object) -> None:
    """Stop the demo, and with it the App's processes (their own session)."""
    raise KeyboardInterrupt


def _wait_for_interrupt() -> None:
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        log.info("demo interrupted")

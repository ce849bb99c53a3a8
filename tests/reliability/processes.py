"""Real changebot processes for the crash tests: start, wait, kill by pid."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from changebot.settings import Settings

ENTRY = "from changebot.cli import main; main(prog_name='changebot')"


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    """Return the environment that gives a process ``settings``."""
    env = {
        **os.environ,
        "CHANGEBOT_APP_ID": str(settings.app_id),
        "CHANGEBOT_PRIVATE_KEY": str(settings.private_key),
        "CHANGEBOT_WEBHOOK_SECRET": str(settings.webhook_secret),
        "CHANGEBOT_SIGNING_KEY_PATH": str(settings.signing_key_path),
        "CHANGEBOT_DATA_DIR": str(settings.data_dir),
        "CHANGEBOT_GITHUB_URL": settings.github_url,
        "CHANGEBOT_JOB_RETRY_DELAY": "0.2",
        **extra,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if not settings.redis_url:
        env.pop("CHANGEBOT_REDIS_URL", None)
    return env


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `changebot ARGV`, its output going to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", ENTRY, *argv],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def kill(process: subprocess.Popen[bytes]) -> None:
    """Kill one process with SIGKILL, as the OOM killer or a power cut would."""
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop one process politely, then by force."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        kill(process)


def wait_for(condition: Callable[[], bool], what: str, bound: float = 60.0) -> None:
    """Poll ``condition`` until it holds; fail after ``bound`` s (a hang bound)."""
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def free_port() -> int:
    """Return a TCP port free on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def healthy(url: str) -> bool:
    """Tell whether a changebot server answers /healthz with 200."""
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:  # noqa: S310 - loopback URL the test built
            return int(answer.status) == 200
    except OSError:
        return False

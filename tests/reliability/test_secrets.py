"""No secret reaches a log line, a page, a comment, a check run or Slack.

The demo's story is played (the same `play` that `changebot demo --no-serve`
runs): a simulated GitHub, a Slack stand-in and the real App server with its
worker. Every process logs at DEBUG into a dump (`logdump/sitecustomize.py`),
fields given in ``extra`` included. Then everything a person or a log reader
could see is searched for the webhook secret, the App's private key and
OAuth secret, the signing key, every installation token and the Slack URL.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from changebot.adapters.git import GitStore
from changebot.audit.layout import DEFAULT_BRANCH
from changebot.cli import main
from changebot.server import setup

pytestmark = pytest.mark.e2e

DUMP = Path(__file__).parent / "logdump"
#: NOTE: the demo tells its user where its Slack stand-in is, to be opened.
SHOWN_ON_PURPOSE = {("narration", "slack url")}


def _pem_lines(pem: str) -> list[str]:
    """Return the base64 lines of a PEM block: a leak shows at least one."""
    return [line for line in pem.splitlines() if line and not line.startswith("-")]


def _secrets(stage: Any) -> dict[str, str]:
    app = stage.simulator.app
    found = {
        "webhook secret": stage.simulator.webhook_secret,
        "oauth client secret": str(app["client_secret"]),
        "slack url": stage.slack.url,
    }
    for n, line in enumerate(_pem_lines(app["private_key"])):
        found[f"app private key line {n}"] = line
    signing = (stage.root / "keys" / "audit.key").read_text()
    for n, line in enumerate(_pem_lines(signing)):
        found[f"signing key line {n}"] = line
    for token in stage.simulator.hub.app._tokens:
        found[f"token {token[:8]}"] = token
    return found


@pytest.fixture(scope="module")
def story(tmp_path_factory) -> Any:
    """Play the demo once, with every process dumping its log records."""
    from changebot.demo import play
    from changebot.demo.narration import Narrator

    root = tmp_path_factory.mktemp("demo")
    dump = root.parent / f"{root.name}-log.jsonl"
    told: list[str] = []
    patch = pytest.MonkeyPatch()
    patch.setenv("RELIABILITY_LOG_DUMP", str(dump))
    patch.setenv(
        "PYTHONPATH", os.pathsep.join([str(DUMP), os.environ.get("PYTHONPATH", "")])
    )
    records: list[logging.LogRecord] = []
    keeper = _Keeper(records)
    logging.getLogger().addHandler(keeper)
    level = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        stage, result = play(root, Narrator(told.append))
        try:
            assert result.ok, result.failed
            seen = _everything_seen(stage)
            secrets = _secrets(stage)
        finally:
            stage.stop()
    finally:
        logging.getLogger().removeHandler(keeper)
        logging.getLogger().setLevel(level)
        patch.undo()
    seen["narration"] = "\n".join(told)
    seen["in-process log"] = "\n".join(_record_text(r) for r in records)
    seen["app log dump"] = dump.read_text()
    return seen, secrets, root


class _Keeper(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.DEBUG)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _record_text(record: logging.LogRecord) -> str:
    fields = {k: repr(v) for k, v in vars(record).items()}
    return json.dumps(fields | {"message": record.getMessage()})


def _everything_seen(stage: Any) -> dict[str, str]:
    from changebot.demo.seed import REPO

    sim = stage.simulator
    repo = sim.repo(REPO)
    seen = {
        "comments": [c.body for c in repo.comments.values()],
        "check runs": [
            (r.output, r.annotations, r.details_url) for r in repo.check_runs.values()
        ],
        "slack": stage.slack.messages,
        "webhook answers": [d.response_body for d in sim.deliveries()],
        "app pages": [
            _page(stage.app_url + path)
            for path in ("/healthz", "/metrics", "/audit/", "/webhook", "/setup")
        ],
        "audit branch": list(_branch(sim.git_dir(REPO))),
    }
    return {
        name: json.dumps(value, default=str, ensure_ascii=False)
        for name, value in seen.items()
    }


def _page(url: str) -> str:
    answer = requests.get(url, timeout=10, allow_redirects=False)
    return f"{answer.status_code} {answer.headers} {answer.text}"


def _branch(git_dir: Path):
    store = GitStore(git_dir, DEFAULT_BRANCH)
    head = store.head()
    if head is not None:
        for path, data in store.walk(head, ""):
            yield path, data.decode(errors="replace")


def test_the_story_leaks_no_secret_anywhere(story):
    seen, secrets, _ = story
    assert len(seen["app log dump"]) > 10_000, "the App's log was not captured"

    leaks = [
        f"{secret} in {where}"
        for where, text in seen.items()
        for secret, value in secrets.items()
        if value in text and (where, secret) not in SHOWN_ON_PURPOSE
    ]
    assert leaks == []


def test_every_file_holding_a_secret_is_readable_by_its_owner_only(story):
    _, secrets, root = story

    exposed = []
    for path in root.rglob("*"):
        if not path.is_file() or ".git" in path.parts or path.suffix == ".sqlite3":
            continue
        text = path.read_text(errors="replace")
        if any(value in text for value in secrets.values()):
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                exposed.append(f"{path.relative_to(root)} {oct(mode)}")
    assert exposed == []


def test_keys_generate_writes_the_private_key_0600(tmp_path):
    os.umask(0o022)
    result = CliRunner().invoke(
        main, ["keys", "generate", "--out", str(tmp_path / "k")]
    )

    assert result.exit_code == 0, result.output
    [private] = [p for p in tmp_path.iterdir() if p.suffix == ".key"]
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text() not in result.output


def test_setup_stores_the_app_credentials_0600(tmp_path, simulator):
    app = simulator.app
    stored = {
        "id": app["id"],
        "slug": "changebot",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "webhook_secret": simulator.webhook_secret,
        "pem": app["private_key"],
    }

    setup.store(tmp_path, stored)

    files = sorted(p for p in tmp_path.iterdir() if p.is_file())
    assert files
    for path in files:
        if "PRIVATE" in path.read_text() or "secret" in path.read_text():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name

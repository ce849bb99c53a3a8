"""A GitHub Actions runner, as far as `changebot action` can tell.

`WorkflowRun.run(event, payload, **inputs)` writes the event payload to a
file, sets the variables the runner sets (``GITHUB_*``) and the ones
`action.yml` makes of the step's inputs (``CHANGEBOT_*``), runs `changebot
action` through click's runner against the GitHub simulator, and reads back
what the runner would: the exit status, the workflow commands on stdout,
the outputs file and the job summary.

Event payloads come from `events/`: payloads the simulator sent as GitHub's
webhooks (the same bodies a workflow receives), with their links pointed at
github.com. `event(name, **changes)` loads one and sets dotted keys.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from changebot.action.inputs import INPUT_ENV
from changebot.adapters.git import GitStore
from changebot.audit import AuditLog, SigningKey, verify
from changebot.cli import main
from ghsim import Simulator

EVENTS = Path(__file__).parent / "events"
AUDIT_BRANCH = "changebot/audit"
RATIONALE = (
    "## Why\nThe demo resource must be replaced before the quarterly audit.\n\n"
    "## Risk\nLow: nothing reads it, and the plan shows one replacement.\n\n"
    "## Rollback plan\nRevert this PR and apply again."
)


def event(name: str, **changes: Any) -> dict[str, Any]:
    """Load ``events/<name>.json`` and set each dotted key of ``changes``.

    ``pull_request__number=3`` sets ``payload["pull_request"]["number"]``.
    """
    payload: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = payload
        for key in parents:
            node = node[key]
        node[last] = copy.deepcopy(value)
    return payload


def parse_outputs(text: str) -> dict[str, str]:
    """Read an outputs file as the runner does: `name=value` and heredocs."""
    outputs: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if not line:
            continue
        heredoc = re.fullmatch(r"([^=<]+)<<(.+)", line)
        if heredoc is None:
            name, value = line.split("=", 1)
            outputs[name] = value
            continue
        name, delimiter = heredoc.groups()
        body = []
        for inner in lines:
            if inner == delimiter:
                break
            body.append(inner)
        else:
            raise AssertionError(f"output {name}: delimiter {delimiter} never came")
        outputs[name] = "\n".join(body)
    return outputs


@dataclass
class StepRun:
    """What a runner saw of one step."""

    exit_code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str

    def commands(self, name: str) -> list[str]:
        """Return the workflow command lines ``::name ...`` the step printed."""
        return [
            line for line in self.stdout.splitlines() if line.startswith(f"::{name}")
        ]


class WorkflowRun:
    """Runs `changebot action` as steps of workflows of one simulated repository."""

    def __init__(self, simulator: Simulator, tmp_path: Path, repo: str) -> None:
        self.simulator = simulator
        self.repo = repo
        self.dir = tmp_path / "runner"
        self.dir.mkdir()
        self.key = SigningKey.generate("changebot-test")
        self.steps = 0

    @property
    def signing_key(self) -> str:
        """Return the signing key as the secret holds it (PEM text)."""
        return self.key.private_pem().decode()

    @property
    def vkey(self) -> str:
        """Return the verifier key of the signing key."""
        return self.key.public.vkey(self.key.name)

    def token(self) -> str:
        """Return a workflow token for the repository (an installation token)."""
        return self.simulator.installation_token(self.repo.split("/")[0])

    def run(
        self,
        event_name: str,
        payload: dict[str, Any],
        *,
        github: dict[str, str] | None = None,
        **inputs: str | None,
    ) -> StepRun:
        """Run one step on ``event_name``; ``inputs`` are the step's `with:`."""
        self.steps += 1
        step = self.dir / f"step{self.steps}"
        step.mkdir()
        (step / "event.json").write_text(json.dumps(payload))
        (step / "output").touch()
        (step / "summary.md").touch()
        env: dict[str, str | None] = {name: None for name in INPUT_ENV.values()}
        env |= {
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(step / "event.json"),
            "GITHUB_REPOSITORY": self.repo,
            "GITHUB_API_URL": self.simulator.base_url,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_SHA": self.head(),
            "GITHUB_RUN_ID": str(1000 + self.steps),
            "GITHUB_ACTOR": "admin",
            "GITHUB_OUTPUT": str(step / "output"),
            "GITHUB_STEP_SUMMARY": str(step / "summary.md"),
            "CHANGEBOT_TOKEN": self.token(),
        }
        env |= github or {}
        env |= {INPUT_ENV[name]: value for name, value in inputs.items()}
        result = CliRunner().invoke(main, ["action"], env=env, catch_exceptions=False)
        return StepRun(
            exit_code=result.exit_code,
            stdout=result.stdout,
            stderr=result.stderr,
            outputs=parse_outputs((step / "output").read_text()),
            summary=(step / "summary.md").read_text(),
        )

    # --- what GitHub ended up with -------------------------------------------

    def head(self, branch: str = "main") -> str:
        """Return the commit a branch of the repository points at."""
        answer = self.simulator.client("admin").get(
            f"/repos/{self.repo}/git/ref/heads/{branch}"
        )
        return str(answer.json()["object"]["sha"])

    def store(self) -> GitStore:
        """Return the audit branch, read straight from the simulated repository."""
        return GitStore(self.simulator.git_dir(self.repo), AUDIT_BRANCH)

    def entries(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Return the audit entries (of one kind), in index order."""
        audit = AuditLog(self.store(), self.key)
        return [e for e in audit.entries() if kind is None or e["kind"] == kind]

    def verified(self) -> Any:
        """Verify the audit branch against the signing key; fail on any finding."""
        report = verify(self.store(), [self.key.public])
        assert report.ok, [f.line() for f in report.findings] or report.error
        return report

    def check(self, number: int) -> Any:
        """Return the one `changebot` check run on a PR's current head."""
        head = self.simulator.pull(self.repo, number).head_sha
        runs = [
            r
            for r in self.simulator.check_runs(self.repo, "changebot")
            if r.head_sha == head
        ]
        assert len(runs) == 1, f"{len(runs)} changebot check runs on {head}"
        return runs[0]

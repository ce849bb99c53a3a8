"""Static security checks: ruff's S rules run and bite, and every silenced
finding says why, on its own line.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).with_name("ruff")
#: Where changebot's own Python lives (ignored files, such as CI's tools, are not ours).
TREES = ("src", "tests", "benchmarks", ".ci", "scripts")
#: A `noqa` naming an S rule, then what follows the codes on that line.
SILENCED = re.compile(
    r"#\s*noqa:\s*((?:[A-Z]+\d+[,\s]*)*S\d{3}(?:[,\s]*[A-Z]+\d+)*)(.*)"
)
#: What a justification looks like: a separator, then words.
REASON = re.compile(r"^\s*(?:--?|—|:)\s*\w+")
BLANKET = re.compile(r"#\s*noqa(?!:)\b")


def _python_files() -> list[Path]:
    """Return the project's Python files: tracked or new, never git-ignored."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *TREES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return sorted(ROOT / name for name in listed if name.endswith(".py"))


def test_every_silenced_security_finding_says_why_inline():
    unjustified = []
    for path in _python_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            found = SILENCED.search(line)
            if found and not REASON.match(found.group(2)):
                unjustified.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert unjustified == []


def test_no_blanket_noqa_hides_a_security_finding():
    blanket = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _python_files()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if BLANKET.search(line)
    ]
    assert blanket == []


@pytest.mark.skipif(not RUFF.exists(), reason="ruff is not in the venv")
def test_the_project_lint_fails_on_a_new_security_finding(tmp_path):
    module = tmp_path / "hostile.py"
    module.write_text(
        "import subprocess\n\n\n"
        "def run(command: str) -> None:\n"
        "    subprocess.run(command, shell=True)\n"
    )

    lint = subprocess.run(
        [str(RUFF), "check", "--config", str(ROOT / "pyproject.toml"), str(module)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )

    assert lint.returncode == 1
    assert "S602" in lint.stdout


def test_ci_lints_the_whole_tree_and_stops_at_the_first_failure():
    script = (ROOT / ".ci" / "run").read_text()

    assert "set -euo pipefail" in script
    assert re.search(r"^ruff check \.$", script, re.MULTILINE)

"""`changebot simulator` starts ghsim with the options it was given."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from changebot.cli import main
from ghsim import Simulator


def test_cli_serves_with_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self: Simulator) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Simulator, "serve_forever", interrupted)

    result = CliRunner().invoke(
        main,
        [
            "simulator",
            "--port",
            "0",
            "--data",
            str(tmp_path / "gh"),
            "--webhook-secret",
            "topsecret",
        ],
    )

    assert result.exit_code == 0, result.output
    assert result.output.startswith("http://127.0.0.1:")
    saved = json.loads((tmp_path / "gh" / "app.json").read_text())
    assert saved["webhook_secret"] == "topsecret"

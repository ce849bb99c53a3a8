"""`changebot config validate | schema | preset` through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml
from click.testing import CliRunner

from changebot.cli import main


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["config", *args])
    return result.exit_code, result.output


def test_a_valid_file_exits_0(tmp_path: Path) -> None:
    path = tmp_path / ".changebot.yml"
    path.write_text("areas:\n  tf: {paths: ['*.tf']}\n")

    code, out = invoke("validate", str(path))

    assert code == 0
    assert "valid (1 area: tf)" in out


def test_every_error_is_listed_with_line_and_key_path_and_exits_2(
    tmp_path: Path,
) -> None:
    path = tmp_path / ".changebot.yml"
    path.write_text(
        "areas:\n  tf:\n    paths: ['**/a/**/b/**/c']\nrationale: {min_words: -1}\n"
    )

    code, out = invoke("validate", str(path))

    assert code == 2
    assert f"{path}:3: areas.tf.paths[0]: " in out
    assert f"{path}:4: rationale.min_words: " in out
    assert "2 problems" in out


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    code, out = invoke("validate", str(tmp_path / "nope.yml"))

    assert code == 2
    assert "does not exist" in out


def test_the_schema_is_json_and_accepts_the_preset() -> None:
    code, out = invoke("schema")
    _, preset = invoke("preset")

    assert code == 0
    jsonschema.validate(yaml.safe_load(preset), json.loads(out))

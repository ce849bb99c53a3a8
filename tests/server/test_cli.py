"""`changebot serve`, `worker` and `jobs` as an operator starts them."""

from __future__ import annotations

from click.testing import CliRunner

from changebot.cli import main


def test_serve_names_the_missing_setting(tmp_path):
    env = {"CHANGEBOT_DATA_DIR": str(tmp_path), "CHANGEBOT_WEBHOOK_SECRET": ""}

    result = CliRunner().invoke(main, ["serve"], env=env)

    assert result.exit_code == 2
    assert "CHANGEBOT_WEBHOOK_SECRET is not set" in result.output


def test_worker_needs_the_app_credentials(tmp_path):
    env = {
        "CHANGEBOT_DATA_DIR": str(tmp_path),
        "CHANGEBOT_APP_ID": "",
        "CHANGEBOT_WEBHOOK_SECRET": "s",
    }

    result = CliRunner().invoke(main, ["worker"], env=env)

    assert result.exit_code == 2
    assert "CHANGEBOT_APP_ID is not set" in result.output


def test_serve_without_worker_still_needs_the_webhook_secret_only(tmp_path):
    env = {
        "CHANGEBOT_DATA_DIR": str(tmp_path),
        "CHANGEBOT_WEBHOOK_SECRET": "",
        "CHANGEBOT_APP_ID": "",
    }

    result = CliRunner().invoke(main, ["serve", "--no-worker"], env=env)

    assert "CHANGEBOT_WEBHOOK_SECRET" in result.output
    assert "CHANGEBOT_APP_ID" not in result.output

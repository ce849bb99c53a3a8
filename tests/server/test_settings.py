"""Settings from the environment: defaults, required ones, secrets kept out of logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from changebot.errors import SettingsError
from changebot.settings import GITHUB_API, Settings

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"


def test_every_setting_is_read_from_its_variable(tmp_path):
    env = {
        "CHANGEBOT_APP_ID": "1234",
        "CHANGEBOT_PRIVATE_KEY": PEM.replace("\n", "\\n"),
        "CHANGEBOT_WEBHOOK_SECRET": "hush",
        "CHANGEBOT_SIGNING_KEY_PATH": str(tmp_path / "audit.key"),
        "CHANGEBOT_DATA_DIR": str(tmp_path / "data"),
        "CHANGEBOT_REDIS_URL": "redis://:pw@127.0.0.1:6379/0",
        "CHANGEBOT_GITHUB_URL": "http://127.0.0.1:9999/api/v3/",
        "CHANGEBOT_SLACK_WEBHOOK": "https://hooks.example.test/T/B/x",
        "CHANGEBOT_JOB_RETRIES": "3",
        "CHANGEBOT_JOB_RETRY_DELAY": "0.5",
        "CHANGEBOT_PROTECTED_BRANCHES": "release, prod",
    }

    settings = Settings.from_env(env)

    assert settings.app_id == "1234"
    assert settings.private_key == PEM
    assert settings.webhook_secret == "hush"
    assert settings.signing_key_path == tmp_path / "audit.key"
    assert settings.data_dir == tmp_path / "data"
    assert settings.redis_url == "redis://:pw@127.0.0.1:6379/0"
    assert settings.github_url == "http://127.0.0.1:9999/api/v3"
    assert settings.job_retries == 3
    assert settings.job_retry_delay == 0.5
    assert settings.protected_branches == ("release", "prod")


def test_defaults_need_no_variable():
    settings = Settings.from_env({})

    assert settings.github_url == GITHUB_API
    assert settings.data_dir == Path(".changebot-data")
    assert settings.redis_url is None


def test_private_key_is_read_from_a_file(tmp_path):
    key = tmp_path / "app.pem"
    key.write_text(PEM)

    settings = Settings.from_env({"CHANGEBOT_PRIVATE_KEY_PATH": str(key)})

    assert settings.private_key == PEM


def test_unreadable_private_key_file_is_named(tmp_path):
    missing = tmp_path / "nope.pem"

    with pytest.raises(SettingsError, match="CHANGEBOT_PRIVATE_KEY_PATH"):
        Settings.from_env({"CHANGEBOT_PRIVATE_KEY_PATH": str(missing)})


def test_missing_required_setting_is_named():
    settings = Settings.from_env({"CHANGEBOT_WEBHOOK_SECRET": "hush"})

    with pytest.raises(SettingsError, match="CHANGEBOT_APP_ID is not set"):
        settings.require("webhook_secret", "app_id")
    with pytest.raises(SettingsError, match="CHANGEBOT_PRIVATE_KEY_PATH"):
        settings.require("private_key")


def test_a_setting_that_is_not_a_number_is_named():
    with pytest.raises(SettingsError, match="CHANGEBOT_JOB_RETRIES must be a number"):
        Settings.from_env({"CHANGEBOT_JOB_RETRIES": "many"})


def test_repr_hides_every_secret():
    settings = Settings(
        private_key=PEM,
        webhook_secret="hush-hush",
        redis_url="redis://:pw@host/0",
        slack_webhook="https://hooks.example.test/T/B/x",
    )

    shown = repr(settings)

    for secret in ("MIIB", "hush-hush", ":pw@", "hooks.example.test"):
        assert secret not in shown
    assert "webhook_secret='<hidden>'" in shown


def test_server_does_not_start_without_a_webhook_secret(tmp_path):
    from changebot.server import create_app

    with pytest.raises(SettingsError, match="CHANGEBOT_WEBHOOK_SECRET is not set"):
        create_app(Settings(data_dir=tmp_path))

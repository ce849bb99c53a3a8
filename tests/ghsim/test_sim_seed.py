"""The shared fixtures build what they promise, through GitHub's endpoints."""

from __future__ import annotations

import base64
import json
import stat

from seeding import SEED_FILES, SeededRepo

from ghsim import Simulator


def test_seeded_repo_has_its_files_on_the_default_branch(
    seeded_repo: SeededRepo,
) -> None:
    admin = seeded_repo.client()
    for path, text in SEED_FILES.items():
        answer = admin.get(seeded_repo.api(f"contents/{path}"))
        assert answer.status_code == 200, path
        assert base64.b64decode(answer.json()["content"]).decode() == text


def test_seeded_teams_and_collaborators_carry_write_permission(
    seeded_repo: SeededRepo,
) -> None:
    admin = seeded_repo.client()
    for login, expected in {
        "pat": "write",
        "sam": "write",
        "dev": "write",
        "admin": "admin",
        "stranger": "read",
    }.items():
        admin.get(f"/users/{login}") if login != "stranger" else None
        seeded_repo.client(login).get("/user")
        answer = admin.get(seeded_repo.api(f"collaborators/{login}/permission"))
        assert answer.json()["role_name"] == expected, login
    members = admin.get("/orgs/acme/teams/platform/members").json()
    assert sorted(m["login"] for m in members) == ["pat", "paula"]


def test_app_credentials_are_written_for_the_server(simulator: Simulator) -> None:
    saved = json.loads((simulator.root / "app.json").read_text())
    key = simulator.root / "app-private-key.pem"

    assert set(saved) == {"id", "slug", "webhook_secret", "client_id", "client_secret"}
    assert saved["webhook_secret"] == simulator.webhook_secret
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")

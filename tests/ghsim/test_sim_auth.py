"""Who a request acts as: users, the App's JWT, installation and OAuth tokens."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from seeding import SeededRepo

from ghsim import Simulator


def _jwt(key: str, issuer: str, lifetime: int = 540) -> str:
    now = int(time.time())
    return jwt.encode(
        {"iat": now - 60, "exp": now + lifetime, "iss": issuer}, key, algorithm="RS256"
    )


def _session(simulator: Simulator, authorization: str) -> requests.Session:
    session = simulator.client("unused")
    session.headers["Authorization"] = authorization
    return session


def _other_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _token(simulator: Simulator, account: str = "acme") -> dict[str, str]:
    app = _session(
        simulator,
        f"Bearer {_jwt(simulator.app['private_key'], str(simulator.app['id']))}",
    )
    installation = app.get(f"/orgs/{account}/installation").json()["id"]
    answer = app.post(f"/app/installations/{installation}/access_tokens")
    assert answer.status_code == 201
    return dict(answer.json())


def test_valid_app_jwt_reads_the_app_and_gets_a_token(seeded_repo: SeededRepo) -> None:
    token = _token(seeded_repo.simulator)

    assert token["token"].startswith("ghs_")
    assert token["expires_at"].endswith("Z")


@pytest.mark.parametrize(
    ("key", "lifetime", "message"),
    [
        ("other", 540, "could not be decoded"),
        ("ours", 3600, "too far in the future"),
        ("ours", -120, "could not be decoded"),
    ],
)
def test_bad_app_jwt_is_refused_like_github(
    simulator: Simulator, key: str, lifetime: int, message: str
) -> None:
    pem = simulator.app["private_key"] if key == "ours" else _other_key()
    app = _session(simulator, f"Bearer {_jwt(pem, '1', lifetime)}")

    answer = app.get("/app")

    assert answer.status_code == 401
    assert message in answer.json()["message"]
    assert "documentation_url" in answer.json()


def test_expired_installation_token_is_refused(seeded_repo: SeededRepo) -> None:
    simulator = seeded_repo.simulator
    simulator.set_token_ttl(0)
    bot = _session(simulator, f"token {_token(simulator)['token']}")

    answer = bot.get(seeded_repo.api("pulls"))

    assert answer.status_code == 401
    assert answer.json()["message"] == "Bad credentials"


def test_installation_token_acts_as_the_bot(seeded_repo: SeededRepo) -> None:
    bot = _session(
        seeded_repo.simulator, f"token {_token(seeded_repo.simulator)['token']}"
    )
    number = seeded_repo.open_pull("b", {"infra/x.tf": "x"})

    comment = bot.post(
        seeded_repo.api(f"issues/{number}/comments"), json={"body": "hi"}
    )

    assert comment.json()["user"]["login"] == "changebot[bot]"
    assert comment.json()["user"]["type"] == "Bot"


def test_installation_token_cannot_write_to_another_account(
    seeded_repo: SeededRepo,
) -> None:
    simulator = seeded_repo.simulator
    simulator.client("eve").post("/orgs/evil/repos", json={"name": "x"})
    bot = _session(simulator, f"token {_token(simulator, 'evil')['token']}")

    answer = bot.post(seeded_repo.api("statuses/main"), json={"state": "success"})

    assert answer.status_code in (403, 404)


def test_unknown_token_and_unsigned_jwt_get_401(simulator: Simulator) -> None:
    for authorization in ("token ghs_nope", "Bearer a.b.c", "Basic xyz"):
        answer = _session(simulator, authorization).get("/user")
        assert answer.status_code == 401, authorization


def test_check_runs_need_an_app(seeded_repo: SeededRepo) -> None:
    answer = seeded_repo.client().post(
        seeded_repo.api("check-runs"), json={"name": "x", "head_sha": "main"}
    )

    assert answer.status_code == 403


def test_oauth_web_flow_signs_a_user_in(seeded_repo: SeededRepo) -> None:
    simulator = seeded_repo.simulator
    anonymous = _session(simulator, "")
    del anonymous.headers["Authorization"]

    form = anonymous.get("/login/oauth/authorize", params={"client_id": "x"})
    redirect = anonymous.get(
        "/login/oauth/authorize",
        params={"login": "pat", "redirect_uri": "http://app/cb", "state": "s1"},
        allow_redirects=False,
    )
    query = parse_qs(urlsplit(redirect.headers["Location"]).query)
    exchange = anonymous.post(
        "/login/oauth/access_token",
        json={
            "client_id": simulator.app["client_id"],
            "client_secret": simulator.app["client_secret"],
            "code": query["code"][0],
        },
    ).json()
    user = _session(simulator, f"token {exchange['access_token']}")

    assert "<form" in form.text
    assert query["state"] == ["s1"]
    assert user.get("/user").json()["login"] == "pat"
    assert user.get(seeded_repo.api("")).json()["permissions"]["push"] is True
    reused = anonymous.post(
        "/login/oauth/access_token",
        json={
            "client_id": simulator.app["client_id"],
            "client_secret": simulator.app["client_secret"],
            "code": query["code"][0],
        },
    )
    assert reused.json()["error"] == "bad_verification_code"


def test_manifest_code_converts_to_the_apps_credentials(simulator: Simulator) -> None:
    redirect = simulator.client("admin").post(
        "/settings/apps/new?redirect_url=http://app/setup", allow_redirects=False
    )
    code = parse_qs(urlsplit(redirect.headers["Location"]).query)["code"][0]

    answer = _session(simulator, "").post(f"/app-manifests/{code}/conversions")
    again = _session(simulator, "").post(f"/app-manifests/{code}/conversions")

    assert answer.status_code == 201
    assert answer.json()["pem"] == simulator.app["private_key"]
    assert answer.json()["webhook_secret"] == simulator.webhook_secret
    assert again.status_code == 404

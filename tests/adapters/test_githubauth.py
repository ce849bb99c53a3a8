"""GitHub App authentication: the app JWT and cached installation tokens."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from changebot.adapters.github import GitHubForge
from changebot.adapters.githubauth import AppAuth, TokenAuth, app_jwt
from changebot.errors import ForgeError, SettingsError, UsageError

BASE = "https://ghe.example/api/v3"
# NOTE: PyGithub's requester spells the default port out in the URLs it sends.
API = "https://ghe.example:443/api/v3"
NOW = 1_700_000_000.0
HOUR = 3600


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def forge(pem: str, clock: Clock) -> GitHubForge:
    auth = AppAuth(42, pem, BASE, clock=clock)
    return GitHubForge(auth, sleep=lambda _: None, clock=clock)


def expiry(seconds: float) -> str:
    when = datetime.fromtimestamp(NOW + seconds, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def install(token: str, seconds: float = HOUR, installation: int = 7) -> None:
    responses.get(f"{API}/repos/octo/infra/installation", json={"id": installation})
    responses.post(
        f"{API}/app/installations/{installation}/access_tokens",
        status=201,
        json={"token": token, "expires_at": expiry(seconds)},
    )


def repo_answers(*tokens: str) -> None:
    for token in tokens:
        responses.get(
            f"{API}/repos/octo/infra",
            match=[
                responses.matchers.header_matcher({"Authorization": f"token {token}"})
            ],
            json={"default_branch": "main"},
        )


def test_app_jwt_is_backdated_and_short_lived(key, pem):
    token = app_jwt(42, pem, NOW)

    claims = jwt.decode(
        token,
        key.public_key(),
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iss"] == "42"
    assert claims["iat"] == NOW - 60
    assert NOW < claims["exp"] <= NOW + 600
    assert jwt.get_unverified_header(token)["alg"] == "RS256"


def test_a_key_that_is_no_key_is_a_settings_error():
    with pytest.raises(SettingsError) as caught:
        app_jwt(42, "not a pem", NOW)
    assert "private key" in str(caught.value)


@responses.activate
def test_installation_token_is_fetched_once_and_reused(forge, key):
    install("ghs_first")
    repo_answers("ghs_first")

    assert forge.default_branch("octo/infra") == "main"
    assert forge.default_branch("octo/infra") == "main"

    paths = [c.request.path_url for c in responses.calls]
    assert paths.count("/api/v3/repos/octo/infra/installation") == 1
    assert paths.count("/api/v3/app/installations/7/access_tokens") == 1
    bearer = responses.calls[0].request.headers["Authorization"]
    assert bearer.startswith("Bearer ")
    claims = jwt.decode(
        bearer.removeprefix("Bearer "),
        key.public_key(),
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iss"] == "42"


@responses.activate
def test_token_is_renewed_shortly_before_it_expires(forge, clock):
    responses.get(f"{API}/repos/octo/infra/installation", json={"id": 7})
    tokens_url = f"{API}/app/installations/7/access_tokens"
    responses.post(tokens_url, json={"token": "ghs_first", "expires_at": expiry(HOUR)})
    responses.post(
        tokens_url, json={"token": "ghs_second", "expires_at": expiry(2 * HOUR)}
    )
    repo_answers("ghs_first", "ghs_second")

    forge.default_branch("octo/infra")
    clock.now = NOW + HOUR - 60
    forge.default_branch("octo/infra")

    sent = [c.request.headers["Authorization"] for c in responses.calls]
    assert sent[-1] == "token ghs_second"
    assert [c.request.url for c in responses.calls].count(tokens_url) == 2


@responses.activate
def test_a_refused_token_is_renewed_once_transparently(forge):
    responses.get(f"{API}/repos/octo/infra/installation", json={"id": 7})
    tokens_url = f"{API}/app/installations/7/access_tokens"
    responses.post(
        tokens_url, json={"token": "ghs_revoked", "expires_at": expiry(HOUR)}
    )
    responses.post(tokens_url, json={"token": "ghs_fresh", "expires_at": expiry(HOUR)})
    responses.get(
        f"{API}/repos/octo/infra",
        match=[
            responses.matchers.header_matcher({"Authorization": "token ghs_revoked"})
        ],
        status=401,
        json={"message": "Bad credentials"},
    )
    repo_answers("ghs_fresh")

    assert forge.default_branch("octo/infra") == "main"


@responses.activate
def test_a_token_refused_twice_is_an_error_with_a_hint(forge):
    install("ghs_any")
    responses.get(
        f"{API}/repos/octo/infra", status=401, json={"message": "Bad credentials"}
    )

    with pytest.raises(ForgeError) as caught:
        forge.default_branch("octo/infra")

    assert caught.value.status == 401
    assert "Bad credentials" in str(caught.value)
    assert "installed" in caught.value.hint
    repo_calls = [c for c in responses.calls if c.request.path_url.endswith("/infra")]
    assert len(repo_calls) == 2


@responses.activate
def test_a_bad_app_jwt_is_refused_with_a_hint(forge):
    responses.get(
        f"{API}/repos/octo/infra/installation",
        status=401,
        json={"message": "A JSON web token could not be decoded"},
    )

    with pytest.raises(ForgeError) as caught:
        forge.default_branch("octo/infra")

    assert caught.value.status == 401
    assert "private key" in caught.value.hint
    assert len(responses.calls) == 1


@responses.activate
def test_a_known_installation_skips_the_lookup(pem, clock):
    forge = GitHubForge(AppAuth(42, pem, BASE, installation_id=9, clock=clock))
    responses.post(
        f"{API}/app/installations/9/access_tokens",
        json={"token": "ghs_nine", "expires_at": expiry(HOUR)},
    )
    repo_answers("ghs_nine")

    forge.default_branch("octo/infra")

    assert len(responses.calls) == 2


@responses.activate
def test_app_endpoints_use_the_jwt(forge):
    responses.post(f"{API}/app/hook/deliveries/12/attempts", status=202, json={})

    forge.redeliver(12)

    sent = responses.calls[0].request.headers["Authorization"]
    assert sent.startswith("Bearer ")


def test_a_plain_token_cannot_use_app_endpoints():
    forge = GitHubForge(TokenAuth("ghp_token", BASE))

    with pytest.raises(UsageError):
        forge.redeliver(12)


def test_credentials_do_not_show_in_their_repr(pem):
    assert pem not in repr(AppAuth(42, pem, BASE))
    assert "ghp_secret" not in repr(TokenAuth("ghp_secret", BASE))


@responses.activate
def test_org_calls_use_the_org_installation(forge):
    responses.get(f"{API}/orgs/octo/installation", json={"id": 5})
    responses.post(
        f"{API}/app/installations/5/access_tokens",
        json={"token": "ghs_org", "expires_at": expiry(HOUR)},
    )
    responses.get(
        f"{API}/orgs/octo/teams/platform/members",
        match=[responses.matchers.header_matcher({"Authorization": "token ghs_org"})],
        json=[{"login": "Alice"}, {"login": "bob"}],
    )

    assert forge.team_members("octo", "platform") == {"alice", "bob"}

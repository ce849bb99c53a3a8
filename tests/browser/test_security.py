"""Who gets in, what URLs may name, and what an export may carry."""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from browsing import XSS, sign_in
from flask import Flask

from changebot.server.browser.export import inert


@pytest.mark.parametrize(
    "path",
    [
        "/audit/entries/../../../etc/passwd/1",
        "/audit/entries/acme/..%2f..%2fetc/1",
        "/audit/entries/acme/audit%00/1",
        "/audit/entries/acme/audit/-1",
        "/audit/entries/acme/audit/1.json",
        "/audit/api/entries/..%2F..%2F/audit/1",
        "/audit/static/../../../../etc/passwd",
        "/audit/static/%2e%2e/%2e%2e/sessions.sqlite3",
    ],
)
def test_paths_outside_the_index_are_refused(app: Flask, path: str) -> None:
    client = app.test_client()
    sign_in(client, "alice")
    answer = client.get(path)
    assert answer.status_code in (400, 404)
    assert b"root:" not in answer.data and b"SQLite" not in answer.data


@pytest.mark.parametrize(
    "query",
    ["repo=../../x", "kind=<script>", "area=a%0Ab", "limit=-1", "after=" + "9" * 80],
)
def test_odd_parameters_are_refused_without_echo(app: Flask, query: str) -> None:
    client = app.test_client()
    sign_in(client, "alice")
    answer = client.get(f"/audit/api/entries?{query}")
    assert answer.status_code == 400
    assert "<script>" not in answer.text


def test_api_needs_a_live_session(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/audit/api/entries").status_code == 401
    client.set_cookie("changebot_session", "forged-session-id", path="/audit")
    assert client.get("/audit/api/entries/acme/audit/0").status_code == 401
    assert client.get("/audit/api/verification").status_code == 401


def test_sign_out_needs_the_csrf_token(app: Flask) -> None:
    client = app.test_client()
    sign_in(client, "alice")
    assert client.post("/audit/logout").status_code == 400
    assert client.post("/audit/logout", data={"csrf": "guess"}).status_code == 400
    assert client.get("/audit/api/entries").status_code == 200

    page = client.get("/audit/").text
    token = page.split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/audit/logout", data={"csrf": token}).status_code == 302
    assert client.get("/audit/api/entries").status_code == 401


def test_callback_refuses_a_foreign_state(app: Flask) -> None:
    client = app.test_client()
    start = client.get("/audit/login")
    answer = requests.get(
        start.headers["Location"] + "&login=alice", allow_redirects=False, timeout=10
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    refused = client.get(f"/audit/callback?code={code}&state=attacker-state")
    assert refused.status_code == 400
    assert "changebot_session" not in refused.headers.get("Set-Cookie", "")

    stranger = app.test_client()  # a browser that never started this sign-in
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    assert stranger.get(f"/audit/callback?code={code}&state={state}").status_code == 400


def test_sign_in_lands_only_on_audit_paths(app: Flask) -> None:
    client = app.test_client()
    start = client.get("/audit/login?next=https://evil.example/")
    answer = requests.get(
        start.headers["Location"] + "&login=alice", allow_redirects=False, timeout=10
    )
    callback = urlsplit(answer.headers["Location"])
    done = client.get(f"{callback.path}?{callback.query}")
    assert done.headers["Location"] == "/audit/"


def test_csv_export_defuses_formulas(app: Flask) -> None:
    client = app.test_client()
    sign_in(client, "alice")
    rows = list(csv.DictReader(io.StringIO(client.get("/audit/export.csv").text)))
    assert len(rows) == 6
    assert [r["rationale"] for r in rows if r["index"] == "3"] == [XSS]
    assert inert('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert [inert(c) for c in ("+1", "-1", "@SUM(A1)", "\tx", "plain")] == [
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "plain",
    ]


def test_jsonl_export_follows_the_filter(app: Flask) -> None:
    client = app.test_client()
    sign_in(client, "alice")
    lines = client.get("/audit/export.jsonl?kind=deployment").text.splitlines()
    assert len(lines) == 2 and all('"kind": "deployment"' in line for line in lines)


def test_cookies_are_secure_httponly_samesite(app: Flask, config) -> None:  # type: ignore[no-untyped-def]
    secure = Flask("secure")
    from changebot.server.browser import register_browser

    register_browser(
        secure, config.__class__(**{**vars(config), "secure_cookies": True})
    )
    cookie = secure.test_client().get("/audit/login").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/audit" in cookie

"""The audit browser's pages via Flask's test client, signed in on the simulator."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from browser_logs import change
from browsing import sign_in
from flask import Flask

from changebot.audit.signing import SigningKey
from changebot.index import Indexer
from changebot.index.refresh import refresh


def test_signed_out_reader_is_sent_to_sign_in(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/audit/?kind=change")
    assert page.status_code == 302
    assert page.headers["Location"] == "/audit/login?next=/audit/?kind=change"
    assert client.get("/audit/api/entries").status_code == 401
    assert client.get("/audit/export.csv").status_code == 401


def test_list_shows_what_who_why_and_flags(app: Flask) -> None:
    client = app.test_client()
    sign_in(client, "alice")
    html = client.get("/audit/").text
    assert "PR #1 “Scale workers” merged, areas: terraform, k8s" in html
    assert "Rotate vault tokens" in html
    assert '<span class="flag bypassed">bypassed</span>' in html
    assert '<span class="flag overridden">overridden</span>' in html
    assert "verified intact" in html and "FAILING" not in html


def test_filters_narrow_the_list(app: Flask) -> None:
    client = app.test_client()
    sign_in(client, "alice")
    html = client.get("/audit/?kind=deployment&environment=production").text
    assert "to production" in html and "vault-prod (" not in html
    assert "Scale workers" not in client.get("/audit/?q=zanzibar").text


def test_rationale_script_and_markdown_render_inert(app: Flask) -> None:
    client = app.test_client()
    sign_in(client, "alice")
    for path in (
        "/audit/",
        "/audit/entries/acme/audit/3",
        "/audit/timeline?environment=production&since=2024-05-01&until=2024-05-02",
    ):
        html = client.get(path).text
        assert "<script>" not in html
        assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in html
        assert "<strong>bold</strong>" not in html
        assert 'href="javascript:' not in html


def test_entry_page_shows_proof_signatures_links_related(app: Flask, audit) -> None:  # type: ignore[no-untyped-def]
    _, log, _ = audit
    client = app.test_client()
    sign_in(client, "alice")
    html = client.get("/audit/entries/acme/audit/3").text
    assert 'class="proof verified"' in html
    assert log.signer.keyid in html
    assert "/acme/app/pull/3" in html
    assert "/audit/entries/acme/audit/2" in html  # the override
    assert "/audit/entries/acme/audit/4" in html  # the deployment that shipped it
    assert re.search(r"<dt>idempotency_key</dt><dd>acme/app#change-3</dd>", html)


def test_timeline_lists_an_environment_in_order(app: Flask) -> None:
    client = app.test_client()
    sign_in(client, "alice")
    html = client.get(
        "/audit/timeline?environment=production&since=2024-05-01&until=2024-05-01"
    ).text
    order = [html.index(f'/audit/entries/acme/audit/{i}"') for i in (0, 2, 3, 4)]
    assert order == sorted(order)
    assert "Rotate vault tokens" not in html


def test_hidden_repository_leaves_no_trace(app: Flask) -> None:
    client = app.test_client()
    sign_in(client, "bob")
    asked = client.get("/audit/?repo=acme/secret").text
    assert "No entry matches these filters" in asked and "vault" not in asked
    pages = [
        client.get("/audit/").text,
        client.get("/audit/timeline?environment=vault-prod").text,
        client.get("/audit/api/entries?limit=200").text,
        client.get("/audit/api/verification").text,
        client.get("/audit/export.csv").text,
        client.get("/audit/export.jsonl").text,
    ]
    for text in pages:
        assert (
            "acme/secret" not in text and "vault" not in text and "zanzibar" not in text
        )
    assert client.get("/audit/entries/acme/audit/1").status_code == 404
    assert client.get("/audit/api/entries/acme/audit/1").status_code == 404
    assert client.get("/audit/entries/acme/audit/999").status_code == 404


def test_tampered_log_is_flagged_on_every_page(app: Flask, audit) -> None:  # type: ignore[no-untyped-def]
    store, log, index = audit
    change(log, "acme/app", 50)
    head = store.head()
    forged = store.write(
        head, {"entries/0/0.json": store.read(head, "entries/0/1.json")}, "x"
    )
    store.advance(head, forged)
    refresh(Indexer(index), "acme/audit", store, [log.signer.public])

    client = app.test_client()
    sign_in(client, "bob")
    for path in ("/audit/", "/audit/entries/acme/audit/3", "/audit/timeline"):
        html = client.get(path).text
        assert "<title>FAILING VERIFICATION" in html
        assert 'role="alert"' in html
    assert (
        client.get("/audit/api/verification").json["logs"][0]["verification"]["ok"]
        is False
    )


def test_security_headers_and_cookie_flags(app: Flask, config) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    answer = client.get("/audit/login")
    assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_key_rotations_show_to_readers_of_any_repository_of_the_log(
    app: Flask, audit: tuple[Any, Any, Path]
) -> None:
    store, log, index = audit
    old_key = log.signer.public
    rotation = log.rotate(SigningKey.generate()).index
    refresh(Indexer(index), "acme/audit", store, [old_key])
    added = f"Signing key {log.signer.keyid[:16]} added"

    reader = app.test_client()
    sign_in(reader, "bob")
    assert added in reader.get("/audit/?kind=key").text
    page = reader.get(f"/audit/entries/acme/audit/{rotation}")
    assert page.status_code == 200 and old_key.keyid[:16] in page.text

    stranger = app.test_client()
    sign_in(stranger, "mallory")
    assert added not in stranger.get("/audit/?kind=key").text
    assert stranger.get(f"/audit/entries/acme/audit/{rotation}").status_code == 404

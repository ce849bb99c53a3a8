"""The audit browser in real Chromium: sign in on the simulator, read, verify.

Screenshots of the list and entry pages are written to artifacts/browser/.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from changebot.index import Indexer
from changebot.index.refresh import refresh
from changebot.server.browser import BrowserConfig, register_browser
from ghsim import Simulator

# NOTE: the signed-log builders are shared with tests/browser, which pytest
# does not put on sys.path when only this directory is collected.
sys.path.insert(0, str(Path(__file__).parents[1] / "browser"))
from browser_logs import change, deployment, override, signed_log  # noqa: E402

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

ARTIFACTS = Path(__file__).parents[2] / "artifacts" / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SECRET_WORD = "zanzibar"


@pytest.fixture()
def audit(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Return (store, log, index) of a verified log over acme/app and acme/secret."""
    store, log = signed_log(tmp_path / "audit")
    change(log, "acme/app", 1, title="Scale workers", areas=["terraform", "k8s"])
    change(
        log,
        "acme/secret",
        2,
        title="Rotate vault tokens",
        rationale=f"Why: {SECRET_WORD} credentials leaked",
    )
    override(log, "acme/app", 3, "Outage INC-9: reviewers asleep, <b>ship</b> it")
    change(log, "acme/app", 3, bypassed=True, override=2, areas=["workflows"])
    deployment(log, "acme/app", "production", [1, 3])
    deployment(log, "acme/app", "production", [3], kind="rollback")
    index = tmp_path / "index.sqlite3"
    refresh(Indexer(index), "acme/audit", store, [log.signer.public])
    return store, log, index


@pytest.fixture()
def site(simulator: Simulator, audit, tmp_path: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Serve the audit browser over HTTP; return its base URL."""
    admin = simulator.client("acme-admin")
    for name in ("app", "secret"):
        admin.post("/orgs/acme/repos", json={"name": name, "private": True})
    for repo, login in (("app", "alice"), ("secret", "alice"), ("app", "bob")):
        admin.put(
            f"/repos/acme/{repo}/collaborators/{login}", json={"permission": "pull"}
        )

    app = Flask("changebot-e2e")
    register_browser(
        app,
        BrowserConfig(
            index_path=audit[2],
            sessions_path=tmp_path / "sessions.sqlite3",
            client_id=simulator.app["client_id"],
            client_secret=simulator.app["client_secret"],
            github_web=simulator.base_url,
            github_api=simulator.base_url,
        ),
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture()
def chromium() -> Iterator[object]:
    """Launch Debian's Chromium headless."""
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def sign_in(chromium, site: str, login: str):  # type: ignore[no-untyped-def]
    """Open a fresh browser context and sign in as ``login`` on the simulator."""
    page = chromium.new_context(viewport={"width": 1200, "height": 900}).new_page()
    page.goto(f"{site}/audit/")
    page.get_by_label("Login").fill(login)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{site}/audit/")
    return page


def test_reader_filters_opens_an_entry_and_sees_its_proof(chromium, site: str) -> None:  # type: ignore[no-untyped-def]
    page = sign_in(chromium, site, "alice")
    expect = playwright.expect
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_contain_text("alice")
    expect(page.locator("table.entries tbody tr")).to_have_count(6)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "list.png"), full_page=True)

    page.get_by_label("Kind").select_option("change")
    page.get_by_label("Area").select_option("workflows")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.entries tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("bypassed")
    expect(rows.first).to_contain_text("overridden")

    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Entry 3")
    expect(page.locator("#proof-status")).to_contain_text("Verified")
    expect(page.get_by_role("link", name="Entry 2")).to_be_visible()  # the override
    page.screenshot(path=str(ARTIFACTS / "entry.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "entry-phone.png"), full_page=True)


def test_timeline_of_an_environment(chromium, site: str) -> None:  # type: ignore[no-untyped-def]
    page = sign_in(chromium, site, "alice")
    page.get_by_role("link", name="Timeline").click()
    page.get_by_label("Environment", exact=True).select_option("production")
    page.get_by_label("From (date, UTC)").fill("2024-05-01")
    page.get_by_label("To (date, UTC)").fill("2024-05-01")
    page.get_by_role("button", name="Show").click()
    events = page.locator("ol.timeline > li")
    playwright.expect(events).to_have_count(5)
    kinds = [events.nth(i).locator(".kind").first.inner_text() for i in range(5)]
    assert kinds == ["change", "override", "change", "deployment", "rollback"]
    page.screenshot(path=str(ARTIFACTS / "timeline.png"), full_page=True)


def test_reader_without_access_sees_no_trace(chromium, site: str) -> None:  # type: ignore[no-untyped-def]
    page = sign_in(chromium, site, "bob")
    html = page.content()
    assert "acme/secret" not in html and SECRET_WORD not in html
    options = page.get_by_label("Repository").locator("option").all_inner_texts()
    assert options == ["Any", "acme/app"]

    api = page.request.get(f"{site}/audit/api/entries?limit=200")
    assert api.ok and "acme/secret" not in api.text()
    hidden = page.request.get(f"{site}/audit/api/entries/acme/audit/1")
    assert hidden.status == 404
    page.goto(f"{site}/audit/entries/acme/audit/1")
    playwright.expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    exported = page.request.get(f"{site}/audit/export.csv").text()
    assert SECRET_WORD not in exported and "acme/secret" not in exported


def test_tampered_log_is_impossible_to_miss(chromium, site: str, audit) -> None:  # type: ignore[no-untyped-def]
    store, log, index = audit
    head = store.head()
    forged = store.write(
        head, {"entries/0/3.json": store.read(head, "entries/0/0.json")}, "x"
    )
    store.advance(head, forged)
    refresh(Indexer(index), "acme/audit", store, [log.signer.public])

    page = sign_in(chromium, site, "alice")
    assert page.title().startswith("FAILING VERIFICATION")
    banner = page.get_by_role("alert")
    playwright.expect(banner).to_contain_text("failed verification")
    playwright.expect(banner).to_contain_text("Entry 3")
    page.screenshot(path=str(ARTIFACTS / "tampered.png"), full_page=True)

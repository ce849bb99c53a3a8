"""`changebot demo` without --no-serve: the audit browser stays up until Ctrl-C."""

from __future__ import annotations

import os
import re
import signal

import pytest
import requests

playwright = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"


def _address(lines: list[str], label: str) -> str:
    for line in lines:
        found = re.match(rf"\s+{label}\s+(\S+)", line)
        if found:
            return found.group(1)
    raise AssertionError(f"no {label} address in:\n{''.join(lines)}")


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's Chromium")
def test_the_audit_browser_shows_the_story_until_ctrl_c(demo_runs) -> None:
    run = demo_runs["serve"]
    lines = run.read_until("Verify the log yourself")
    server = run.process
    browser_url = _address(lines, "audit browser")
    app_url = browser_url.removesuffix("/audit/")

    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--headless=new"]
        )
        page = chromium.new_page()
        page.goto(browser_url)
        page.get_by_label("Login").fill("pat")
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(browser_url)
        listed = page.inner_text("main")
        chromium.close()

    server.send_signal(signal.SIGINT)
    server.wait(timeout=60)
    rest = run.output.read_text()

    assert "Scale the web pool to 6" in listed
    assert "Rollback of" in listed and "Override refused" in listed
    assert server.returncode == 0, rest
    assert "Stopped." in rest
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{app_url}/healthz", timeout=2)

"""Paths that try to leave the audit browser's index, or reach another
repository's entries, through the pages, the API and the static files.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from reliability.host import RATIONALE, REPO, AppHost, browser, sign_in

pytestmark = pytest.mark.e2e

PATHS = [
    "/audit/entries/acme/infra/0/../../../../../etc/passwd",
    "/audit/entries/..%252f..%252fetc/passwd/0",
    "/audit/entries/acme/infra%5c..%5c..%5csecret/0",
    "/audit/entries/acme/infra%00/0",
    "/audit/entries/acme/..%2fsecret/0",
    "/audit/entries/acme/infra/99999999999999999999999",
    "/audit/api/entries/acme/..%2F..%2Fsecret/0",
    "/audit/api/entries/acme/infra/0%2F..%2F..%2F1",
    "/audit/static/..%5c..%5c__init__.py",
    "/audit/static/%2e%2e%2f%2e%2e%2fsessions.sqlite3",
    "/audit/static/\uff0e\uff0e/\uff0e\uff0e/index.sqlite3",
    "/audit/static//etc/passwd",
    "/audit/static/browser.css/../../../views.py",
]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from seeding import seed

    from ghsim import Simulator

    root = tmp_path_factory.mktemp("traversal")
    with Simulator(root / "github") as simulator:
        host = AppHost(simulator, root / "app")
        infra = seed(simulator)
        host.listen()
        number = infra.open_pull("tf", {"infra/main.tf": "# x\n"}, body=RATIONALE)
        infra.review(number, "pat")
        infra.merge(number, login="paula")
        host.work()
        web = browser(host, root)
        sign_in(web, "dev")
        yield web


@pytest.mark.parametrize("path", PATHS)
def test_a_path_outside_the_index_is_refused_without_a_trace(client, path):
    answer = client.get(path)

    if answer.status_code == 308:
        # NOTE: Werkzeug merges doubled slashes by redirecting, within /audit.
        target = urlsplit(answer.headers["Location"])
        assert (target.netloc, target.path[:14]) == ("localhost", "/audit/static/")
        answer = client.get(target.path)
    assert answer.status_code in (400, 403, 404), answer.status_code
    body = answer.get_data()
    for trace in (b"root:", b"SQLite format", b"PRIVATE KEY", b"import ", b"Traceback"):
        assert trace not in body


def test_the_entry_itself_is_served(client):
    assert client.get(f"/audit/entries/{REPO}/0").status_code == 200
    assert client.get(f"/audit/api/entries/{REPO}/0").status_code == 200

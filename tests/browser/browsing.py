"""Steps a reader takes in the audit browser, shared by its tests."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from flask.testing import FlaskClient

XSS = "<script>alert('owned')</script> **bold** [click](javascript:alert(1))"


def sign_in(client: FlaskClient, login: str) -> None:
    """Go through the OAuth web flow as ``login``, as a browser would."""
    start = client.get("/audit/login?next=/audit/")
    assert start.status_code == 302
    authorize = requests.get(
        start.headers["Location"] + f"&login={login}", allow_redirects=False, timeout=10
    )
    callback = urlsplit(authorize.headers["Location"])
    done = client.get(f"{callback.path}?{callback.query}")
    assert done.status_code == 302, done.text
    assert done.headers["Location"] == "/audit/"

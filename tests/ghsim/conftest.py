"""Every answer the simulator gives in these tests must match GitHub's schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openapi import OpenAPI

from ghsim import Simulator


@pytest.fixture(autouse=True)
def answers_match_github(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test, check the answers whose status GitHub documents."""
    if "simulator" not in request.fixturenames:
        yield
        return
    simulator: Simulator = request.getfixturevalue("simulator")
    yield
    spec = OpenAPI.load()
    failures = []
    for ex in simulator.exchanges():
        try:
            op = spec.operation(ex.method, ex.path)
        except KeyError:
            continue  # `/_sim`, OAuth and web pages are not REST operations
        if str(ex.status) not in op.spec["responses"]:
            continue
        try:
            spec.validate_response(ex.method, ex.path, ex.status, ex.response)
        except Exception as err:  # noqa: BLE001 - report every mismatch
            failures.append(f"{ex.method} {ex.path} {ex.status}: {err}"[:400])
    assert failures == [], "\n".join(failures)

"""Finding CODEOWNERS at each new base commit, calls counted at the simulator."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from seeding import SeededRepo

from changebot.adapters.github import GitHubForge
from ghsim import Simulator

REPO = "acme/infra"
ROOT_OWNERS = "/infra/ @acme/platform\n/.github/ @acme/security\n"
Find = Callable[[], tuple[str | None, list[str]]]


@pytest.fixture
def forge(simulator: Simulator) -> GitHubForge:
    app = simulator.app
    return GitHubForge.for_app(
        app_id=app["id"], private_key=app["private_key"], base_url=simulator.base_url
    )


@pytest.fixture
def find(forge: GitHubForge, simulator: Simulator, seeded_repo: SeededRepo) -> Find:
    """Return a reader of CODEOWNERS at the tip of main, with its repo calls."""
    forge.default_branch(REPO)  # the installation token, as a worker has it

    def at_main() -> tuple[str | None, list[str]]:
        head = seeded_repo.head()
        before = len(simulator.exchanges())
        text = forge.codeowners(REPO, head)
        calls = [
            f"{ex.method} {ex.path.split('?')[0].removeprefix(f'/repos/{REPO}/')}"
            for ex in simulator.exchanges()[before:]
            if ex.path.startswith("/repos/")
        ]
        return text, calls

    return at_main


def test_a_repo_seen_before_costs_one_listing_per_new_base(
    find: Find, seeded_repo: SeededRepo
) -> None:
    first = find()
    seeded_repo.commit("main", {"README.md": "# two\n"})
    second = find()
    seeded_repo.commit("main", {"README.md": "# three\n"})
    third = find()

    assert first == (
        ROOT_OWNERS,
        ["GET contents/.github/CODEOWNERS", "GET contents/CODEOWNERS"],
    )
    assert second[0] == third[0] == ROOT_OWNERS
    assert second[1][0].startswith("GET git/trees/")
    assert second[1][1:] == ["GET contents/.github/CODEOWNERS"]
    assert len(third[1]) == 1 and third[1][0].startswith("GET git/trees/")


def test_the_same_base_costs_nothing(find: Find) -> None:
    find()

    assert find() == (ROOT_OWNERS, [])


def test_a_file_added_to_github_dir_later_takes_precedence(
    find: Find, seeded_repo: SeededRepo
) -> None:
    find()
    seeded_repo.commit("main", {"README.md": "# two\n"})
    find()
    seeded_repo.commit("main", {".github/CODEOWNERS": "* @acme/security\n"})

    text, calls = find()

    assert text == "* @acme/security\n"
    assert calls[1:] == ["GET contents/.github/CODEOWNERS"]


def test_an_edited_file_is_read_again_and_a_removed_one_is_gone(
    find: Find, seeded_repo: SeededRepo
) -> None:
    find()
    seeded_repo.commit("main", {"CODEOWNERS": "* @acme/platform\n"})
    edited, calls = find()
    seeded_repo.commit("main", {"CODEOWNERS": None})
    removed = find()

    assert edited == "* @acme/platform\n"
    assert any(c.startswith("GET git/blobs/") for c in calls)
    assert removed[0] is None


def test_a_file_in_github_dir_costs_one_call_per_new_base(
    find: Find, seeded_repo: SeededRepo
) -> None:
    seeded_repo.commit(
        "main", {".github/CODEOWNERS": "* @acme/security\n", "CODEOWNERS": None}
    )
    find()
    seeded_repo.commit("main", {".github/workflows/ci.yml": "name: ci2\n"})

    assert find() == ("* @acme/security\n", ["GET contents/.github/CODEOWNERS"])

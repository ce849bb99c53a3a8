"""Who may run a verb."""

from __future__ import annotations

from changebot.commands import Asker, allows, principals
from changebot.commands.permissions import at_least, principal

TEAMS = {("acme", "sre-leads"): frozenset({"lee"})}


def members(org: str, slug: str) -> frozenset[str]:
    return TEAMS.get((org, slug), frozenset())


def test_principals_read_permissions_teams_and_users() -> None:
    read = principals(["write", "role:Admin", "team:sre-leads", "user:Lee"], "acme")
    assert [str(p) for p in read] == [
        "write",
        "admin",
        "team:acme/sre-leads",
        "user:lee",
    ]
    assert str(principal("team:other/ops", "acme")) == "team:other/ops"


def test_a_permission_includes_everyone_above_it() -> None:
    assert at_least("admin", "write")
    assert at_least("write", "write")
    assert not at_least("triage", "write")
    assert not at_least("none", "read")
    assert not at_least("admin", "owner")


def test_teams_and_users_match_by_login_whatever_the_case() -> None:
    allowed = principals(["team:sre-leads", "user:Ops-Bob"], "acme")
    assert allows(allowed, Asker("LEE", "read"), members)
    assert allows(allowed, Asker("ops-bob", "none"), members)
    assert not allows(allowed, Asker("dev", "admin"), members)


def test_nobody_is_allowed_by_an_empty_list() -> None:
    assert not allows((), Asker("admin", "admin"), members)


def test_teams_are_looked_up_only_when_nothing_cheaper_matched() -> None:
    asked: list[tuple[str, str]] = []

    def counting(org: str, slug: str) -> frozenset[str]:
        asked.append((org, slug))
        return members(org, slug)

    allowed = principals(["team:sre-leads", "write"], "acme")
    assert allows(allowed, Asker("dev", "write"), counting)
    assert asked == []
    assert allows(allowed, Asker("lee", "read"), counting)
    assert asked == [("acme", "sre-leads")]

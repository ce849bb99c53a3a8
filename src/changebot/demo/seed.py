"""The demo's organization: people, teams, and an infrastructure repository.

Everything is made through GitHub's own endpoints, before the App listens,
as if the organization had existed before it installed changebot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import requests

from changebot.demo.people import Person

log = logging.getLogger(__name__)

ORG = "acme"
REPO = f"{ORG}/infra"
ADMIN = "admin"
#: team -> members. `sre-leads` may override a failing check.
TEAMS = {"platform": ("pat", "paula"), "security": ("sam",), "sre-leads": ("olga",)}
#: Writes to the repository without being on a team.
DEVELOPER = "dev"
ENVIRONMENTS = ("staging", "production")

POLICY = """\
# What changebot enforces in acme/infra (read from main, never from a PR).
areas:
  terraform:
    paths: ["infra/**/*.tf"]
    reviewers: {count: 1, teams: [platform]}
  kubernetes:
    paths: ["k8s/**"]
    reviewers: {count: 1, teams: [platform]}
  workflows:
    paths: [".github/workflows/**"]
    reviewers: {count: 1, teams: [security]}
codeowners: true
rationale:
  sections: [Why, Risk, Rollback plan]
  min_words: 15
approvals:
  invalidate_on_push: true
  exclude_committers: true
overrides:
  allowed: ["team:acme/sre-leads"]
  min_words: 5
deployments:
  staging: {notify_pr: true}
  production: {slack: "#deploys"}
"""


def vpc(cidr: str) -> str:
    """Return infra/network.tf with the VPC's address range."""
    return f'resource "aws_vpc" "main" {{\n  cidr_block = "{cidr}"\n}}\n'


FILES = {
    "README.md": "# infra\n\nacme's infrastructure: Terraform, Kubernetes, CI.\n",
    "infra/main.tf": (
        'resource "aws_eks_node_group" "web" {\n'
        '  cluster_name    = "acme"\n'
        '  node_group_name = "web"\n'
        "  scaling_config {\n"
        "    desired_size = 3\n"
        "    max_size     = 6\n"
        "    min_size     = 3\n"
        "  }\n"
        "}\n"
    ),
    "infra/network.tf": vpc("10.0.0.0/16"),
    "k8s/web/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
        "spec:\n  replicas: 3\n"
    ),
    ".github/workflows/deploy.yml": (
        "name: deploy\non:\n  push:\n    branches: [main]\npermissions: {}\njobs: {}\n"
    ),
    "CODEOWNERS": (
        "/infra/ @acme/platform\n/k8s/ @acme/platform\n/.github/ @acme/security\n"
    ),
    ".changebot.yml": POLICY,
}


@dataclass(frozen=True)
class Cast:
    """The people of the story, each with a session on the simulator."""

    admin: Person
    dev: Person
    pat: Person
    paula: Person
    sam: Person
    olga: Person


def seed(session_of: Callable[[str], requests.Session]) -> Cast:
    """Create the org, its teams and members, and the repository; return the cast."""
    cast = Cast(
        *(
            Person(session_of(login), login, REPO)
            for login in (ADMIN, DEVELOPER, "pat", "paula", "sam", "olga")
        )
    )
    admin = cast.admin
    admin.call("POST", f"/orgs/{ORG}/repos", json={"name": "infra", "auto_init": True})
    live = admin.push("main", FILES, "Describe the infrastructure")
    for team, members in TEAMS.items():
        _team(admin, team, members)
    admin.call(
        "PUT",
        f"/repos/{REPO}/collaborators/{DEVELOPER}",
        json={"permission": "push"},
    )
    for environment in ENVIRONMENTS:
        admin.deploy(live, environment, "live before changebot was installed")
    log.info("demo seeded", extra={"repo": REPO, "live": live})
    return cast


def _team(admin: Person, team: str, members: tuple[str, ...]) -> None:
    admin.call("POST", f"/orgs/{ORG}/teams", json={"name": team})
    for login in members:
        admin.call("PUT", f"/orgs/{ORG}/teams/{team}/memberships/{login}", json={})
    admin.call(
        "PUT",
        f"/orgs/{ORG}/teams/{team}/repos/{REPO}",
        json={"permission": "push"},
    )

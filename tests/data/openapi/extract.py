"""Extract the operations and webhooks the simulator serves from GitHub's descriptions.

Usage (from the repository root):

    cd /tmp && npm pack @octokit/openapi @octokit/openapi-webhooks
    mkdir -p rest hooks
    tar xzf octokit-openapi-[0-9]*.tgz -C rest
    tar xzf octokit-openapi-webhooks-*.tgz -C hooks
    .venv/bin/python tests/data/openapi/extract.py /tmp/rest/package /tmp/hooks/package

It writes `rest.json` and `webhooks.json` beside itself: only the operations
whose paths the simulator routes, only the webhook payloads it sends, and
only the component schemas those reach, with descriptions and examples
dropped. OpenAPI 3.0's `nullable` is rewritten as JSON Schema's `null` type
so that `jsonschema` reads both files the same way. Each file records the
npm package and version it came from.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
DESCRIPTION = "generated/api.github.com.json"
METHODS = ("get", "put", "post", "patch", "delete")
DROP = {
    "description",
    "examples",
    "example",
    "summary",
    "externalDocs",
    "x-github",
    "x-octokit",
    "title",
}

#: The webhook payloads the simulator sends: (event, action or None).
WEBHOOKS = [
    ("pull_request", "opened"),
    ("pull_request", "synchronize"),
    ("pull_request", "edited"),
    ("pull_request", "closed"),
    ("pull_request", "reopened"),
    ("pull_request", "ready_for_review"),
    ("pull_request", "converted_to_draft"),
    ("pull_request", "labeled"),
    ("pull_request", "unlabeled"),
    ("pull_request_review", "submitted"),
    ("pull_request_review", "dismissed"),
    ("issue_comment", "created"),
    ("issue_comment", "edited"),
    ("push", None),
    ("deployment", "created"),
    ("deployment_status", "created"),
    ("deployment_protection_rule", "requested"),
    ("installation", "created"),
    ("installation_repositories", "added"),
    ("branch_protection_rule", "created"),
    ("branch_protection_rule", "edited"),
    ("branch_protection_rule", "deleted"),
    ("member", "added"),
    ("member", "removed"),
]


def served_paths() -> set[str]:
    """Return the simulator's routes with parameters blanked, e.g. `/repos/{}/{}`."""
    sys.path.insert(0, str(HERE.parents[2] / "src"))
    import ghsim.simulator  # noqa: F401 - registers every route
    from ghsim.routing import ROUTES

    return {f"{r.method} {_blank(r.rule)}" for r in ROUTES}


def _blank(path: str) -> str:
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path).rstrip("/")


def _clean(node: Any, nullable_aware: bool) -> Any:
    """Drop prose, and rewrite `nullable: true` as a `null` type."""
    if isinstance(node, list):
        return [_clean(item, nullable_aware) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        k: _clean(v, nullable_aware)
        for k, v in node.items()
        if k not in DROP or (k == "title" and not isinstance(v, str))
    }
    if nullable_aware and out.pop("nullable", False):
        out = _allow_null(out)
    return out


def _allow_null(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str) and "enum" not in schema:
        return schema | {"type": [kind, "null"]}
    if isinstance(kind, str):
        return schema | {"type": [kind, "null"], "enum": [*schema["enum"], None]}
    return {"anyOf": [schema, {"type": "null"}]}


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for item in node:
            _refs(item, found)


def _closure(document: dict[str, Any], roots: Any) -> dict[str, Any]:
    """Return the components reachable from ``roots``, as {section: {name: node}}."""
    wanted: set[str] = set()
    _refs(roots, wanted)
    components: dict[str, dict[str, Any]] = {}
    while wanted:
        ref = wanted.pop()
        _, _, section, name = ref.split("/", 3)
        if name in components.get(section, {}):
            continue
        node = document["components"][section][name]
        components.setdefault(section, {})[name] = node
        _refs(node, wanted)
    return components


def _errata(operations: dict[str, Any]) -> None:
    """Fix the published description where no real answer could satisfy it.

    NOTE: `GET /app/installations` inlines the installation's `account` as
    `allOf` [user, enterprise] where the `installation` component (and
    GitHub's answers) say `anyOf`.
    """
    answer = operations["GET /app/installations"]["responses"]["200"]
    items = answer["content"]["application/json"]["schema"]["items"]
    for choice in items["properties"]["account"]["anyOf"]:
        if "allOf" in choice:
            choice["anyOf"] = choice.pop("allOf")


def extract_rest(package: Path) -> dict[str, Any]:
    """Return the operations the simulator serves, with the schemas they use."""
    document = json.loads((package / DESCRIPTION).read_text())
    served = served_paths()
    operations: dict[str, Any] = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if operation and f"{method.upper()} {_blank(path)}" in served:
                operations[f"{method.upper()} {path}"] = {
                    "operationId": operation["operationId"],
                    "parameters": operation.get("parameters", []),
                    "requestBody": operation.get("requestBody"),
                    "responses": operation.get("responses", {}),
                }
    operations = _clean(operations, nullable_aware=True)
    _errata(operations)
    components = _clean(_closure(document, operations), nullable_aware=True)
    return {
        "source": _source(package),
        "operations": operations,
        "components": components,
    }


def extract_webhooks(package: Path) -> dict[str, Any]:
    """Return the payload schemas of the webhooks the simulator sends."""
    document = json.loads((package / DESCRIPTION).read_text())
    payloads: dict[str, Any] = {}
    for event, action in WEBHOOKS:
        key = event.replace("_", "-") + (
            f"-{action.replace('_', '-')}" if action else ""
        )
        post = document["webhooks"][key]["post"]
        schema = post["requestBody"]["content"]["application/json"]["schema"]
        payloads[f"{event}.{action}" if action else event] = schema
    components = _clean(_closure(document, payloads), nullable_aware=False)
    return {"source": _source(package), "webhooks": payloads, "components": components}


def _source(package: Path) -> dict[str, str]:
    meta = json.loads((package / "package.json").read_text())
    return {"package": meta["name"], "version": meta["version"], "file": DESCRIPTION}


def main(rest_package: str, hooks_package: str) -> None:
    """Write rest.json and webhooks.json beside this script."""
    for name, extracted in (
        ("rest.json", extract_rest(Path(rest_package))),
        ("webhooks.json", extract_webhooks(Path(hooks_package))),
    ):
        text = json.dumps(extracted, sort_keys=True, separators=(",", ":"))
        (HERE / name).write_text(text + "\n")
        print(f"{name}: {len(text) // 1024} KiB from {extracted['source']}")


if __name__ == "__main__":
    main(*sys.argv[1:3])

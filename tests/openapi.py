"""GitHub's published schemas for the operations and webhooks the simulator serves.

The schemas come from `tests/data/openapi/` (see `extract.py` there for their
source package and version). Look an operation up by method and a concrete
path (`/repos/acme/infra/git/refs/heads/changebot%2Faudit`) or a template
(`/repos/{owner}/{repo}/pulls`), then validate a request body, a response
body or a webhook payload; each `validate_*` raises
`jsonschema.ValidationError` on a mismatch.

    from openapi import OpenAPI            # tests/ is on sys.path
    spec = OpenAPI.load()                  # or the `openapi` fixture
    spec.validate_request("POST", "/repos/acme/infra/check-runs", body)
    spec.validate_response("GET", url_path, 200, answer.json())
    spec.validate_webhook("pull_request", payload)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DATA = Path(__file__).parent / "data" / "openapi"
REST_URI = "urn:github:rest"
HOOKS_URI = "urn:github:webhooks"
JSON = "application/json"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class Operation:
    """One REST operation of GitHub's description."""

    method: str
    template: str
    operation_id: str
    spec: dict[str, Any]


class OpenAPI:
    """The extracted REST operations and webhook payloads, ready to validate against."""

    def __init__(self, rest: dict[str, Any], hooks: dict[str, Any]) -> None:
        self.rest, self.hooks = rest, hooks
        self.source = {"rest": rest["source"], "webhooks": hooks["source"]}
        self.registry: Registry[Any] = Registry().with_resources(
            [
                (REST_URI, Resource(contents=rest, specification=DRAFT202012)),
                (HOOKS_URI, Resource(contents=hooks, specification=DRAFT202012)),
            ]
        )
        self._validators: dict[str, jsonschema.Draft202012Validator] = {}
        self._patterns = [
            (_pattern(key.split(" ", 1)[1]), key) for key in rest["operations"]
        ]

    @classmethod
    @cache
    def load(cls) -> OpenAPI:
        """Read the extracted files once per process."""
        rest = json.loads((DATA / "rest.json").read_text())
        hooks = json.loads((DATA / "webhooks.json").read_text())
        return cls(rest, hooks)

    # --- lookup ------------------------------------------------------------------

    def operation(self, method: str, path: str) -> Operation:
        """Return the operation a method and a path (or URL) name; KeyError if none."""
        method = method.upper()
        raw = urlsplit(path).path
        key = f"{method} {raw}"
        if key not in self.rest["operations"]:
            key = self._match(method, raw)
        return Operation(
            method,
            key.split(" ", 1)[1],
            self.rest["operations"][key]["operationId"],
            self.rest["operations"][key],
        )

    def _match(self, method: str, raw: str) -> str:
        # NOTE: match on the path as sent, so `heads%2Fx` is one segment; prefer
        # the template with the most literal segments (`commits/{ref}/pulls`
        # over `commits/{ref}`).
        raw = raw.removeprefix("/api/v3")
        found = [
            key
            for pattern, key in self._patterns
            if key.startswith(method + " ") and pattern.fullmatch(raw)
        ]
        if not found:
            found = [
                key
                for pattern, key in self._patterns
                if key.startswith(method + " ") and pattern.fullmatch(unquote(raw))
            ]
        if not found:
            raise KeyError(f"{method} {raw} is not an operation of GitHub's REST API")
        return max(found, key=lambda k: (len(re.sub(r"\{[^}]+\}", "", k)), -len(k)))

    # --- validation --------------------------------------------------------------

    def validate_request(self, method: str, path: str, body: Any) -> Operation:
        """Check a JSON request body against the operation's schema."""
        op = self.operation(method, path)
        pointer = f"/operations/{_escape(f'{op.method} {op.template}')}/requestBody"
        node = self._follow(self.rest, pointer)
        if node is None:
            if body not in (None, {}, b"", ""):
                raise jsonschema.ValidationError(f"{op.operation_id} takes no body")
            return op
        self._check(REST_URI, f"{node}/content/{_escape(JSON)}/schema", body)
        return op

    def validate_response(
        self, method: str, path: str, status: int, body: Any
    ) -> Operation:
        """Check a response body against the schema of its status code."""
        op = self.operation(method, path)
        responses = op.spec["responses"]
        code = str(status) if str(status) in responses else "default"
        if code not in responses:
            raise jsonschema.ValidationError(
                f"{op.operation_id} documents no {status} answer: {sorted(responses)}"
            )
        base = f"/operations/{_escape(f'{op.method} {op.template}')}/responses/{code}"
        node = self._follow(self.rest, base)
        content = (_resolve_pointer(self.rest, node or base) or {}).get("content", {})
        if JSON in content and "schema" in content[JSON]:
            self._check(REST_URI, f"{node}/content/{_escape(JSON)}/schema", body)
        return op

    def validate_webhook(self, event: str, payload: dict[str, Any]) -> str:
        """Check a webhook payload against the schema of its event and action."""
        key = f"{event}.{payload['action']}" if "action" in payload else event
        if key not in self.hooks["webhooks"]:
            raise KeyError(f"no schema extracted for webhook {key}")
        self._check(HOOKS_URI, f"/webhooks/{_escape(key)}", payload)
        return key

    def _check(self, uri: str, pointer: str, instance: Any) -> None:
        key = f"{uri}#{pointer}"
        validator = self._validators.get(key)
        if validator is None:
            validator = self._validators[key] = jsonschema.Draft202012Validator(
                {"$ref": key},
                registry=self.registry,
                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
            )
        error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error

    @staticmethod
    def _follow(document: dict[str, Any], pointer: str) -> str | None:
        """Return the pointer of the node at ``pointer`` after its `$ref`s, or None."""
        node = _resolve_pointer(document, pointer)
        while isinstance(node, dict) and "$ref" in node:
            pointer = node["$ref"].removeprefix("#")
            node = _resolve_pointer(document, pointer)
        return None if node is None else pointer


def _resolve_pointer(document: Any, pointer: str) -> Any:
    node = document
    for token in pointer.strip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or token not in node:
            return None
        node = node[token]
    return node


def _pattern(template: str) -> re.Pattern[str]:
    """Turn `/repos/{owner}/{repo}/git/refs/{ref}` into a regex.

    `{ref}`, `{path}`, `{basehead}` and `{branch}` may span several segments,
    as GitHub allows.
    """
    parts = re.split(r"(\{[^}]+\})", template)
    regex = ""
    for part in parts:
        if part.startswith("{"):
            multi = part in ("{ref}", "{path}", "{basehead}", "{branch}")
            regex += "(.+?)" if multi else "([^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(regex)

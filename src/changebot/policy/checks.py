"""The checks a `.changebot.yml` must pass: its schema, then its meaning.

The JSON Schema settles shapes and spellings. What it cannot settle is
checked here: path patterns that do not compile or would cost too much to
match, a ticket expression that could take exponential time, reviewer counts
that the listed reviewers can never reach, routes to areas that do not exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from changebot.errors import ConfigProblem
from changebot.policy.patterns import pattern_problem
from changebot.policy.source import Document, KeyPath, key_path

MAX_REGEX_LENGTH = 200
#: Each repetition that can overlap another multiplies the backtracking a
#: crafted word can cause: two keep it polynomial and small, three do not.
MAX_REPETITIONS = 2


def schema_problems(document: Document, schema: dict[str, Any]) -> list[ConfigProblem]:
    """Return the places where ``document`` breaks ``schema``."""
    validator = Draft202012Validator(schema)
    problems = [
        _problem(document, path, message)
        for error in validator.iter_errors(document.data)
        for path, message in _explain(error)
    ]
    problems += [
        _problem(document, path, "given twice; only the last one would count")
        for path in document.duplicates
    ]
    return problems


def semantic_problems(document: Document) -> list[ConfigProblem]:
    """Return what is wrong with a document that already fits the schema."""
    data = document.data
    found = [*_area_problems(data), *_rationale_problems(data), *_route_problems(data)]
    return [_problem(document, path, message) for path, message in found]


def regex_problem(expression: str) -> str | None:
    """Say why ``expression`` is unsafe or invalid as a ticket pattern, or None."""
    if len(expression) > MAX_REGEX_LENGTH:
        return f"longer than {MAX_REGEX_LENGTH} characters"
    try:
        compiled = re.compile(expression)
    except re.error as err:
        return f"not a valid regular expression ({err})"
    if compiled.fullmatch(""):
        return "it matches an empty text, so it would find a ticket everywhere"
    if _nested_repetition(expression):
        return (
            "a repeated group contains another repetition or alternative, "
            "which can take exponential time; write it without nesting"
        )
    if _repetitions(expression) > MAX_REPETITIONS:
        return (
            f"more than {MAX_REPETITIONS} repetitions (*, +, {{m,n}}) can take "
            "a long time on a crafted word; use at most two"
        )
    return None


# --- schema errors in plain words ------------------------------------------


def _explain(error: ValidationError) -> Iterator[tuple[KeyPath, str]]:
    path: KeyPath = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(_properties(error))
        for key in _unexpected(error):
            hint = f"; expected one of: {', '.join(allowed)}" if allowed else ""
            yield (*path, key), f"unknown key {key!r}{hint}"
    elif error.validator == "propertyNames":
        yield (*path, str(error.instance)), f"{error.instance!r} is not allowed here"
    elif error.validator == "type":
        expected = error.validator_value
        yield path, f"must be {_types(expected)}, not {_kind(error)}"
    elif error.validator in ("oneOf", "anyOf"):
        yield path, f"{error.instance!r} is not a valid value here"
    elif error.validator == "pattern":
        yield path, f"{error.instance!r} is not in the expected form"
    else:
        yield path, error.message


def _properties(error: ValidationError) -> dict[str, Any]:
    schema = error.schema
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    return properties if isinstance(properties, dict) else {}


def _unexpected(error: ValidationError) -> list[str]:
    known = set(_properties(error))
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [str(k) for k in instance if k not in known]


def _types(value: object) -> str:
    names = (
        [value] if isinstance(value, str) else value if isinstance(value, list) else []
    )
    words = {"object": "a mapping", "array": "a list", "null": "empty"}
    return " or ".join(words.get(n, f"a {n}") for n in names)


def _kind(error: ValidationError) -> str:
    instance = error.instance
    if isinstance(instance, dict):
        return "a mapping"
    if isinstance(instance, list):
        return "a list"
    return repr(instance)


# --- meaning ----------------------------------------------------------------


def _area_problems(data: dict[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    # NOTE: these run even when the schema failed, so that every problem is
    # listed at once; anything not shaped as expected is left to the schema.
    for name, area in _mapping(data.get("areas")).items():
        paths = _mapping(area).get("paths")
        for index, pattern in enumerate(paths if isinstance(paths, list) else []):
            problem = pattern_problem(pattern) if isinstance(pattern, str) else None
            if problem:
                yield ("areas", name, "paths", index), f"{pattern!r}: {problem}"
        yield from _reviewer_problems(name, _mapping(_mapping(area).get("reviewers")))


def _reviewer_problems(
    area: str, reviewers: dict[str, Any]
) -> Iterator[tuple[KeyPath, str]]:
    count = reviewers.get("count", 1)
    users = reviewers.get("users") or []
    if not isinstance(count, int) or not isinstance(users, list):
        return
    distinct = {u.lower() for u in users if isinstance(u, str)}
    if distinct and not reviewers.get("teams") and count > len(distinct):
        yield (
            ("areas", area, "reviewers", "count"),
            f"needs {count} approvals but lists only {len(distinct)} user(s) "
            "and no team",
        )


def _rationale_problems(data: dict[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    ticket = _mapping(data.get("rationale")).get("ticket")
    if isinstance(ticket, str) and ticket:
        problem = regex_problem(ticket)
        if problem:
            yield ("rationale", "ticket"), problem


def _route_problems(data: dict[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    areas = set(_mapping(data.get("areas")))
    routes = _mapping(data.get("notify")).get("routes")
    for index, route in enumerate(routes if isinstance(routes, list) else []):
        named = _mapping(route).get("areas")
        for j, name in enumerate(named if isinstance(named, list) else []):
            if isinstance(name, str) and name not in areas:
                path = ("notify", "routes", index, "areas", j)
                yield path, f"no area is called {name!r}"


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _problem(document: Document, path: KeyPath, message: str) -> ConfigProblem:
    return ConfigProblem(message, path=key_path(path), line=document.line_of(path))


# --- regular expressions that backtrack -------------------------------------


def _nested_repetition(expression: str) -> bool:
    """Tell whether a repeated group holds a repetition or an alternation."""
    # Each open group records whether it holds a quantifier or a `|`.
    stack: list[bool] = [False]
    last_group_risky = False
    i = 0
    while i < len(expression):
        char = expression[i]
        quantified = False
        if char == "\\":
            i += 2
            last_group_risky = False
            quantified = _is_repeat(expression, i)
        elif char == "[":
            i = _class_end(expression, i)
            last_group_risky = False
            quantified = _is_repeat(expression, i)
        elif char == "(":
            stack.append(False)
            i += 1
            continue
        elif char == ")":
            last_group_risky = stack.pop() if len(stack) > 1 else False
            i += 1
            if _is_repeat(expression, i) and last_group_risky:
                return True
            quantified = _is_repeat(expression, i)
            stack[-1] = stack[-1] or last_group_risky
        elif char == "|":
            stack[-1] = True
            i += 1
            continue
        else:
            i += 1
            quantified = _is_repeat(expression, i)
        if quantified:
            stack[-1] = True
            i = _skip_quantifier(expression, i)
    return False


def _class_end(expression: str, start: int) -> int:
    i = start + 1
    if i < len(expression) and expression[i] == "^":
        i += 1
    if i < len(expression) and expression[i] == "]":
        i += 1
    while i < len(expression) and expression[i] != "]":
        i += 2 if expression[i] == "\\" else 1
    return i + 1


def _repetitions(expression: str) -> int:
    """Count the repeated atoms, classes and groups of ``expression``."""
    count, i = 0, 0
    while i < len(expression):
        if expression[i] == "\\":
            i += 2
        elif expression[i] == "[":
            i = _class_end(expression, i)
        else:
            i += 1
        if _is_repeat(expression, i):
            # NOTE: an exact count ({3}) never backtracks.
            count += not _EXACT.match(expression, i)
            i = _skip_quantifier(expression, i)
    return count


_EXACT = re.compile(r"\{\d+\}")


_REPEAT = re.compile(r"[*+]|\{\d*,\d*\}|\{\d+\}")


def _is_repeat(expression: str, at: int) -> bool:
    found = _REPEAT.match(expression, at)
    if not found:
        return False
    token = found.group()
    if token.startswith("{"):
        bounds = [int(b) if b else None for b in token.strip("{}").split(",")]
        return bounds[-1] is None or bounds[-1] > 1
    return True


def _skip_quantifier(expression: str, at: int) -> int:
    found = _REPEAT.match(expression, at)
    end = found.end() if found else at
    while end < len(expression) and expression[end] in "?+":
        end += 1
    return end

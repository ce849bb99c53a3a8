"""Read YAML that a stranger wrote, without letting it hurt the reader.

A `.changebot.yml` arrives in pull requests, so it is read as hostile input:
its size is capped, its nesting depth is capped before anything recursive
sees it, alias expansion is measured before any value is built (a "billion
laughs" document is refused, not expanded), and only plain YAML types are
constructed. Alongside the values, `Document` keeps the line of every key so
that problems can say where they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import yaml

from changebot.errors import ConfigError, ConfigProblem

MAX_BYTES = 256 * 1024
MAX_DEPTH = 32
#: The most nodes the document may have once every alias is expanded.
MAX_NODES = 50_000

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Document:
    """YAML values with the line (1-based) where each key path starts."""

    data: dict[str, Any]
    lines: dict[KeyPath, int]
    #: Keys given twice in one mapping (YAML would silently keep the last).
    duplicates: tuple[KeyPath, ...] = ()

    def line_of(self, path: KeyPath) -> int | None:
        """Return the line of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


def read_document(text: str) -> Document:
    """Parse ``text`` as one YAML mapping; raise ConfigError when unsafe or wrong."""
    _check_size(text)
    _check_depth(text)
    node = _compose(text)
    if node is None:
        return Document({}, {(): 1})
    _check_expansion(node)
    if not isinstance(node, yaml.MappingNode):
        _refuse("the file must be a mapping of settings (`areas:`, ...)", node)
    lines: dict[KeyPath, int] = {}
    duplicates: list[KeyPath] = []
    _collect_lines(node, (), lines, duplicates)
    return Document(_construct(node), lines, tuple(duplicates))


def key_path(path: KeyPath) -> str:
    """Spell a key path as people write it: ``areas.terraform.paths[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else part
    return out


# --- the guards -------------------------------------------------------------


def _check_size(text: str) -> None:
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_BYTES:
        _refuse(f"the file is {size} bytes; the limit is {MAX_BYTES}")


def _check_depth(text: str) -> None:
    # NOTE: PyYAML's parser is iterative but its composer recurses, so depth
    # is measured on the event stream first.
    depth = 0
    for event in _events(text):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                _refuse(f"nesting is deeper than {MAX_DEPTH} levels", event)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _events(text: str) -> Iterator[yaml.Event]:
    try:
        yield from yaml.parse(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        line = err.problem_mark.line + 1 if err.problem_mark else None
        raise ConfigError(
            "the file is not valid YAML",
            problems=[ConfigProblem(f"not valid YAML: {err.problem}", line=line)],
        ) from err
    except yaml.YAMLError as err:
        raise ConfigError(
            "the file is not valid YAML",
            problems=[ConfigProblem(f"not valid YAML: {err}")],
        ) from err


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.composer.ComposerError as err:
        line = err.problem_mark.line + 1 if err.problem_mark else None
        raise ConfigError(
            "the file is not one YAML document",
            problems=[ConfigProblem(f"not usable YAML: {err.problem}", line=line)],
        ) from err


def _check_expansion(root: yaml.Node) -> None:
    # Aliases share nodes, so the composed graph is small; what would explode
    # is walking it as a tree. Count the tree's size with memoisation.
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        total = 1
        for child in _children(node):
            total += size(child)
            if total > MAX_NODES:
                _refuse("aliases expand to too many values (a YAML bomb?)", node)
        sizes[id(node)] = total
        return total

    size(root)


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        yield from node.value
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value


def _construct(node: yaml.Node) -> dict[str, Any]:
    loader = yaml.SafeLoader("")
    try:
        data = loader.construct_document(node)
    except yaml.constructor.ConstructorError as err:
        line = err.problem_mark.line + 1 if err.problem_mark else None
        raise ConfigError(
            "the file has a value that cannot be read",
            problems=[ConfigProblem(str(err.problem), line=line)],
        ) from err
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        _refuse("the file must be a mapping of settings (`areas:`, ...)", node)
    return data


def _collect_lines(
    node: yaml.Node,
    path: KeyPath,
    lines: dict[KeyPath, int],
    duplicates: list[KeyPath],
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_lines(item, (*path, index), lines, duplicates)
    elif isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key.tag)
            if name in seen:
                duplicates.append((*path, name))
            seen.add(name)
            lines[(*path, name)] = key.start_mark.line + 1
            _collect_lines(value, (*path, name), lines, duplicates)


def _refuse(message: str, at: yaml.Node | yaml.Event | None = None) -> NoReturn:
    line = at.start_mark.line + 1 if at is not None and at.start_mark else None
    raise ConfigError(
        f"refused to read the file: {message}",
        problems=[ConfigProblem(message, line=line)],
    )

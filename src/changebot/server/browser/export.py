"""Exports of the current filter: JSON Lines and CSV, streamed.

CSV cells that a spreadsheet would run as a formula are prefixed with a
quote, so an exported rationale cannot execute on an auditor's machine.

See: https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from flask import Response, request, stream_with_context

from changebot.index import Record
from changebot.server.browser import guard, query
from changebot.server.browser.api import record_json
from changebot.server.browser.blueprint import blueprint

COLUMNS = (
    "log", "index", "time", "kind", "repo", "environment", "pr", "actor",
    "areas", "bypassed", "overridden", "rationale", "leaf",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@blueprint.get("/export.jsonl")
def export_jsonl() -> Response:
    """Stream every entry of the current filter as JSON Lines."""
    records = _records()

    def lines() -> Iterator[str]:
        for record in records:
            yield json.dumps(record_json(record), sort_keys=True) + "\n"

    return _download(lines(), "application/x-ndjson", "audit.jsonl")


@blueprint.get("/export.csv")
def export_csv() -> Response:
    """Stream every entry of the current filter as CSV."""
    records = _records()

    def lines() -> Iterator[str]:
        yield _csv_line(COLUMNS)
        for record in records:
            yield _csv_line(csv_cells(record))

    return _download(lines(), "text/csv", "audit.csv")


def csv_cells(record: Record) -> list[str]:
    """Return one entry's CSV cells, each safe to open in a spreadsheet."""
    areas = record.entry.get("areas") or []
    values = [
        record.log,
        str(record.index),
        record.time,
        record.kind,
        record.repo,
        record.environment or "",
        "" if record.pr is None else str(record.pr),
        record.actor or "",
        " ".join(str(a) for a in areas),
        "yes" if record.bypassed else "no",
        "yes" if record.overridden else "no",
        record.rationale,
        record.leaf,
    ]
    return [inert(v) for v in values]


def inert(cell: str) -> str:
    """Return ``cell`` so that no spreadsheet reads it as a formula."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _records() -> Iterator[Record]:
    wanted = query.filter_from(request.args)
    visible = guard.reader().visible
    return guard.browser().search.every(visible, wanted)


def _csv_line(cells: list[str] | tuple[str, ...]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(cells)
    return out.getvalue()


def _download(lines: Iterator[str], mimetype: str, filename: str) -> Response:
    response = Response(stream_with_context(lines), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

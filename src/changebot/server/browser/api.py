"""The JSON API under /audit/api: the pages' data, with the same filters."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, jsonify, request, url_for

from changebot.index import LogState, Record
from changebot.server.browser import guard, query
from changebot.server.browser.blueprint import blueprint
from changebot.server.browser.facts import entry_facts


@blueprint.get("/api/entries")
def api_entries() -> Response:
    """Return a page of entries matching the filter, newest first."""
    reader = guard.reader()
    found = guard.browser().search.page(
        reader.visible,
        query.filter_from(request.args),
        after=query.cursor_from(request.args),
        limit=query.limit_from(request.args),
    )
    return jsonify(
        entries=[record_json(r) for r in found.records], next=found.next_cursor
    )


@blueprint.get("/api/entries/<owner>/<name>/<int(max=9223372036854775807):index>")
def api_entry(owner: str, name: str, index: int) -> Response:
    """Return one entry with its proof, findings, links and related entries."""
    reader = guard.reader()
    search = guard.browser().search
    record = search.entry(reader.visible, query.log_name(owner, name), index)
    if record is None:
        abort(404)
    facts = entry_facts(
        search, reader.visible, record, guard.browser().config.github_web
    )
    return jsonify(
        entry=record_json(record),
        envelope=record.envelope,
        proof=None
        if facts.proof is None
        else {
            "size": facts.proof.size,
            "root": facts.proof.root,
            "leaf": facts.proof.leaf,
            "path": list(facts.proof.path),
            "checkpoint": facts.proof.checkpoint,
        },
        proof_verified=facts.proof_ok,
        findings=[{"message": f.message, "index": f.index} for f in facts.findings],
        links=[
            {"kind": ln.kind, "label": ln.label, "url": ln.url} for ln in facts.links
        ],
        related=[record_json(r) for r in facts.related],
    )


@blueprint.get("/api/timeline")
def api_timeline() -> Response:
    """Return an environment's events in a window, oldest first."""
    reader = guard.reader()
    asked = query.filter_from(request.args).environment
    search = guard.browser().search
    environment = (
        asked if asked in search.choices(reader.visible)["environment"] else ""
    )
    since, until = query.window(
        request.args.get("since", ""), request.args.get("until", "")
    )
    events = search.timeline(reader.visible, environment, since, until)
    return jsonify(
        environment=environment,
        since=since,
        until=until,
        events=[record_json(r) for r in events],
    )


@blueprint.get("/api/verification")
def api_verification() -> Response:
    """Return the last verification of every log the reader may see."""
    logs = guard.browser().search.logs(guard.reader().visible)
    return jsonify(logs=[log_json(s) for s in logs])


def record_json(record: Record) -> dict[str, Any]:
    """Return an entry as the API and the JSON Lines export show it."""
    owner, _, name = record.log.partition("/")
    return {
        "log": record.log,
        "index": record.index,
        "time": record.time,
        "kind": record.kind,
        "repo": record.repo,
        "environment": record.environment,
        "pr": record.pr,
        "actor": record.actor,
        "rationale": record.rationale,
        "bypassed": record.bypassed,
        "overridden": record.overridden,
        "leaf": record.leaf,
        "keyids": list(record.keyids),
        "entry": record.entry,
        "url": url_for("browser.entry", owner=owner, name=name, index=record.index),
    }


def log_json(state: LogState) -> dict[str, Any]:
    """Return a log's state and last verification as the API shows them."""
    result = state.verification
    return {
        "log": state.name,
        "origin": state.origin,
        "size": state.size,
        "head": state.head,
        "verification": None
        if result is None
        else {
            "checked_at": result.checked_at,
            "ok": result.ok,
            "size": result.size,
            "findings": [
                {"message": f.message, "index": f.index} for f in result.findings
            ],
        },
    }

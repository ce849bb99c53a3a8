"""The audit browser's pages: the list, an entry, an environment's timeline."""

from __future__ import annotations

import logging

from flask import Response, abort, g, request

from changebot.server.browser import guard, query
from changebot.server.browser.blueprint import blueprint, page
from changebot.server.browser.facts import entry_facts

log = logging.getLogger(__name__)


@blueprint.get("/")
def entries() -> Response:
    """Show entries newest first, filtered, a page at a time."""
    reader = guard.reader()
    wanted = query.filter_from(request.args)
    found = guard.browser().search.page(
        reader.visible,
        wanted,
        after=query.cursor_from(request.args),
        limit=query.limit_from(request.args),
    )
    return page(
        "list.html",
        reader=reader,
        wanted=wanted,
        params=query.as_query(wanted),
        page=found,
        choices=guard.browser().search.choices(reader.visible),
        paged=bool(request.args.get("after")),
    )


@blueprint.get("/entries/<owner>/<name>/<int(max=9223372036854775807):index>")
def entry(owner: str, name: str, index: int) -> Response:
    """Show one entry with its signatures, proof and related entries."""
    reader = guard.reader()
    record = guard.browser().search.entry(
        reader.visible, query.log_name(owner, name), index
    )
    if record is None:
        abort(404)
    facts = entry_facts(
        guard.browser().search,
        reader.visible,
        record,
        guard.browser().config.github_web,
    )
    return page("entry.html", reader=reader, facts=facts, record=record)


@blueprint.get("/timeline")
def timeline() -> Response:
    """Show what happened around one environment in a time window, in order."""
    reader = guard.reader()
    choices = guard.browser().search.choices(reader.visible)
    asked = request.args.get("environment", "")
    environment = asked if asked in choices["environment"] else ""
    since, until = query.window(
        request.args.get("since", ""), request.args.get("until", "")
    )
    events = []
    if environment:
        events = guard.browser().search.timeline(
            reader.visible, environment, since, until
        )
    return page(
        "timeline.html",
        reader=reader,
        environments=choices["environment"],
        environment=environment,
        since=since,
        until=until,
        events=events,
    )


@blueprint.errorhandler(query.BadRequest)
def bad_request(err: query.BadRequest) -> Response:
    """Answer a malformed parameter without echoing it back."""
    log.info("bad browser request", extra={"parameter": str(err)})
    if guard.wants_json():
        return guard.answer({"error": f"invalid parameter: {err}"}, 400)
    return page(
        "error.html",
        status=400,
        reader=g.get("reader"),
        status_code=400,
        parameter=str(err),
    )


@blueprint.errorhandler(404)
def not_found(_: Exception) -> Response:
    """Answer alike for absent and hidden entries, so neither can be told apart."""
    if guard.wants_json():
        return guard.answer({"error": "not found"}, 404)
    return page(
        "error.html", status=404, reader=g.get("reader"), status_code=404, parameter=""
    )

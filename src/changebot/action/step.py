"""One Action step, from the runner's event to its outputs and exit status.

1. Read the event and decide the tasks (`dispatch.plan`).
2. Run each task through the App's flows (`tasks`).
3. Write the outputs, the job summary and the annotations.
4. Decide the exit status from the results and the `fail_on` input.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from changebot.action.dispatch import Task, plan
from changebot.action.inputs import Inputs
from changebot.action.outputs import write_outputs
from changebot.action.services import Step
from changebot.action.summary import JobSummary, write_summary
from changebot.action.tasks import Result, run_task
from changebot.action.workflow import Annotation, Commands
from changebot.errors import ChangebotError, ForgeError
from changebot.render import render

log = logging.getLogger(__name__)

#: Exit status of a step that ran and whose verdict or verification fails.
FAILED = 1


def run_step(
    inputs: Inputs, env: Mapping[str, str], echo: Callable[[str], None]
) -> int:
    """Run the step ``inputs`` describe; return its exit status."""
    commands = Commands(echo)
    step = Step(inputs, env, commands.mask)

    # 1. what to do
    payload = inputs.event()
    chosen = plan(inputs.event_name, payload, inputs.mode)
    log.info(
        "step planned",
        extra={"event": inputs.event_name, "mode": inputs.mode, "tasks": chosen.tasks},
    )

    # 2. do it
    results = [_run(task, step, inputs, payload) for task in chosen.tasks]

    # 3. say so
    outputs: dict[str, str] = {}
    summary = JobSummary()
    if chosen.skipped:
        summary.add(chosen.skipped)
    for result in results:
        outputs |= result.outputs
        _summarize(summary, result)
        for annotation in result.annotations:
            commands.annotate(annotation)
    write_outputs(inputs.output_path, outputs)
    write_summary(inputs.summary_path, summary)

    # 4. the exit status
    failure = _failure(results, inputs.fail_on)
    if failure:
        commands.annotate(Annotation("error", failure, title="changebot"))
        return FAILED
    return 0


def _run(task: Task, step: Step, inputs: Inputs, payload: Mapping[str, Any]) -> Result:
    try:
        return run_task(task, step, inputs.event_name, payload)
    except ForgeError as err:
        if err.status not in (403, 404) or err.hint:
            raise
        raise ForgeError(
            str(err),
            hint=render("action/forbidden.txt", inputs=inputs).strip(),
            status=err.status,
        ) from err


def _summarize(summary: JobSummary, result: Result) -> None:
    for section in result.sections:
        if section.items is None:
            summary.add(section.markdown)
        else:
            summary.add_list(section.markdown, section.items, section.tail)


def _failure(results: list[Result], fail_on: str) -> str | None:
    """Return why the step fails, or None when it passes."""
    if fail_on == "never":
        return None
    for result in results:
        if result.failure:
            return result.failure
        failing = {"failure"} | ({"pending"} if fail_on == "pending" else set())
        if result.judged in failing:
            return render(
                "action/failed.txt", why="verdict", verdict=result.judged
            ).strip()
    return None


def explain(err: ChangebotError) -> Annotation:
    """Return the annotation that shows an error that stopped the step."""
    return Annotation("error", err.explain(), title="changebot could not run")

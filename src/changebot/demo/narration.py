"""The demo's narration: every line comes from `templates/demo/`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from changebot.render import render


class Narrator:
    """Tells the story through ``echo`` (click's, in the CLI)."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self._echo = echo
        self._number = 0

    def say(self, template: str, **context: Any) -> None:
        """Render ``template`` and tell it."""
        self._echo(render(template, **context).rstrip("\n"))

    def step(self, name: str, phase: str, **context: Any) -> None:
        """Tell what a step does (``act``) or what it showed (``seen``)."""
        if phase == "act":
            self._number += 1
        self.say(f"demo/steps/{name}.txt", phase=phase, chapter=self._number, **context)

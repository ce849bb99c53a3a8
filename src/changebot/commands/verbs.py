"""The verbs of `/changebot`, what each takes, and how a command can be misused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from changebot.commands.grammar import Command

Misuse = Literal["unknown", "missing-text", "unexpected-args"]


@dataclass(frozen=True)
class Verb:
    """One verb: its name, and the text it takes after it."""

    name: str
    #: What follows the verb in its usage line ("" when nothing does).
    args: str = ""

    @property
    def needs_text(self) -> bool:
        """Tell whether the verb is useless without text after it."""
        return bool(self.args)


#: Every verb, in the order help lists them.
VERBS: dict[str, Verb] = {
    verb.name: verb
    for verb in (
        Verb("help"),
        Verb("status"),
        Verb("recheck"),
        Verb("rationale", "<text>"),
        Verb("override", "<reason>"),
        Verb("receipt"),
        Verb("verify"),
    )
}


def misuse(command: Command) -> Misuse | None:
    """Return how ``command`` is misused, or None when it can run."""
    verb = VERBS.get(command.verb)
    if verb is None:
        return "unknown"
    if verb.needs_text and not command.text:
        return "missing-text"
    if not verb.needs_text and command.args:
        return "unexpected-args"
    return None


def word_count(text: str) -> int:
    """Return how many words a reason or rationale has (Markdown marks aside)."""
    return sum(1 for word in text.split() if any(c.isalnum() for c in word))

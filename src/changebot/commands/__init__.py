"""`/changebot` comment commands, pure: grammar, verbs, permissions, comments.

The use case that runs them over GitHub and the audit log is
`changebot.flows.commands`.
"""

from changebot.commands.comment import CommandComment, is_bot, read_comment
from changebot.commands.grammar import Command, parse
from changebot.commands.permissions import Asker, Principal, allows, principals
from changebot.commands.verbs import VERBS, Verb, misuse, word_count

__all__ = [
    "VERBS",
    "Asker",
    "Command",
    "CommandComment",
    "Principal",
    "Verb",
    "allows",
    "is_bot",
    "misuse",
    "parse",
    "principals",
    "read_comment",
    "word_count",
]

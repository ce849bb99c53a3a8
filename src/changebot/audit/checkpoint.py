"""Checkpoints: C2SP tlog-checkpoints signed as C2SP signed notes.

See: https://github.com/C2SP/C2SP/blob/main/tlog-checkpoint.md
See: https://github.com/C2SP/C2SP/blob/main/signed-note.md
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from changebot.audit.signing import PublicKey, SigningKey, note_key_hash
from changebot.errors import AuditError

SIGNATURE_PREFIX = "\u2014 "


@dataclass(frozen=True)
class Checkpoint:
    """The origin of a log, its size and the root hash of its tree."""

    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        """Return the checkpoint text that the note signs."""
        root = base64.b64encode(self.root).decode()
        return f"{self.origin}\n{self.size}\n{root}\n"


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a signed note."""

    name: str
    key_hash: bytes
    sig: bytes


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint read from a signed note, with the keys that signed it."""

    checkpoint: Checkpoint
    signed_by: tuple[str, ...]
    text: str


def sign(checkpoint: Checkpoint, signers: Sequence[SigningKey]) -> str:
    """Return the signed note of ``checkpoint``."""
    body = checkpoint.body()
    lines = [body, "\n"]
    for key in signers:
        blob = note_key_hash(key.name, key.public.raw) + key.sign(body.encode())
        lines.append(
            f"{SIGNATURE_PREFIX}{key.name} {base64.b64encode(blob).decode()}\n"
        )
    return "".join(lines)


def open_note(text: str, keys: Iterable[PublicKey]) -> SignedCheckpoint:
    """Parse a signed checkpoint and tell which of ``keys`` signed it."""
    body, signatures = parse_note(text)
    checkpoint = parse_body(body)
    signed_by = tuple(
        key.keyid for key in keys if _signed(key, body.encode(), signatures)
    )
    return SignedCheckpoint(checkpoint, signed_by, text)


def parse_note(text: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and its signature lines."""
    body, sep, tail = text.rpartition("\n\n")
    if not sep or not tail.endswith("\n"):
        raise AuditError("the checkpoint is not a signed note")
    signatures = [_parse_signature(line) for line in tail[:-1].split("\n")]
    return body + "\n", signatures


def parse_body(body: str) -> Checkpoint:
    """Parse the origin, size and root lines of a checkpoint."""
    lines = body.split("\n")
    if len(lines) < 4 or not lines[0]:
        raise AuditError("the checkpoint needs an origin, a size and a root line")
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error) as err:
        raise AuditError(f"the checkpoint's size or root is malformed: {err}") from err
    if size < 0 or len(root) != 32 or str(size) != lines[1]:
        raise AuditError("the checkpoint's size or root is malformed")
    return Checkpoint(lines[0], size, root)


def _parse_signature(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise AuditError(f"not a signed-note signature line: {line[:40]!r}")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    try:
        blob = base64.b64decode(encoded, validate=True)
    except binascii.Error as err:
        raise AuditError(f"signature of {name} is not base64") from err
    if not name or len(blob) < 5:
        raise AuditError(f"signature line of {name!r} is malformed")
    return NoteSignature(name, blob[:4], blob[4:])


def _signed(key: PublicKey, body: bytes, signatures: list[NoteSignature]) -> bool:
    return any(
        s.key_hash == note_key_hash(s.name, key.raw) and key.verify(s.sig, body)
        for s in signatures
    )

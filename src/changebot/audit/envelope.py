"""DSSE envelopes: the signed file each entry is stored as.

See: https://github.com/secure-systems-lab/dsse/blob/master/envelope.md
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass

from changebot import jsondoc
from changebot.audit.signing import SigningKey
from changebot.errors import AuditError

PAYLOAD_TYPE = "application/vnd.changebot.entry+json"


@dataclass(frozen=True)
class Signature:
    """One signature of an envelope, with the id of the key that made it."""

    keyid: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    """A decoded DSSE envelope: the payload bytes and their signatures."""

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]

    def pae(self) -> bytes:
        """Return the bytes the signatures sign."""
        return pae(self.payload_type, self.payload)

    def to_json(self) -> dict[str, object]:
        """Return the envelope as the JSON object stored on the branch."""
        return {
            "payloadType": self.payload_type,
            "payload": base64.b64encode(self.payload).decode(),
            "signatures": [
                {"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode()}
                for s in self.signatures
            ],
        }

    def encode(self) -> bytes:
        """Return the envelope file's bytes."""
        return json.dumps(self.to_json(), separators=(",", ":")).encode() + b"\n"


def pae(payload_type: str, payload: bytes) -> bytes:
    """Return DSSE's pre-authentication encoding of a payload."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def seal(payload: bytes, signers: Sequence[SigningKey]) -> Envelope:
    """Sign ``payload`` with every key in ``signers``."""
    message = pae(PAYLOAD_TYPE, payload)
    signatures = tuple(Signature(k.keyid, k.sign(message)) for k in signers)
    return Envelope(PAYLOAD_TYPE, payload, signatures)


def decode(data: bytes) -> Envelope:
    """Parse an envelope file; raise AuditError when it is not one."""
    # NOTE: every field of a well-formed envelope is a string, which orjson
    # alone reads as `json` does. Anything else takes the checked path, so
    # that what it finds wrong is said as `json` would read it.
    try:
        quick = _from_strings(jsondoc.loads_loose(data))
    except ValueError:
        quick = None
    if quick is not None:
        return quick
    try:
        return from_json(jsondoc.loads(data))
    except ValueError as err:
        raise AuditError(f"not a DSSE envelope: {err}") from err


def _from_strings(obj: object) -> Envelope | None:
    """Build an envelope whose fields are all strings; else return None."""
    fields = plain_fields(obj)
    if fields is None:
        return None
    payload_type, payload, signatures = fields
    return Envelope(
        payload_type, payload, tuple(Signature(k, sig) for k, sig in signatures)
    )


def plain_fields(obj: object) -> tuple[str, bytes, list[tuple[str, bytes]]] | None:
    """Return the payload type, payload and (key id, signature) pairs of ``obj``.

    None unless every field is a string, as in every envelope changebot
    writes; raise ValueError when a payload or signature is not base64.
    """
    if not isinstance(obj, dict):
        return None
    payload_type, payload = obj.get("payloadType"), obj.get("payload")
    listed = obj.get("signatures")
    if not (isinstance(payload_type, str) and isinstance(payload, str)):
        return None
    if not isinstance(listed, list):
        return None
    signatures = []
    for s in listed:
        keyid, sig = (s.get("keyid"), s.get("sig")) if isinstance(s, dict) else (0, 0)
        if not (isinstance(keyid, str) and isinstance(sig, str)):
            return None
        signatures.append((keyid, _base64(sig)))
    return payload_type, _base64(payload), signatures


def from_json(obj: object) -> Envelope:
    """Build an envelope from its JSON object; raise AuditError when malformed."""
    if not isinstance(obj, dict):
        raise AuditError("not a DSSE envelope: not a JSON object")
    try:
        signatures = tuple(
            Signature(str(s["keyid"]), _base64(s["sig"])) for s in obj["signatures"]
        )
        payload = _base64(obj["payload"])
        return Envelope(str(obj["payloadType"]), payload, signatures)
    except (KeyError, TypeError, binascii.Error) as err:
        raise AuditError(f"not a DSSE envelope: {err!r}") from err


def _base64(text: object) -> bytes:
    """Decode standard base64 that has nothing but its alphabet and padding."""
    if not isinstance(text, str | bytes):
        raise TypeError(f"expected base64 text, not {type(text).__name__}")
    return binascii.a2b_base64(text, strict_mode=True)

"""Entry files are read as the standard `json` module reads them, however odd."""

from __future__ import annotations

import pytest

from changebot.audit import SigningKey
from changebot.audit.envelope import seal
from changebot.audit.reader import decode_entry
from changebot.errors import AuditError


def sealed(payload: bytes) -> bytes:
    """Return an entry file carrying ``payload``, signed by a fresh key."""
    return seal(payload, [SigningKey.generate("reader-test")]).encode()


def test_an_integer_past_64_bits_reads_exactly() -> None:
    data = sealed(b'{"deployment_id":123456789012345678901234567890,"index":3}')

    entry = decode_entry(data)[1]

    assert entry["deployment_id"] == 123456789012345678901234567890
    assert isinstance(entry["deployment_id"], int)


def test_a_repeated_key_reads_as_its_last_value() -> None:
    entry = decode_entry(sealed(b'{"index":1,"index":2}'))[1]

    assert entry == {"index": 2}


def test_the_envelope_keeps_the_payload_bytes_as_stored() -> None:
    payload = b'{"b":1,  "a":"\\u00e9"}'

    envelope, entry = decode_entry(sealed(payload))

    assert envelope.payload == payload
    assert entry == {"b": 1, "a": "\u00e9"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"payloadType":', "not a DSSE envelope"),
        (b"[" * 50_000 + b"]" * 50_000, "not a DSSE envelope"),
        (sealed(b"[" * 50_000 + b"]" * 50_000), "the payload is not JSON"),
        (sealed(b'{"x":"\xff"}'), "the payload is not JSON"),
        (sealed(b"[1]"), "not a JSON object"),
    ],
    ids=["truncated", "deep envelope", "deep payload", "bad UTF-8", "array"],
)
def test_unreadable_files_raise_audit_error(data: bytes, message: str) -> None:
    with pytest.raises(AuditError, match=message):
        decode_entry(data)

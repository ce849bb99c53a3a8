"""Entry files are read as the standard `json` module reads them, however odd."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from changebot.adapters.git import GitStore
from changebot.audit import SigningKey
from changebot.audit.envelope import seal
from changebot.audit.reader import decode_entry, shard_files
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


def test_an_envelope_field_that_is_no_string_reads_as_json_reads_it() -> None:
    file = json.loads(sealed(b'{"index":1}'))
    file["signatures"][0]["keyid"] = 123456789012345678901234567890
    data = json.dumps(file).encode()

    envelope = decode_entry(data)[0]

    assert envelope.signatures[0].keyid == "123456789012345678901234567890"


def test_an_envelope_payload_that_is_no_text_names_what_json_reads() -> None:
    file = json.loads(sealed(b'{"index":1}'))
    file["payload"] = 123456789012345678901234567890

    with pytest.raises(AuditError, match="expected base64 text, not int"):
        decode_entry(json.dumps(file).encode())


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


def test_a_shard_yields_entries_in_index_order_and_strays_last(
    store: GitStore,
) -> None:
    names = ["0", "1", "2", "9", "10", "11", "99", "100", "101", "999"]
    changes = {f"entries/0/{n}.json": n.encode() for n in names}
    changes |= {
        "entries/0/notes.txt": b"stray",
        "entries/0/1000.json": b"belongs to shard 1",
        "entries/0/5.json/inside": b"a directory named like an entry",
        "entries/0/007.json": b"leading zeros",
    }
    head = store.write(None, changes, "odd shard")

    files = list(shard_files(store, head, 0, "0"))

    assert [(f.index, f.data) for f in files[: len(names)]] == [
        (int(n), n.encode()) for n in names
    ]
    assert [(f.index, f.path) for f in files[len(names) :]] == [
        (None, "entries/0/007.json"),
        (None, "entries/0/1000.json"),
        (None, "entries/0/5.json/inside"),
        (None, "entries/0/notes.txt"),
    ]


def test_a_shard_in_stored_order_yields_each_entry_before_reading_the_rest(
    store: GitStore,
) -> None:
    changes = {f"entries/1/{i}.json": b"{}" for i in range(1000, 1010)}
    head = store.write(None, changes, "shard 1")
    reads: list[str] = []

    class Counting:
        """The store, counting the files its walk has handed out."""

        def list(self, commit: str, path: str) -> list[str]:
            return store.list(commit, path)

        def walk(self, commit: str, path: str) -> Iterator[tuple[str, bytes]]:
            for path_read, data in store.walk(commit, path):
                reads.append(path_read)
                yield path_read, data

    files = shard_files(Counting(), head, 1, "1")  # type: ignore[arg-type]

    assert next(files).index == 1000
    assert len(reads) == 1
    assert [f.index for f in files] == list(range(1001, 1010))

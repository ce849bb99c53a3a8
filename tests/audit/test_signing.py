"""Keys round-trip through their files, and checkpoints are C2SP signed notes."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path

import pytest

from changebot.audit import PublicKey, SigningKey
from changebot.audit.checkpoint import Checkpoint, open_note, sign
from changebot.errors import AuditError, KeyFileError


def test_a_saved_key_loads_back_with_its_name(tmp_path: Path) -> None:
    key = SigningKey.generate("acme-audit")
    secret, public, vkey = key.save(tmp_path / "signer")

    loaded = SigningKey.load(secret)

    assert loaded.keyid == key.keyid
    assert loaded.name == "acme-audit"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert PublicKey.load(public).keyid == key.keyid
    assert PublicKey.load(vkey).keyid == key.keyid


def test_keyid_is_the_sha256_of_the_raw_public_key() -> None:
    key = SigningKey.generate()

    assert key.keyid == hashlib.sha256(key.public.raw).hexdigest()


def test_vkey_follows_the_signed_note_format() -> None:
    key = SigningKey.generate("acme-audit")

    name, hexhash, encoded = key.public.vkey("acme-audit").split("+", 2)
    blob = base64.b64decode(encoded)
    expected = hashlib.sha256(b"acme-audit\n\x01" + key.public.raw).digest()[:4]

    assert name == "acme-audit"
    assert bytes.fromhex(hexhash) == expected
    assert blob == b"\x01" + key.public.raw


def test_an_unreadable_key_is_a_key_file_error(tmp_path: Path) -> None:
    (tmp_path / "bad.pub").write_text("not a key")

    with pytest.raises(KeyFileError):
        PublicKey.load(tmp_path / "bad.pub")
    with pytest.raises(KeyFileError):
        SigningKey.load(tmp_path / "absent.key")


def test_a_checkpoint_note_verifies_with_its_key_only() -> None:
    key, other = SigningKey.generate("log"), SigningKey.generate("log")
    point = Checkpoint("example.test/acme/infra@changebot/audit", 7, bytes(range(32)))

    note = sign(point, [key])
    opened = open_note(note, [key.public, other.public])

    assert note.startswith(point.body() + "\n\u2014 log ")
    assert opened.checkpoint == point
    assert opened.signed_by == (key.keyid,)


def test_an_edited_checkpoint_loses_its_signature() -> None:
    key = SigningKey.generate("log")
    note = sign(Checkpoint("o", 7, bytes(32)), [key])

    edited = note.replace("\n7\n", "\n8\n")

    assert open_note(edited, [key.public]).signed_by == ()
    with pytest.raises(AuditError):
        open_note("o\n7\n", [key.public])

"""Inclusion receipts: prove one entry offline, with nothing but trusted keys.

A receipt holds the entry's envelope, its inclusion proof, the signed
checkpoint the proof leads to, and every key rotation in the log (each with its
own proof), so a verifier that trusts only the first key can follow
the rotations.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable, Iterator
from typing import Any

from changebot.audit import envelope, layout, merkle
from changebot.audit.checkpoint import open_note
from changebot.audit.reader import decode_entry, stored_files
from changebot.audit.signing import PublicKey
from changebot.errors import AuditError
from changebot.ports import AuditStore

RECEIPT_FORMAT = "changebot-receipt/1"


def make_receipt(store: AuditStore, index: int) -> dict[str, Any]:
    """Build the receipt of entry ``index`` from the branch's current head."""
    head = store.head()
    note = store.read(head, layout.CHECKPOINT) if head else None
    if head is None or note is None:
        raise AuditError(f"the audit branch {store.origin} does not exist")
    text = note.decode()
    size = open_note(text, []).checkpoint.size
    if not 0 <= index < size:
        raise AuditError(f"entry {index} is not in the log (it has {size} entries)")
    leaves, rotations, target = _scan(store, head, index, size)
    return {
        "format": RECEIPT_FORMAT,
        "index": index,
        "envelope": target,
        "inclusion_proof": _proof(index, size, leaves),
        "rotations": [
            {"index": i, "envelope": env, "inclusion_proof": _proof(i, size, leaves)}
            for i, env in rotations
        ],
        "checkpoint": text,
    }


def verify_receipt(
    receipt: dict[str, Any], trusted_keys: Iterable[PublicKey]
) -> list[str]:
    """Return what is wrong with a receipt; an empty list means it proves its entry."""
    try:
        return _check(receipt, {k.keyid: k for k in trusted_keys})
    except (AuditError, KeyError, TypeError, ValueError, binascii.Error) as err:
        return [f"the receipt is malformed: {err}"]


def _scan(
    store: AuditStore, head: str, index: int, size: int
) -> tuple[list[bytes], list[tuple[int, dict[str, Any]]], dict[str, Any]]:
    # NOTE: the proof needs the leaf hashes of the whole tree: 32 bytes an
    # entry, read once.
    leaves: list[bytes] = []
    rotations = []
    target: dict[str, Any] = {}
    for stored in _entries(store, head, size):
        sealed, entry = decode_entry(stored)
        position = len(leaves)
        leaves.append(merkle.leaf_hash(sealed.payload))
        if entry.get("kind") == "key":
            rotations.append((position, sealed.to_json()))
        if position == index:
            target = sealed.to_json()
    return leaves, rotations, target


def _entries(store: AuditStore, head: str, size: int) -> Iterator[bytes]:
    for stored in stored_files(store, head):
        if stored.index is not None and stored.index < size:
            yield stored.data


def _proof(index: int, size: int, leaves: list[bytes]) -> list[str]:
    return [h.hex() for h in merkle.inclusion_proof(index, size, leaves)]


def _check(receipt: dict[str, Any], active: dict[str, PublicKey]) -> list[str]:
    problems: list[str] = []
    note = open_note(receipt["checkpoint"], [])
    point = note.checkpoint
    for rotation in receipt.get("rotations", []):
        problems += _rotate(rotation, point, active)
    if not open_note(receipt["checkpoint"], active.values()).signed_by:
        problems.append("the checkpoint is not signed by a trusted key")
    sealed = envelope.from_json(receipt["envelope"])
    if not _signed_by(sealed, active):
        problems.append("the entry is not signed by a trusted key")
    entry = decode_entry(sealed.encode())[1]
    index = int(receipt["index"])
    if entry.get("index") != index:
        problems.append(f"the entry says it is entry {entry.get('index')}, not {index}")
    proof = [bytes.fromhex(h) for h in receipt["inclusion_proof"]]
    leaf = merkle.leaf_hash(sealed.payload)
    if not merkle.verify_inclusion(index, point.size, leaf, proof, point.root):
        problems.append(f"entry {index} is not in the tree of the checkpoint")
    return problems


def _rotate(
    rotation: dict[str, Any], point: Any, active: dict[str, PublicKey]
) -> list[str]:
    sealed = envelope.from_json(rotation["envelope"])
    entry = decode_entry(sealed.encode())[1]
    index = int(rotation["index"])
    proof = [bytes.fromhex(h) for h in rotation["inclusion_proof"]]
    leaf = merkle.leaf_hash(sealed.payload)
    if not merkle.verify_inclusion(index, point.size, leaf, proof, point.root):
        return [f"key rotation {index} is not in the tree of the checkpoint"]
    new = PublicKey.from_pem(str(entry["public_key"]).encode())
    old = active.get(str(entry.get("previous_keyid")))
    if (
        old is None
        or not _signed_by(sealed, {old.keyid: old})
        or not _signed_by(sealed, {new.keyid: new})
    ):
        return [
            f"key rotation {index} is not signed by both a trusted key and the new key"
        ]
    del active[old.keyid]
    active[new.keyid] = new
    return []


def _signed_by(sealed: envelope.Envelope, keys: dict[str, PublicKey]) -> bool:
    message = sealed.pae()
    return any(
        s.keyid in keys and keys[s.keyid].verify(s.sig, message)
        for s in sealed.signatures
    )

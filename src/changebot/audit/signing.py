"""Ed25519 keys: generate, save, load, sign and verify.

A key has two identities. Entries name it by ``keyid``, the hex SHA-256 of
its raw 32-byte public key. Signed notes (checkpoints) name it by ``name``
and a 4-byte key hash, as the C2SP signed-note format defines.

See: https://github.com/C2SP/C2SP/blob/main/signed-note.md
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from changebot.errors import KeyFileError

log = logging.getLogger(__name__)

#: The signed-note signature type of Ed25519 keys.
ED25519_NOTE_TYPE = b"\x01"
DEFAULT_NAME = "changebot"


def keyid_of(raw: bytes) -> str:
    """Return the key id of a raw Ed25519 public key."""
    return hashlib.sha256(raw).hexdigest()


def note_key_hash(name: str, raw: bytes) -> bytes:
    """Return the 4-byte signed-note key hash of a named Ed25519 key."""
    digest = hashlib.sha256(name.encode() + b"\n" + ED25519_NOTE_TYPE + raw)
    return digest.digest()[:4]


class PublicKey:
    """An Ed25519 public key, as trusted by a verifier."""

    def __init__(self, raw: bytes, name: str | None = None) -> None:
        if len(raw) != 32:
            raise KeyFileError("an Ed25519 public key must be 32 bytes")
        self.raw = raw
        self.name = name
        self.keyid = keyid_of(raw)
        self._key = Ed25519PublicKey.from_public_bytes(raw)

    def __repr__(self) -> str:
        return f"PublicKey(keyid={self.keyid[:16]}..., name={self.name!r})"

    @classmethod
    def load(cls, path: str | Path) -> PublicKey:
        """Read a key from a PEM `.pub` file or a signed-note `.vkey` file."""
        try:
            text = Path(path).read_bytes()
        except OSError as err:
            raise KeyFileError(f"cannot read public key {path}: {err}") from err
        if text.lstrip().startswith(b"-----BEGIN"):
            return cls.from_pem(text, source=str(path))
        return cls.from_vkey(text.decode("utf-8", errors="replace").strip())

    @classmethod
    def from_pem(cls, pem: bytes, *, source: str = "PEM") -> PublicKey:
        """Parse a PEM SubjectPublicKeyInfo holding an Ed25519 key."""
        try:
            key = serialization.load_pem_public_key(pem)
        except ValueError as err:
            raise KeyFileError(f"{source} is not a PEM public key: {err}") from err
        if not isinstance(key, Ed25519PublicKey):
            raise KeyFileError(f"{source} is not an Ed25519 public key")
        return cls(key.public_bytes_raw())

    @classmethod
    def from_vkey(cls, vkey: str) -> PublicKey:
        """Parse a signed-note verifier key ``name+hexhash+base64(0x01||key)``."""
        try:
            name, hexhash, encoded = vkey.split("+", 2)
            blob = base64.b64decode(encoded, validate=True)
        except ValueError as err:
            raise KeyFileError(f"not a verifier key: {vkey[:40]!r}") from err
        if blob[:1] != ED25519_NOTE_TYPE:
            raise KeyFileError(f"verifier key {name} is not an Ed25519 key")
        key = cls(blob[1:], name)
        if note_key_hash(name, key.raw).hex() != hexhash:
            raise KeyFileError(f"verifier key {name} has a wrong key hash")
        return key

    def pem(self) -> bytes:
        """Return the key as PEM SubjectPublicKeyInfo."""
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def vkey(self, name: str) -> str:
        """Return the signed-note verifier key for this key under ``name``."""
        hexhash = note_key_hash(name, self.raw).hex()
        encoded = base64.b64encode(ED25519_NOTE_TYPE + self.raw).decode()
        return f"{name}+{hexhash}+{encoded}"

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Tell whether ``signature`` is this key's signature of ``data``."""
        try:
            self._key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


class SigningKey:
    """An Ed25519 private key with the name it signs checkpoints under."""

    def __init__(self, key: Ed25519PrivateKey, name: str = DEFAULT_NAME) -> None:
        if not name or any(c in name for c in " +\n"):
            raise KeyFileError(f"key name {name!r} may not hold spaces or '+'")
        self._key = key
        self.name = name
        self.public = PublicKey(key.public_key().public_bytes_raw(), name)
        self.keyid = self.public.keyid

    def __repr__(self) -> str:
        return f"SigningKey(keyid={self.keyid[:16]}..., name={self.name!r})"

    @classmethod
    def generate(cls, name: str = DEFAULT_NAME) -> SigningKey:
        """Make a new random key."""
        return cls(Ed25519PrivateKey.generate(), name)

    @classmethod
    def load(cls, path: str | Path, name: str | None = None) -> SigningKey:
        """Read a PKCS#8 PEM `.key` file; the name comes from its `.vkey`."""
        path = Path(path)
        try:
            pem = path.read_bytes()
            key = serialization.load_pem_private_key(pem, password=None)
        except (OSError, ValueError, TypeError) as err:
            raise KeyFileError(f"cannot read signing key {path}: {err}") from err
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(f"{path} is not an Ed25519 private key")
        raw = key.public_key().public_bytes_raw()
        return cls(key, name or _name_beside(path, raw))

    def save(self, prefix: str | Path) -> tuple[Path, Path, Path]:
        """Write ``PREFIX.key`` (mode 0600), ``PREFIX.pub`` and ``PREFIX.vkey``."""
        prefix = Path(prefix)
        paths = tuple(
            prefix.with_name(prefix.name + s) for s in (".key", ".pub", ".vkey")
        )
        secret, public, vkey = paths
        _write_private(secret, self.private_pem())
        public.write_bytes(self.public.pem())
        vkey.write_text(self.public.vkey(self.name) + "\n")
        return secret, public, vkey

    def private_pem(self) -> bytes:
        """Return the private key as unencrypted PKCS#8 PEM."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def sign(self, data: bytes) -> bytes:
        """Return the Ed25519 signature of ``data``."""
        return self._key.sign(data)


def load_trusted(paths: list[str] | list[Path]) -> list[PublicKey]:
    """Load the keys a verifier trusts out of band."""
    return [PublicKey.load(p) for p in paths]


def _name_beside(path: Path, raw: bytes) -> str:
    # NOTE: the PKCS#8 file cannot hold the note name, so it is read from the
    # `.vkey` written next to it, when that file is of the same key.
    vkey = path.with_suffix(".vkey")
    if not vkey.exists():
        return DEFAULT_NAME
    public = PublicKey.load(vkey)
    if public.raw != raw or not public.name:
        return DEFAULT_NAME
    return public.name


def _write_private(path: Path, pem: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    os.chmod(path, 0o600)

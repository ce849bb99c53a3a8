"""The signed audit log: entries, signatures, Merkle checkpoints, verification.

See docs/audit-format.md for the format of the branch (a contract).
"""

from __future__ import annotations

from changebot.audit.log import Appended, AuditLog, Request
from changebot.audit.receipt import verify_receipt
from changebot.audit.signing import PublicKey, SigningKey
from changebot.audit.verify import Finding, VerifyReport, verify

__all__ = [
    "Appended",
    "AuditLog",
    "Finding",
    "PublicKey",
    "Request",
    "SigningKey",
    "VerifyReport",
    "verify",
    "verify_receipt",
]

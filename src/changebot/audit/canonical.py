"""RFC 8785 canonical JSON: the bytes that are hashed and signed.

See: https://www.rfc-editor.org/rfc/rfc8785
"""

from __future__ import annotations

from typing import Any

import rfc8785

from changebot.errors import AuditError


def canonical_json(value: Any) -> bytes:
    """Return the RFC 8785 canonical encoding of ``value``."""
    try:
        encoded: bytes = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError) as err:
        raise AuditError(
            f"an audit entry cannot be encoded as canonical JSON: {err}",
            hint="pass only strings, integers, booleans, null, lists and objects",
        ) from err
    return encoded

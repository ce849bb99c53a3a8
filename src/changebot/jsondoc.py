"""Read JSON documents quickly, with the answers of the standard `json` module.

orjson parses several times faster than `json`, which matters where many
documents are read (the audit verifier reads two per entry) or where one must
be read at once (a webhook payload). But on a few inputs the two disagree:
orjson reads an integer past 64 bits as a float, and rejects NaN, Infinity,
numbers that overflow a float, lone surrogates, a byte order mark and UTF-16
or UTF-32 text. Those inputs go to `json`, so every caller gets what
`json.loads` would give, only faster for the documents that matter.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["loads", "loads_loose"]

# NOTE: every integer of 18 digits or fewer fits in 64 bits, where orjson
# reads it exactly; a run of 19 digits might not, so `json` reads it. Mapping
# the digits to "0" and looking for the run takes a microsecond a kilobyte, a
# regular expression twelve times more.
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_RUN = b"0" * 19


def loads(data: bytes | str) -> Any:
    """Parse a JSON document as `json.loads` would; raise ValueError if it is none."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if _LONG_RUN not in raw.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return _loads_standard(data)


def loads_loose(data: bytes) -> Any:
    """Parse with orjson alone; raise ValueError where orjson cannot read ``data``.

    The answer is `json`'s for strings, objects, arrays, booleans and null,
    not for numbers: an integer past 64 bits reads as a float. It suits a
    caller that takes only strings from the document and asks `loads` again
    when it finds anything else.
    """
    return orjson.loads(data)


def _loads_standard(data: bytes | str) -> Any:
    try:
        return json.loads(data)
    except RecursionError as err:
        # NOTE: `json` gives up on deep nesting with RecursionError; callers
        # handle a document that cannot be read as ValueError.
        raise ValueError("the JSON document is nested too deeply") from err

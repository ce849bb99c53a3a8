"""jsondoc reads every document as the standard `json` module does, only faster."""

from __future__ import annotations

import json
import math

import pytest

from changebot import jsondoc

# Inputs where orjson alone would answer otherwise than `json`.
DIFFERING = {
    "integer past 64 bits": b'{"id":123456789012345678901234567890}',
    "integer below -2**63": b'{"id":-9223372036854775809}',
    "NaN": b'{"x":NaN}',
    "Infinity": b'{"x":-Infinity}',
    "float overflow": b'{"x":1e400}',
    "escaped lone surrogate": b'{"x":"\\ud800"}',
    "encoded lone surrogate": b'{"x":"\xed\xa0\x80"}',
    "byte order mark": b'\xef\xbb\xbf{"x":1}',
    "UTF-16": '{"x":1}'.encode("utf-16"),
}

# Inputs where the two agree, and jsondoc must keep agreeing.
AGREEING = {
    "duplicate keys": b'{"a":1,"a":{"b":2}}',
    "largest unsigned 64-bit": b'{"id":18446744073709551615}',
    "smallest signed 64-bit": b'{"id":-9223372036854775808}',
    "18 digits": b'{"id":999999999999999999}',
    "long digits in a string": b'{"sha":"12345678901234567890123456789012"}',
    "negative zero": b"[-0,-0.0]",
    "float": b"[0.1,1e-7,2.5E+3]",
    "escapes": b'{"x":"\\u00e9\\n\\ud83d\\ude00"}',
    "whitespace": b' \t\n{"x" : [ 1 , 2 ] }\r\n',
}

REJECTED = {
    "empty": b"",
    "trailing garbage": b'{"x":1}x',
    "invalid UTF-8": b'{"x":"\xff"}',
    "control character": b'{"x":"\x01"}',
    "leading zero": b"[01]",
    "non-JSON whitespace": b'{"x":1}\x0b',
}


def same(a: object, b: object) -> bool:
    """Compare parsed documents exactly: types, and NaN as equal to itself."""
    return repr(a) == repr(b)


@pytest.mark.parametrize("data", list(DIFFERING.values()), ids=list(DIFFERING))
def test_inputs_orjson_reads_otherwise_are_read_as_json_reads_them(
    data: bytes,
) -> None:
    assert same(jsondoc.loads(data), json.loads(data))


@pytest.mark.parametrize("data", list(AGREEING.values()), ids=list(AGREEING))
def test_ordinary_inputs_are_read_as_json_reads_them(data: bytes) -> None:
    assert same(jsondoc.loads(data), json.loads(data))
    assert same(jsondoc.loads(data.decode()), json.loads(data))


def test_big_integers_stay_exact_integers() -> None:
    parsed = jsondoc.loads('{"id": 123456789012345678901234567890}')

    assert parsed == {"id": 123456789012345678901234567890}
    assert isinstance(parsed["id"], int)


def test_non_finite_numbers_are_read() -> None:
    parsed = jsondoc.loads(b"[NaN, Infinity, 1e400]")

    assert math.isnan(parsed[0])
    assert parsed[1:] == [math.inf, math.inf]


@pytest.mark.parametrize("data", list(REJECTED.values()), ids=list(REJECTED))
def test_what_json_rejects_is_rejected_as_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(data)
    with pytest.raises(ValueError):
        jsondoc.loads(data)


def test_deep_nesting_is_a_value_error_not_a_crash() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000

    with pytest.raises(ValueError, match="nested too deeply"):
        jsondoc.loads(deep)


def test_text_with_a_lone_surrogate_reads_as_json_reads_it() -> None:
    text = '{"x":"\ud800"}'

    assert same(jsondoc.loads(text), json.loads(text))

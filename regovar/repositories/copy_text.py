"""COPY text format, written by hand for the import's fixed columns.

asyncpg's binary encoder checks every array element against abstract base classes, which costs
more than building the whole text line; PostgreSQL then parses the text on its own core.
"""

from __future__ import annotations

import json as _json
from typing import Any

import orjson

NULL = "\\N"
_SPECIAL = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\ufffd"})
INT32 = 2**31 - 1
# Below this, a number rounds to a finite float32 (its largest value, 3.4028235e38, included);
# from it on, to infinity, which PostgreSQL refuses. (3.4e38 once refused QUAL 3.4e38.)
FLOAT32 = float(2**128 - 2**103)


def text(value: str | None) -> str:
    """A text field: backslash, tab and line breaks escaped; NUL (never valid in PostgreSQL
    text) replaced by U+FFFD."""
    if value is None:
        return NULL
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value or "\0" in value:
        return value.translate(_SPECIAL)
    return value


def number(value: float | int | None) -> str:
    return NULL if value is None else str(value)


FLOAT32_TINY = 1e-44  # below float32's smallest subnormal, which PostgreSQL refuses


def real(value: float | None) -> str:
    """A REAL: NaN, infinities and values beyond float32 are not measurements: NULL; one
    closer to 0 than float32 can hold (a QUAL of 1e-46) is 0, as float32 rounds it."""
    if value is None or not -FLOAT32 < value < FLOAT32:
        return NULL
    if value and -FLOAT32_TINY < value < FLOAT32_TINY:
        return "0.0"  # as 0 is written (the columnar parser's text too)
    return str(value)


def numbers(values: list[Any] | None) -> str:
    """An array of numbers (int or float, as Python writes them); NULL elements allowed.

    Written by one ``repr`` of the list rather than element by element: this runs for every
    per-sample array of every row."""
    if values is None:
        return NULL
    inner = repr(values)[1:-1].replace(" ", "")
    if "<" in inner:  # an enum member: its repr is not its value
        inner = ",".join("None" if v is None else str(v) for v in values)
    if "None" in inner:
        inner = inner.replace("None", "NULL")
    return "{" + inner + "}"


def beyond_int32(value: int | None) -> bool:
    return value is not None and not -INT32 <= value <= INT32


def int32s(values: list[int | None]) -> tuple[str, int]:
    """An integer array, and how many values beyond int32 were replaced by NULL."""
    bad = sum(1 for v in values if v is not None and not -INT32 <= v <= INT32)
    if bad:
        values = [v if v is None or -INT32 <= v <= INT32 else None for v in values]
    return numbers(values), bad


def texts(values: list[Any] | None) -> str:
    """An array of strings: every element quoted, so commas, braces and spaces are safe."""
    if values is None:
        return NULL
    if not values:
        return "{}"
    try:
        joined = '","'.join(values)  # the usual case: no NULL, nothing to escape
    except TypeError:
        joined = None
    if joined is not None and '"' not in joined and "\\" not in joined:
        return text('{"' + joined + '"}')
    items = [
        "NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        for v in values
    ]
    return text("{" + ",".join(items) + "}")


def json(value: Any) -> str:
    """jsonb: like text, it cannot hold NUL, which JSON writes as an escape."""
    if not value:
        return NULL
    try:
        encoded = orjson.dumps(value).decode()
    except TypeError:  # an integer beyond 64 bits (e.g. an INFO DP of 20 digits): jsonb keeps it
        encoded = _json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if "\\u0000" in encoded:
        encoded = encoded.replace("\\u0000", "\\ufffd")
    return text(encoded)


def bytea(value: bytes) -> str:
    return "\\\\x" + value.hex()

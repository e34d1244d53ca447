"""COPY text format, written by hand for the import's fixed columns.

asyncpg's binary encoder checks every array element against abstract base classes, which costs
more than building the whole text line; PostgreSQL then parses the text on its own core.
"""

from __future__ import annotations

from typing import Any

import orjson

NULL = "\\N"
_SPECIAL = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def text(value: str | None) -> str:
    """A text field: backslash, tab and line breaks escaped."""
    if value is None:
        return NULL
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_SPECIAL)
    return value


def number(value: float | int | None) -> str:
    return NULL if value is None else str(value)


def numbers(values: list[Any] | None) -> str:
    """An array of numbers; NULL elements allowed."""
    if values is None:
        return NULL
    return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"


def texts(values: list[Any] | None) -> str:
    """An array of strings: every element quoted, so commas, braces and spaces are safe."""
    if values is None:
        return NULL
    items = [
        "NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        for v in values
    ]
    return text("{" + ",".join(items) + "}")


def json(value: Any) -> str:
    return text(orjson.dumps(value).decode()) if value else NULL


def bytea(value: bytes) -> str:
    return "\\\\x" + value.hex()

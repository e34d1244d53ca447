"""QUAL and VAF are stored as 4-byte floats: shown as the shortest decimal stored as the value,
which is what the file said (18253.01, not 18253.009765625 nor, at 6 digits, 18253)."""

from __future__ import annotations

import math
import struct

_FLOAT32 = struct.Struct("f")


def stored_real(value: float | None) -> float | None:
    """The shortest decimal whose 4-byte float is ``value``; other values as they are."""
    if value is None or not math.isfinite(value):
        return value
    for digits in range(6, 10):  # 6 gives the shortest form whenever it is that short
        shorter = float(f"{value:.{digits}g}")
        if _FLOAT32.unpack(_FLOAT32.pack(shorter))[0] == value:
            return shorter
    return value


def number_text(value: float) -> str:
    """A number as written in text exports: its shortest form, without a trailing '.0'."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def real_text(value: float | None, missing: str = ".") -> str:
    """A 4-byte float column's value as text (VCF QUAL, terminal tables)."""
    shown = stored_real(value)
    return missing if shown is None else number_text(shown)

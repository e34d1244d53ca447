from __future__ import annotations

from typing import Any, NewType

import strawberry

from regovar.models.reals import stored_real

JSON = strawberry.scalar(
    NewType("JSON", object),
    serialize=lambda v: v,
    parse_value=lambda v: v,
    description="Any JSON value (INFO fields keep their VCF types).",
)


def page_args(offset: int, limit: int) -> dict[str, Any]:
    return {"offset": offset, "limit": limit}


MAX_ID = 2**31 - 1


def parse_id(value: object, name: str = "id") -> int:
    """GraphQL IDs are strings; ours are positive 32-bit integers."""
    from regovar.domain.errors import InvalidInput

    text = str(value)  # ASCII digits only: ' 1' and an Arabic-Indic one (U+0661) are no ids
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        raise InvalidInput(
            f"{name} must be a positive integer id, got {str(value)[:40]!r}", field=name
        )
    return int(text)


def optional_id(value: object | None, name: str) -> int | None:
    return None if value is None or value == "" else parse_id(value, name)


def real(value: float | None) -> float | None:
    """QUAL and VAF are stored as 4-byte floats: shown as the file wrote them (0.0822785, not
    0.08227848261594772; 18253.01, not 18253.0)."""
    return stored_real(value)

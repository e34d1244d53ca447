from __future__ import annotations

from typing import Any, NewType

import strawberry

JSON = strawberry.scalar(
    NewType("JSON", object),
    serialize=lambda v: v,
    parse_value=lambda v: v,
    description="Any JSON value (INFO fields keep their VCF types).",
)


def page_args(offset: int, limit: int) -> dict[str, Any]:
    return {"offset": offset, "limit": limit}

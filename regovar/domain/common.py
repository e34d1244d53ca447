from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from regovar.domain.errors import InvalidInput

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


def check_page(offset: int, limit: int, max_limit: int) -> None:
    if offset < 0:
        raise InvalidInput("offset must be 0 or more")
    if limit < 0 or limit > max_limit:
        raise InvalidInput(f"limit must be between 0 and {max_limit}")


def storable(text: str, *, control: bool = False) -> bool:
    """PostgreSQL text holds no NUL and no lone surrogate; names (``control`` False) hold no
    control character either."""
    for c in text:
        code = ord(c)
        if code == 0 or 0xD800 <= code <= 0xDFFF or (not control and (code < 32 or code == 127)):
            return False
    return True


def storable_json(value: object) -> bool:
    """Every text (keys included) of a JSON value is storable."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not storable(item, control=True):
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True

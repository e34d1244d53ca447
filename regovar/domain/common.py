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

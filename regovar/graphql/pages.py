"""One generic page type: Strawberry names each use after its items (ProjectPage, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from regovar.domain.common import Page as DomainPage

T = TypeVar("T")
M = TypeVar("M")


@strawberry.type(description="A page of a list, with the total across all pages.")
class Page(Generic[T]):
    total: int
    offset: int
    limit: int
    items: list[T]


def page_of(page: DomainPage[M], convert: Callable[[M], T]) -> Page[T]:
    return Page(
        total=page.total,
        offset=page.offset,
        limit=page.limit,
        items=[convert(item) for item in page.items],
    )

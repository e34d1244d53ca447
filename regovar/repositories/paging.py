"""One page of a query, with the total across all pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession


async def page(session: AsyncSession, stmt: Select[Any], order: Any, offset: int,
               limit: int) -> tuple[list[Any], int]:  # fmt: skip
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = await session.scalars(stmt.order_by(order).offset(offset).limit(limit))
    return list(rows), int(total or 0)

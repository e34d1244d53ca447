"""Runs found in the drop folders."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from regovar.models import InboxRun
from regovar.repositories import paging


class InboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def latest(self, inbox: str, folder: str) -> InboxRun | None:
        """The newest row of a run folder."""
        return await self.session.scalar(
            select(InboxRun).where(InboxRun.inbox == inbox, InboxRun.folder == folder)
            .order_by(InboxRun.id.desc()).limit(1)
            .execution_options(populate_existing=True)
        )  # fmt: skip

    async def add(self, inbox: str, folder: str, run_id: str,
                  snapshot: dict[str, Any]) -> InboxRun:  # fmt: skip
        run = InboxRun(inbox=inbox, folder=folder, run_id=run_id, snapshot=snapshot)
        self.session.add(run)
        await self.session.flush()
        return run

    async def get(self, row_id: int) -> InboxRun | None:
        return await self.session.scalar(
            select(InboxRun).where(InboxRun.id == row_id).execution_options(populate_existing=True)
        )

    async def mark(self, row_id: int, **values: Any) -> None:
        if values.get("state") in ("done", "failed", "duplicate"):
            values.setdefault("finished_at", datetime.now(UTC))
        await self.session.execute(
            update(InboxRun).where(InboxRun.id == row_id).values(**values)
            .execution_options(synchronize_session=False)
        )  # fmt: skip

    async def claim_key(self, row_id: int, key: str) -> bool:
        """Gives the run its key; False when another run already has it (the same run id
        and the same files: already taken)."""
        try:
            async with self.session.begin_nested():
                await self.mark(row_id, run_key=key)
        except IntegrityError:
            return False
        return True

    async def release_key(self, key: str) -> None:
        await self.session.execute(
            update(InboxRun).where(InboxRun.run_key == key).values(run_key=None)
            .execution_options(synchronize_session=False)
        )  # fmt: skip

    async def holder_of(self, key: str) -> InboxRun | None:
        return await self.session.scalar(select(InboxRun).where(InboxRun.run_key == key))

    async def try_lock(self, row_id: int) -> bool:
        """Transaction-scoped: two workers never take the same run at once."""
        got = await self.session.scalar(
            text("SELECT pg_try_advisory_xact_lock(hashtext('regovar.run'), :id)"), {"id": row_id}
        )
        return bool(got)

    async def page(self, state: str | None, offset: int,
                   limit: int) -> tuple[list[InboxRun], int]:  # fmt: skip
        stmt = select(InboxRun)
        if state is not None:
            stmt = stmt.where(InboxRun.state == state)
        return await paging.page(self.session, stmt, InboxRun.id.desc(), offset, limit)

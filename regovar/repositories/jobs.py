"""Job rows of batch runs, and the lock that keeps one scheduler active."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from regovar.models import Job
from regovar.repositories import paging


class JobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, kind: str, trigger: str, requested_by: str,
                  options: dict[str, Any]) -> Job:  # fmt: skip
        job = Job(kind=kind, trigger=trigger, requested_by=requested_by, options=options)
        self.session.add(job)
        await self.session.flush()
        return job

    async def add_tick(self, kind: str, tick: datetime) -> int | None:
        """The job of one schedule tick, unless that tick was already fired (None then)."""
        stmt = (
            insert(Job)
            .values(kind=kind, trigger="schedule", scheduled_for=tick, requested_by="scheduler")
            .on_conflict_do_nothing(
                index_elements=["kind", "scheduled_for"],
                index_where=text("scheduled_for IS NOT NULL"),
            )
            .returning(Job.id)
        )
        return await self.session.scalar(stmt)

    async def last_tick(self, kind: str) -> datetime | None:
        return await self.session.scalar(
            select(func.max(Job.scheduled_for)).where(Job.kind == kind)
        )

    async def get(self, job_id: int, *, for_update: bool = False) -> Job | None:
        stmt = select(Job).where(Job.id == job_id)
        if for_update:
            stmt = stmt.with_for_update(skip_locked=True)
        return await self.session.scalar(stmt.execution_options(populate_existing=True))

    async def page(self, kind: str | None, state: str | None, offset: int,
                   limit: int) -> tuple[list[Job], int]:  # fmt: skip
        stmt = select(Job)
        if kind is not None:
            stmt = stmt.where(Job.kind == kind)
        if state is not None:
            stmt = stmt.where(Job.state == state)
        return await paging.page(self.session, stmt, Job.id.desc(), offset, limit)

    async def mark(self, job_id: int, **values: Any) -> None:
        if values.get("state") in ("done", "failed"):
            values.setdefault("finished_at", datetime.now(UTC))
        await self.session.execute(
            update(Job).where(Job.id == job_id).values(**values)
            .execution_options(synchronize_session=False)
        )  # fmt: skip

    async def try_lock(self, job_id: int) -> bool:
        """Transaction-scoped: two workers never run the same job at once."""
        got = await self.session.scalar(
            text("SELECT pg_try_advisory_xact_lock(hashtext('regovar.job'), :id)"), {"id": job_id}
        )
        return bool(got)

    async def failed_since(self, hours: int) -> int:
        return int(await self.session.scalar(text(
            "SELECT count(*) FROM jobs WHERE state = 'failed' "
            "AND coalesce(finished_at, created_at) > now() - make_interval(hours => :h)"
        ), {"h": hours}) or 0)  # fmt: skip


class LeaderLock:
    """A session-level advisory lock on a connection of its own, held while the scheduler
    runs: a second scheduler stays on standby until the first one stops or loses its
    connection (the server then releases the lock)."""

    KEY = "SELECT pg_try_advisory_lock(hashtext('regovar.scheduler'))"
    UNLOCK = "SELECT pg_advisory_unlock(hashtext('regovar.scheduler'))"

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._conn: AsyncConnection | None = None

    async def try_acquire(self) -> bool:
        if self._conn is not None:
            return True
        conn = await self.engine.connect()
        try:
            got = bool(await conn.scalar(text(self.KEY)))
            await conn.commit()
        except BaseException:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def still_held(self) -> bool:
        """False when the connection holding the lock is gone (the lock went with it)."""
        if self._conn is None:
            return False
        try:
            await self._conn.scalar(text("SELECT 1"))
            await self._conn.commit()
        except Exception:
            await self.release()
            return False
        return True

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            # The connection goes back to the pool, which keeps the session: unlock first.
            await conn.scalar(text(self.UNLOCK))
            await conn.commit()
            await conn.close()
        except Exception:
            await conn.invalidate()  # a lost connection: the server released the lock

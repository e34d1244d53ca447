"""The audit trail: append-only events linked by a SHA-256 hash chain.

Appends are serialised by a transaction-level advisory lock, so the chain stays linear however
many processes write; the lock is held from the append to the commit of the unit of work, which
is why managers append their event as the last step before committing.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from regovar.models import AuditEvent

GENESIS = bytes(32)


def event_hash(prev_hash: bytes, event: AuditEvent) -> bytes:
    """The hash of one event: every stored column but the id, in a canonical encoding."""
    content = orjson.dumps(
        [
            event.at.isoformat(timespec="microseconds"),
            event.actor_id,
            event.actor,
            event.action,
            event.object_type,
            event.object_id,
            event.project_id,
            event.details,
        ],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(prev_hash + content).digest()


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append(self, event: AuditEvent) -> AuditEvent:
        await self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext('regovar.audit'))"))
        last = await self.session.scalar(
            select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
        )
        event.prev_hash = last or GENESIS
        event.hash = event_hash(event.prev_hash, event)
        self.session.add(event)
        await self.session.flush()
        return event

    async def page(
        self,
        *,
        object_type: str | None,
        object_id: str | None,
        actor_id: int | None,
        project_id: int | None,
        offset: int,
        limit: int,
    ) -> tuple[list[AuditEvent], int]:
        conditions: list[Any] = []
        if object_type is not None:
            conditions.append(AuditEvent.object_type == object_type)
        if object_id is not None:
            conditions.append(AuditEvent.object_id == object_id)
        if actor_id is not None:
            conditions.append(AuditEvent.actor_id == actor_id)
        if project_id is not None:
            conditions.append(AuditEvent.project_id == project_id)
        rows = await self.session.scalars(
            select(AuditEvent)
            .where(*conditions)
            .order_by(AuditEvent.id.desc())
            .offset(offset)
            .limit(limit)
        )
        total = await self.session.scalar(
            select(func.count()).select_from(AuditEvent).where(*conditions)
        )
        return list(rows), int(total or 0)

    async def in_order(self, batch: int = 5000) -> AsyncIterator[AuditEvent]:
        """Every event, oldest first, read in batches (the trail can be long)."""
        after = 0
        while True:
            rows = list(
                await self.session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.id > after)
                    .order_by(AuditEvent.id)
                    .limit(batch)
                )
            )
            if not rows:
                return
            for row in rows:
                yield row
            after = rows[-1].id
            self.session.expunge_all()

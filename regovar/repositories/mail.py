"""The outbox: messages waiting to be sent, and those sent (kept for the record)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from regovar.models import OutgoingMail
from regovar.repositories import paging


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, key: str, kind: str, recipients: list[str], subject: str, text: str,
                  html: str) -> int | None:  # fmt: skip
        """Queues a message; None when a message with this key was already queued."""
        values = {"dedupe_key": key, "kind": kind, "recipients": recipients,
                  "subject": subject, "text_body": text, "html_body": html}  # fmt: skip
        stmt = (
            insert(OutgoingMail)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(OutgoingMail.id)
        )
        return await self.session.scalar(stmt)

    async def next_due(self) -> OutgoingMail | None:
        """The oldest message due, locked: another sender skips it."""
        stmt = (
            select(OutgoingMail)
            .where(OutgoingMail.state == "pending", OutgoingMail.next_attempt_at <= func.now())
            .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return await self.session.scalar(stmt.execution_options(populate_existing=True))

    async def mark_sent(self, mail_id: int, refused: list[str]) -> None:
        await self.session.execute(
            update(OutgoingMail).where(OutgoingMail.id == mail_id)
            .values(state="sent", sent_at=datetime.now(UTC), refused=refused,
                    attempts=OutgoingMail.attempts + 1)
            .execution_options(synchronize_session=False)
        )  # fmt: skip

    async def mark_failed(self, mail_id: int, error: str) -> None:
        """A message that can never be sent (it stays, with why, for the record)."""
        await self.session.execute(
            update(OutgoingMail).where(OutgoingMail.id == mail_id)
            .values(state="failed", attempts=OutgoingMail.attempts + 1, last_error=error)
            .execution_options(synchronize_session=False)
        )  # fmt: skip

    async def mark_retry(self, mail_id: int, error: str, delay: timedelta) -> None:
        await self.session.execute(
            update(OutgoingMail).where(OutgoingMail.id == mail_id)
            .values(attempts=OutgoingMail.attempts + 1, last_error=error,
                    next_attempt_at=func.now() + delay)
            .execution_options(synchronize_session=False)
        )  # fmt: skip

    async def waiting(self) -> tuple[int, datetime | None]:
        """Messages not sent yet, and when the oldest was queued."""
        row = (await self.session.execute(
            select(func.count(), func.min(OutgoingMail.created_at))
            .where(OutgoingMail.state == "pending")
        )).one()  # fmt: skip
        return int(row[0]), row[1]

    async def page(self, state: str | None, offset: int,
                   limit: int) -> tuple[list[OutgoingMail], int]:  # fmt: skip
        stmt = select(OutgoingMail)
        if state is not None:
            stmt = stmt.where(OutgoingMail.state == state)
        return await paging.page(self.session, stmt, OutgoingMail.id.desc(), offset, limit)

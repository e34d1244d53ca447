"""The audit trail: every change appends who, what, which object, when and details.

``record`` is the step that managers call inside their unit of work, last before the commit, so
that the event and the change are committed together or not at all. Events are hash-chained
(see repositories/audit.py); ``AuditManager.verify`` recomputes the chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from regovar.domain.access import require_admin
from regovar.domain.common import Page, check_page
from regovar.domain.errors import InvalidInput
from regovar.domain.principal import Principal
from regovar.models import AuditEvent
from regovar.repositories.audit import GENESIS, event_hash
from regovar.repositories.uow import UnitOfWork, UnitOfWorkFactory


async def record(
    uow: UnitOfWork,
    principal: Principal,
    action: str,
    object_type: str,
    object_id: object | None,
    *,
    project_id: int | None = None,
    **details: Any,
) -> None:
    """Appends one event. Details hold identifiers and counts, never passwords or tokens."""
    await uow.audit.append(
        AuditEvent(
            at=datetime.now(UTC),
            actor_id=principal.user_id,
            actor=principal.login,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            project_id=project_id,
            details={
                **{k: v for k, v in details.items() if v is not None},
                **({"via": principal.origin} if principal.origin else {}),
            },
        )
    )


@dataclass(frozen=True)
class AuditQuery:
    object_type: str | None = None
    object_id: str | None = None
    actor_id: int | None = None
    project_id: int | None = None
    offset: int = 0
    limit: int = 100


@dataclass(frozen=True)
class ChainReport:
    events: int
    intact: bool
    first_bad_id: int | None = None
    problem: str | None = None
    head_id: int | None = None  # the newest event and its hash: an anchor to keep elsewhere
    head_hash: str | None = None


Anchor = tuple[int, str]  # (event id, hash in hex) noted from an earlier verification


def parse_anchors(texts: list[str]) -> tuple[Anchor, ...]:
    """EVENT_ID:HASH texts, as verification prints them."""
    anchors = []
    for text in texts:
        event, _, digest = text.strip().partition(":")
        if (
            not event.isdigit()
            or len(digest) != 64
            or not all(c in "0123456789abcdefABCDEF" for c in digest)
        ):
            raise InvalidInput(f"an anchor is EVENT_ID:HASH (64 hex digits), got {text[:80]!r}")
        anchors.append((int(event), digest))
    return tuple(anchors)


class AuditManager:
    def __init__(self, uow: UnitOfWorkFactory, max_page_size: int) -> None:
        self.uow = uow
        self.max_page_size = max_page_size

    async def events(self, principal: Principal, query: AuditQuery) -> Page[AuditEvent]:
        require_admin(principal)
        check_page(query.offset, query.limit, self.max_page_size)
        async with self.uow() as uow:
            items, total = await uow.audit.page(
                object_type=query.object_type,
                object_id=query.object_id,
                actor_id=query.actor_id,
                project_id=query.project_id,
                offset=query.offset,
                limit=query.limit,
            )
            return Page(items, total, query.offset, query.limit)

    async def verify(self, principal: Principal, anchors: tuple[Anchor, ...] = ()) -> ChainReport:
        """Recomputes every link: an event changed, removed or inserted breaks the chain at the
        first event after it. Someone able to write the table could recompute the links after
        a change; ``anchors`` (ids and hashes noted from earlier runs, kept off the server)
        catch that: a rewritten event changes every hash after it."""
        require_admin(principal)
        expected = dict(anchors)
        count, previous, last_id = 0, GENESIS, None
        async with self.uow() as uow:
            async for event in uow.audit.in_order():
                count += 1
                if event.prev_hash != previous:
                    return ChainReport(
                        count, False, event.id, "does not follow the event before it"
                    )
                if event_hash(previous, event) != event.hash:
                    return ChainReport(count, False, event.id, "content does not match its hash")
                anchor = expected.pop(event.id, None)
                if anchor is not None and anchor.lower() != event.hash.hex():
                    rewritten = "differs from its anchor: the trail was rewritten"
                    return ChainReport(count, False, event.id, rewritten)
                previous, last_id = event.hash, event.id
        if expected:
            missing = min(expected)
            return ChainReport(count, False, missing, "an anchored event is gone")
        head = previous.hex() if last_id is not None else None
        return ChainReport(count, True, head_id=last_id, head_hash=head)

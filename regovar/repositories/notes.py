"""Interpretation notes (append-only) and the current state they add up to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from regovar.models import VariantNote


@dataclass
class NoteState:
    """What the notes of one variant add up to in one analysis."""

    selected: bool = False
    tags: list[str] = field(default_factory=list)
    comments: int = 0
    classification: VariantNote | None = None  # the latest, from any analysis


class NoteRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_many(self, notes: Sequence[VariantNote]) -> None:
        self.session.add_all(notes)
        await self.session.flush()

    async def history(self, analysis_id: int, vkey: bytes) -> list[VariantNote]:
        """The analysis's notes on the variant, and its classifications made elsewhere."""
        rows = await self.session.scalars(
            select(VariantNote)
            .where(
                VariantNote.vkey == vkey,
                (VariantNote.analysis_id == analysis_id) | (VariantNote.kind == "classify"),
            )
            .order_by(VariantNote.id)
        )
        return list(rows)

    async def states(self, analysis_id: int, vkeys: Sequence[bytes]) -> dict[bytes, NoteState]:
        if not vkeys:
            return {}
        rows = await self.session.scalars(
            select(VariantNote)
            .where(
                VariantNote.vkey.in_(list(vkeys)),
                (VariantNote.analysis_id == analysis_id) | (VariantNote.kind == "classify"),
            )
            .order_by(VariantNote.id)
        )
        out: dict[bytes, NoteState] = {}
        for note in rows:
            state = out.setdefault(note.vkey, NoteState())
            if note.kind == "classify":
                state.classification = note
            elif note.kind in ("select", "unselect"):
                state.selected = note.kind == "select"
            elif note.kind == "tag" and note.value not in state.tags:
                state.tags.append(note.value)
            elif note.kind == "untag" and note.value in state.tags:
                state.tags.remove(note.value)
            elif note.kind == "comment":
                state.comments += 1
        return out


def latest_of(analysis_id: int, kinds: tuple[str, str], value: str | None = None) -> Any:
    """The variants whose latest note among ``kinds`` (set, unset) in the analysis is the set
    one (for ``value``, a tag): a subquery of vkeys, for filters."""
    n = VariantNote.__table__.c
    conditions = [n.analysis_id == analysis_id, n.kind.in_(kinds)]
    if value is not None:
        conditions.append(n.value == value)
    rank = func.row_number().over(partition_by=n.vkey, order_by=n.id.desc())
    last = select(n.vkey, n.kind, rank.label("r")).where(and_(*conditions)).subquery("last_note")
    return select(last.c.vkey).where(last.c.r == 1, last.c.kind == kinds[0])


def classified_as(classes: Sequence[str]) -> Any:
    """The variants whose latest classification, in any analysis, is one of ``classes``."""
    n = VariantNote.__table__.c
    rank = func.row_number().over(partition_by=n.vkey, order_by=n.id.desc())
    last = (
        select(n.vkey, n.value, rank.label("r"))
        .where(n.kind == "classify")
        .subquery("last_class")
    )
    return select(last.c.vkey).where(last.c.r == 1, last.c.value.in_(list(classes)))

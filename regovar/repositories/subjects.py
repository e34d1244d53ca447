from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from regovar.models import Subject
from regovar.repositories import paging


@dataclass(frozen=True)
class SubjectRecord:
    identifier: str
    family: str | None = None
    father: str | None = None
    mother: str | None = None
    sex: int = 0
    affected: int = 0


_UNDESCRIBED = (None, 0, 0, None, None)  # family, sex, affected, father, mother


@dataclass(frozen=True)
class ParentLink:
    identifier: str
    father: int | None
    mother: int | None
    sex: int  # 0 unknown, 1 male, 2 female
    family: str | None


@dataclass(frozen=True)
class Pedigree:
    """What setting a pedigree did: subject ids by identifier, those created, those changed."""

    ids: dict[str, int]
    created: list[str]
    changed: list[str]  # existing subjects whose family, sex, status or parents changed
    described: list[str] = field(default_factory=list)  # known by name only until now


class SubjectRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert_many(self, project_id: int, records: list[SubjectRecord]) -> dict[str, int]:
        """Creates or updates subjects, then links parents; returns identifier -> id."""
        ids: dict[str, int] = {}
        for start in range(0, len(records), self.CHUNK):  # a statement takes 32,767 values
            ids |= await self._upsert(project_id, records[start : start + self.CHUNK])
        await self._link_parents(project_id, records, ids)
        return ids

    CHUNK = 5000

    async def _upsert(self, project_id: int, records: list[SubjectRecord]) -> dict[str, int]:
        if not records:
            return {}
        rows = [
            {
                "project_id": project_id,
                "identifier": r.identifier,
                "family": r.family,
                "sex": r.sex,
                "affected": r.affected,
            }
            for r in records
        ]
        insert_stmt = insert(Subject).values(rows)
        stmt = insert_stmt.on_conflict_do_update(
            constraint="uq_subjects_project_id",
            set_={
                "family": func.coalesce(insert_stmt.excluded.family, Subject.family),
                "sex": func.greatest(insert_stmt.excluded.sex, Subject.sex),
                "affected": func.greatest(insert_stmt.excluded.affected, Subject.affected),
            },
        ).returning(Subject.identifier, Subject.id)
        return {ident: sid for ident, sid in (await self.session.execute(stmt)).all()}

    async def _link_parents(
        self, project_id: int, records: list[SubjectRecord], ids: dict[str, int]
    ) -> None:
        for r in records:
            father, mother = ids.get(r.father or ""), ids.get(r.mother or "")
            if father is None and mother is None:
                continue
            subject = await self.session.get(Subject, ids[r.identifier])
            if subject is None:
                continue
            subject.father_id = father if father is not None else subject.father_id
            subject.mother_id = mother if mother is not None else subject.mother_id
        await self.session.flush()

    async def set_pedigree(self, project_id: int, records: list[SubjectRecord]) -> Pedigree:
        """Sets the pedigree as a PED gives it: family, sex, affected status and parents are
        replaced (an unknown parent unlinks), missing subjects are created; parents must exist
        or be among ``records``."""
        names = {r.identifier for r in records} | {
            p for r in records for p in (r.father, r.mother) if p
        }
        known = await self.by_identifiers(project_id, names)
        missing = [r for r in records if r.identifier not in known]
        created: dict[str, int] = {}
        for start in range(0, len(missing), self.CHUNK):  # a statement takes 32,767 values
            created |= await self._upsert(project_id, missing[start : start + self.CHUNK])
        known |= await self.by_identifiers(project_id, set(created))
        changed: list[str] = []
        described: list[str] = []
        for r in records:
            subject = known[r.identifier]
            father = known[r.father].id if r.father in known else None
            mother = known[r.mother].id if r.mother in known else None
            new = (r.family, r.sex, r.affected, father, mother)
            old = (subject.family, subject.sex, subject.affected, subject.father_id,
                   subject.mother_id)  # fmt: skip
            if new != old:
                subject.family, subject.sex, subject.affected = r.family, r.sex, r.affected
                subject.father_id, subject.mother_id = father, mother
                # A subject known only by name (a VCF imported without a PED) is described
                # for the first time, not changed.
                if r.identifier not in created:
                    (changed if old != _UNDESCRIBED else described).append(r.identifier)
        await self.session.flush()
        return Pedigree({n: s.id for n, s in known.items()}, list(created), changed, described)

    async def by_identifiers(self, project_id: int, names: set[str]) -> dict[str, Subject]:
        found: dict[str, Subject] = {}
        ordered = sorted(names)
        for start in range(0, len(ordered), self.CHUNK):
            rows = await self.session.scalars(select(Subject).where(
                Subject.project_id == project_id,
                Subject.identifier.in_(ordered[start : start + self.CHUNK]),
            ))  # fmt: skip
            found |= {s.identifier: s for s in rows}
        return found

    async def identifiers(self, project_id: int) -> set[str]:
        rows = await self.session.scalars(
            select(Subject.identifier).where(Subject.project_id == project_id))
        return set(rows)

    async def create_missing(self, project_id: int, records: list[SubjectRecord]) -> dict[str, int]:
        """Creates the subjects that do not exist yet, leaving the others as they are; returns
        the ids of all, by identifier."""
        for start in range(0, len(records), self.CHUNK):
            rows = [{"project_id": project_id, "identifier": r.identifier, "family": r.family,
                     "sex": r.sex, "affected": r.affected}
                    for r in records[start : start + self.CHUNK]]  # fmt: skip
            await self.session.execute(insert(Subject).values(rows).on_conflict_do_nothing(
                constraint="uq_subjects_project_id"))  # fmt: skip
        found = await self.by_identifiers(project_id, {r.identifier for r in records})
        return {name: s.id for name, s in found.items()}

    async def parent_links(self, project_id: int) -> dict[int, ParentLink]:
        """Every subject of the project, by id, with its parents, sex and family."""
        rows = await self.session.execute(
            select(Subject.id, Subject.identifier, Subject.father_id, Subject.mother_id,
                   Subject.sex, Subject.family).where(Subject.project_id == project_id)
        )  # fmt: skip
        return {sid: ParentLink(ident, father, mother, sex or 0, family)
                for sid, ident, father, mother, sex, family in rows.all()}  # fmt: skip

    async def page(self, project_id: int, offset: int, limit: int) -> tuple[list[Subject], int]:
        stmt = select(Subject).where(Subject.project_id == project_id)
        return await paging.page(self.session, stmt, Subject.id, offset, limit)

    async def get_many(self, ids: list[int]) -> dict[int, Subject]:
        rows = await self.session.scalars(select(Subject).where(Subject.id.in_(ids)))
        return {s.id: s for s in rows}

    async def relatives(self, subject: Subject) -> list[Subject]:
        """The subject's parents, and the subjects sharing a parent with it (siblings)."""
        parents = [p for p in (subject.mother_id, subject.father_id) if p is not None]
        if not parents:
            return []
        rows = await self.session.scalars(
            select(Subject).where(
                Subject.project_id == subject.project_id,
                Subject.id != subject.id,
                or_(
                    Subject.id.in_(parents),
                    Subject.mother_id.in_(parents),
                    Subject.father_id.in_(parents),
                ),
            )
        )
        return list(rows)

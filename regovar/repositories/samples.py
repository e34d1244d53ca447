from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from regovar.models import Import, Sample
from regovar.repositories import paging


class SampleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_many(
        self, project_id: int, import_id: int, names: list[str], subject_ids: dict[str, int]
    ) -> list[Sample]:
        samples = [
            Sample(
                project_id=project_id,
                import_id=import_id,
                name=name,
                column=column,
                subject_id=subject_ids.get(name),
            )
            for column, name in enumerate(names)
        ]
        self.session.add_all(samples)
        await self.session.flush()
        return samples

    async def get_many(self, ids: list[int]) -> dict[int, Sample]:
        rows = await self.session.scalars(select(Sample).where(Sample.id.in_(ids)))
        return {s.id: s for s in rows}

    async def page(
        self,
        project_id: int | None,
        import_id: int | None,
        name: str | None,
        offset: int,
        limit: int,
        only_projects: list[int] | None = None,
    ) -> tuple[list[Sample], int]:
        """Only samples of finished imports: a running import's samples are not visible yet."""
        stmt = (
            select(Sample).join(Import, Import.id == Sample.import_id).where(Import.state == "done")
        )
        if only_projects is not None:
            stmt = stmt.where(Sample.project_id.in_(only_projects))
        if project_id is not None:
            stmt = stmt.where(Sample.project_id == project_id)
        if import_id is not None:
            stmt = stmt.where(Sample.import_id == import_id)
        if name is not None:
            stmt = stmt.where(Sample.name == name)
        return await paging.page(self.session, stmt, Sample.id, offset, limit)

    async def by_import(self, import_ids: list[int]) -> dict[int, list[Sample]]:
        rows = await self.session.scalars(
            select(Sample).where(Sample.import_id.in_(import_ids)).order_by(Sample.column)
        )
        grouped: dict[int, list[Sample]] = {i: [] for i in import_ids}
        for s in rows:
            grouped[s.import_id].append(s)
        return grouped

    async def latest_of_subjects(self, project_id: int, subject_ids: list[int]) -> list[Sample]:
        """The most recent sample of a finished import for each subject."""
        rows = await self.session.scalars(
            select(Sample)
            .join(Import, Import.id == Sample.import_id)
            .where(
                Import.state == "done",
                Sample.project_id == project_id,
                Sample.subject_id.in_(subject_ids),
            )
            .order_by(Sample.subject_id, Sample.id.desc())
        )
        latest: dict[int | None, Sample] = {}
        for sample in rows:
            latest.setdefault(sample.subject_id, sample)
        return list(latest.values())

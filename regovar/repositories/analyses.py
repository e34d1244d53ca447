from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from regovar.models import Analysis, AnalysisSample, FilterVersion, Sample, SavedFilter
from regovar.repositories import paging


class AnalysisRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, analysis: Analysis, members: list[AnalysisSample]) -> Analysis:
        self.session.add(analysis)
        await self.session.flush()
        for m in members:
            m.analysis_id = analysis.id
        self.session.add_all(members)
        await self.session.flush()
        return analysis

    async def get(self, analysis_id: int) -> Analysis | None:
        return await self.session.get(Analysis, analysis_id)

    async def by_name(self, project_id: int, name: str) -> Analysis | None:
        return await self.session.scalar(
            select(Analysis).where(Analysis.project_id == project_id, Analysis.name == name)
        )

    async def members(self, analysis_id: int) -> list[AnalysisSample]:
        rows = await self.session.scalars(
            select(AnalysisSample)
            .where(AnalysisSample.analysis_id == analysis_id)
            .order_by(AnalysisSample.position)
        )
        return list(rows)

    async def member_samples(self, analysis_id: int) -> list[tuple[AnalysisSample, Sample]]:
        return (await self.member_samples_of([analysis_id])).get(analysis_id, [])

    async def member_samples_of(
        self, analysis_ids: list[int]
    ) -> dict[int, list[tuple[AnalysisSample, Sample]]]:
        """The samples of several analyses in one query, each in its analysis's order."""
        rows = await self.session.execute(
            select(AnalysisSample, Sample)
            .join(Sample, Sample.id == AnalysisSample.sample_id)
            .where(AnalysisSample.analysis_id.in_(analysis_ids))
            .order_by(AnalysisSample.analysis_id, AnalysisSample.position)
        )
        grouped: dict[int, list[tuple[AnalysisSample, Sample]]] = {}
        for m, sample in rows.all():
            grouped.setdefault(m.analysis_id, []).append((m, sample))
        return grouped

    async def page(
        self, project_id: int | None, offset: int, limit: int, only_projects: list[int] | None
    ) -> tuple[list[Analysis], int]:
        stmt = select(Analysis)
        if only_projects is not None:
            stmt = stmt.where(Analysis.project_id.in_(only_projects))
        if project_id is not None:
            stmt = stmt.where(Analysis.project_id == project_id)
        return await paging.page(self.session, stmt, Analysis.id, offset, limit)

    async def flush(self) -> None:
        await self.session.flush()

    async def touch(self, analysis: Analysis, user_id: int | None) -> None:
        analysis.updated_by = user_id
        analysis.updated_at = datetime.now(UTC)
        await self.session.flush()


class FilterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_name(
        self, project_id: int, analysis_id: int | None, name: str
    ) -> SavedFilter | None:
        return await self.session.scalar(
            select(SavedFilter).where(
                SavedFilter.project_id == project_id,
                SavedFilter.analysis_id.is_(None)
                if analysis_id is None
                else SavedFilter.analysis_id == analysis_id,
                SavedFilter.name == name,
            )
        )

    async def get(self, filter_id: int) -> SavedFilter | None:
        return await self.session.get(SavedFilter, filter_id)

    async def add(self, saved: SavedFilter) -> SavedFilter:
        self.session.add(saved)
        await self.session.flush()
        return saved

    async def lock(self, filter_id: int) -> None:
        """Serialises the saving of versions of one filter (two editors at once)."""
        await self.session.execute(
            select(SavedFilter.id).where(SavedFilter.id == filter_id).with_for_update()
        )

    async def latest(self, filter_id: int) -> FilterVersion | None:
        return await self.session.scalar(
            select(FilterVersion)
            .where(FilterVersion.filter_id == filter_id)
            .order_by(FilterVersion.version.desc())
            .limit(1)
        )

    async def version(self, filter_id: int, version: int) -> FilterVersion | None:
        return await self.session.get(FilterVersion, (filter_id, version))

    async def add_version(self, version: FilterVersion) -> FilterVersion:
        self.session.add(version)
        await self.session.flush()
        return version

    async def of_analysis(
        self, project_id: int, analysis_id: int
    ) -> list[tuple[SavedFilter, FilterVersion]]:
        """The analysis's filters and its project's presets, each with its latest version."""
        latest = (
            select(FilterVersion.filter_id, func.max(FilterVersion.version).label("v"))
            .group_by(FilterVersion.filter_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(SavedFilter, FilterVersion)
            .join(latest, latest.c.filter_id == SavedFilter.id)
            .join(
                FilterVersion,
                (FilterVersion.filter_id == SavedFilter.id)
                & (FilterVersion.version == latest.c.v),
            )
            .where(
                SavedFilter.project_id == project_id,
                or_(SavedFilter.analysis_id == analysis_id, SavedFilter.analysis_id.is_(None)),
            )
            .order_by(SavedFilter.analysis_id.is_(None), SavedFilter.name)
        )
        return [(f, v) for f, v in rows.all()]

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from regovar.models import Analysis, AnalysisSample, Sample


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
        rows = await self.session.execute(
            select(AnalysisSample, Sample)
            .join(Sample, Sample.id == AnalysisSample.sample_id)
            .where(AnalysisSample.analysis_id == analysis_id)
            .order_by(AnalysisSample.position)
        )
        return [(m, s) for m, s in rows.all()]

    async def page(
        self, project_id: int | None, offset: int, limit: int, only_projects: list[int] | None
    ) -> tuple[list[Analysis], int]:
        stmt = select(Analysis)
        if only_projects is not None:
            stmt = stmt.where(Analysis.project_id.in_(only_projects))
        if project_id is not None:
            stmt = stmt.where(Analysis.project_id == project_id)
        total = await self.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = await self.session.scalars(stmt.order_by(Analysis.id).offset(offset).limit(limit))
        return list(rows), int(total or 0)

    async def touch(self, analysis: Analysis, user_id: int | None) -> None:
        analysis.updated_by = user_id
        analysis.updated_at = datetime.now(UTC)
        await self.session.flush()

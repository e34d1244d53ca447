from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from regovar.models import Project


class ProjectRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, name: str, description: str) -> Project:
        project = Project(name=name, description=description)
        self.session.add(project)
        await self.session.flush()
        return project

    async def get(self, project_id: int) -> Project | None:
        return await self.session.get(Project, project_id)

    async def by_name(self, name: str) -> Project | None:
        return await self.session.scalar(select(Project).where(Project.name == name))

    async def page(
        self, offset: int, limit: int, only: list[int] | None = None
    ) -> tuple[list[Project], int]:
        """``only``: the ids the caller may see (None: all)."""
        where = [] if only is None else [Project.id.in_(only)]
        rows = await self.session.scalars(
            select(Project).where(*where).order_by(Project.id).offset(offset).limit(limit)
        )
        total = await self.session.scalar(select(func.count()).select_from(Project).where(*where))
        return list(rows), int(total or 0)

    async def get_many(self, ids: list[int]) -> dict[int, Project]:
        rows = await self.session.scalars(select(Project).where(Project.id.in_(ids)))
        return {p.id: p for p in rows}

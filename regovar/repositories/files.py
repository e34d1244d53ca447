from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from regovar.models import File


class FileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, project_id: int, path: str, name: str, kind: str, size: int, sha256: str
    ) -> File:
        file = File(
            project_id=project_id, path=path, name=name, kind=kind, size=size, sha256=sha256
        )
        self.session.add(file)
        await self.session.flush()
        return file

    async def get(self, file_id: int) -> File | None:
        return await self.session.get(File, file_id)

    async def get_many(self, ids: list[int]) -> dict[int, File]:
        rows = await self.session.scalars(select(File).where(File.id.in_(ids)))
        return {f.id: f for f in rows}

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from regovar.models import AnnotationRelease, File, Import
from regovar.repositories import paging


class ImportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def info_declared(self, import_ids: list[int]) -> dict[str, set[str]]:
        """The INFO fields that these imports' headers declare, with their declared types."""
        rows = await self.session.execute(
            text("SELECT f.key, f.value ->> 'type' FROM imports, jsonb_each(header -> 'info') f "
                 "WHERE id = ANY(:ids) AND jsonb_typeof(header -> 'info') = 'object'"),
            {"ids": list(import_ids)},
        )  # fmt: skip
        declared: dict[str, set[str]] = {}
        for name, kind in rows.all():
            declared.setdefault(name, set()).add(kind or "")
        return declared

    async def annotation_fields_declared(self, import_ids: list[int]) -> set[str]:
        """The sub-fields of the annotations (CSQ, ANN...) that these imports' headers declare."""
        rows = await self.session.execute(
            text("SELECT DISTINCT jsonb_array_elements_text(f.value) FROM imports, "
                 "jsonb_each(CASE WHEN jsonb_typeof(header -> 'annotation_fields') = 'object' "
                 "THEN header -> 'annotation_fields' ELSE '{}' END) f "
                 "WHERE id = ANY(:ids) AND jsonb_typeof(f.value) = 'array'"),
            {"ids": list(import_ids)},
        )  # fmt: skip
        return set(rows.scalars())

    async def add(
        self, project_id: int, file_id: int, ped_file_id: int | None, assembly: str | None
    ) -> Import:
        job = Import(
            project_id=project_id,
            file_id=file_id,
            ped_file_id=ped_file_id,
            requested_assembly=assembly,
            state="queued",
            progress=0.0,
        )
        self.session.add(job)
        await self.session.flush()
        return job

    async def get(self, import_id: int, *, for_update: bool = False) -> Import | None:
        stmt = select(Import).where(Import.id == import_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt.execution_options(populate_existing=True))

    async def done_ids(self, project_id: int) -> list[int]:
        rows = await self.session.scalars(
            select(Import.id).where(Import.project_id == project_id, Import.state == "done")
        )
        return sorted(rows)

    async def assemblies(self, project_id: int) -> set[str]:
        """The genome builds of a project's finished imports."""
        rows = await self.session.scalars(
            select(Import.assembly).distinct().where(
                Import.project_id == project_id, Import.state == "done",
                Import.assembly.is_not(None),
            )
        )  # fmt: skip
        return {str(a) for a in rows}

    async def get_many(self, ids: list[int]) -> dict[int, Import]:
        rows = await self.session.scalars(select(Import).where(Import.id.in_(ids)))
        return {i.id: i for i in rows}

    async def same_content(self, project_id: int, sha256: str) -> Import | None:
        """The newest import of a VCF with these bytes in the project (whatever its PED)."""
        stmt = (
            select(Import)
            .join(File, File.id == Import.file_id)
            .where(Import.project_id == project_id, File.sha256 == sha256)
            .order_by(Import.id.desc())
            .limit(1)
        )
        return await self.session.scalar(stmt)

    async def page(
        self,
        project_id: int | None,
        state: str | None,
        offset: int,
        limit: int,
        only_projects: list[int] | None = None,
    ) -> tuple[list[Import], int]:
        stmt = select(Import)
        if only_projects is not None:
            stmt = stmt.where(Import.project_id.in_(only_projects))
        if project_id is not None:
            stmt = stmt.where(Import.project_id == project_id)
        if state is not None:
            stmt = stmt.where(Import.state == state)
        return await paging.page(self.session, stmt, Import.id.desc(), offset, limit)

    async def set_progress(self, import_id: int, progress: float, records: int) -> None:
        # A progress figure lost in a crash is of no matter: its commit does not wait for the
        # disk (the import, its own transaction, is unaffected).
        await self.session.execute(text("SET LOCAL synchronous_commit = off"))
        await self.session.execute(
            update(Import)
            .where(Import.id == import_id)
            .values(progress=progress, records=records)
            .execution_options(synchronize_session=False)
        )

    async def mark(self, import_id: int, **values: Any) -> None:
        if values.get("state") in ("done", "failed"):
            values.setdefault("finished_at", datetime.now(UTC))
        await self.session.execute(
            update(Import)
            .where(Import.id == import_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def lock_content(self, project_id: int, sha256: str) -> None:
        """Serialises registrations of the same bytes in a project (until the transaction ends)."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('regovar.content'), hashtext(:k))"),
            {"k": f"{project_id}:{sha256}"},
        )

    async def is_being_loaded(self, import_id: int) -> bool:
        """True when a live transaction holds the import's load lock."""
        got = await self.session.scalar(
            text("SELECT pg_try_advisory_xact_lock(hashtext('regovar.import'), :id)"),
            {"id": import_id},
        )
        return not got

    async def running_unheld(self, import_ids: list[int], started_before: datetime) -> set[int]:
        """Of these imports, those that read ``running`` (since before ``started_before``)
        although no live transaction holds their load lock: the process that loaded them died.
        One statement, reading pg_locks without taking a lock."""
        if not import_ids:
            return set()
        rows = await self.session.scalars(text(
            "SELECT i.id FROM imports i WHERE i.id = ANY(:ids) AND i.state = 'running' "
            "AND i.started_at < :before AND NOT EXISTS (SELECT 1 FROM pg_locks l "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid = (hashtext('regovar.import')::bigint & 4294967295)::oid "
            "AND l.objid::bigint = i.id)"
        ), {"ids": [int(i) for i in import_ids], "before": started_before})  # fmt: skip
        return {int(r) for r in rows}

    async def try_lock(self, import_id: int) -> bool:
        """Transaction-scoped: two workers never load the same import at once."""
        got = await self.session.scalar(
            text("SELECT pg_try_advisory_xact_lock(hashtext('regovar.import'), :id)"),
            {"id": import_id},
        )
        return bool(got)

    async def release_id(self, name: str) -> int:
        await self.session.execute(
            text("INSERT INTO annotation_releases (name) VALUES (:n) ON CONFLICT DO NOTHING"),
            {"n": name},
        )
        found = await self.session.scalar(
            select(AnnotationRelease.id).where(AnnotationRelease.name == name)
        )
        return int(found)  # type: ignore[arg-type]

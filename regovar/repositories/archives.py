"""What archiving reads and removes: a project's rows, table by table, and the bundle rows.

The project's rows are dumped with COPY (CSV with a header) and restored through a staging
table, with their own ids (sequences never hand them out again), in foreign-key order. Users
who have left since are kept out of restored rows (their columns become NULL).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from regovar.models import Archive, Project
from regovar.repositories import paging

# Restore order (a table after those it refers to); the condition selects the project's rows.
PROJECT_TABLES: tuple[tuple[str, str], ...] = (
    ("subjects", "project_id = {p}"),
    ("files", "project_id = {p}"),
    ("imports", "project_id = {p}"),
    ("samples", "project_id = {p}"),
    ("analyses", "project_id = {p}"),
    ("analysis_samples", "analysis_id IN (SELECT id FROM analyses WHERE project_id = {p})"),
    ("saved_filters", "project_id = {p}"),
    ("filter_versions", "filter_id IN (SELECT id FROM saved_filters WHERE project_id = {p})"),
    ("variant_notes", "project_id = {p}"),
)
# Shared or append-only: copied into the bundle, never removed (the audit trail is a chain).
KEPT_TABLES: tuple[tuple[str, str], ...] = (
    ("annotation_releases", "id IN (SELECT annotation_release_id FROM imports "
                            "WHERE project_id = {p})"),
    ("audit_events", "project_id = {p}"),
)  # fmt: skip
_USER_REFERENCES = """
SELECT a.attname FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
WHERE c.contype = 'f' AND c.conrelid = to_regclass($1) AND c.confrelid = 'users'::regclass
"""


class ArchiveRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _driver(self) -> Any:
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        return raw.driver_connection

    async def snapshot(self) -> None:
        """The rest of this transaction reads one snapshot: what is dumped is what is removed
        (rows written meanwhile stay in the database). First statement of the transaction."""
        await self.session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))

    async def unused_projects(self, days: int) -> list[Project]:
        """Projects with data, not protected, not archived, unused for ``days`` days."""
        has_data = text("EXISTS (SELECT 1 FROM imports i WHERE i.project_id = projects.id)")
        rows = await self.session.scalars(
            select(Project)
            .where(Project.archived_at.is_(None), Project.protected.is_(False), has_data,
                   Project.last_used_at < func.now() - func.make_interval(0, 0, 0, days))
            .order_by(Project.last_used_at, Project.id)
        )  # fmt: skip
        return list(rows)

    async def lock_project(self, project_id: int) -> Project | None:
        return await self.session.scalar(
            select(Project).where(Project.id == project_id).with_for_update()
            .execution_options(populate_existing=True)
        )  # fmt: skip

    async def loaded_imports(self, project_id: int) -> list[tuple[int, str]]:
        """(import id, assembly) of the project's imports that have calls."""
        rows = await self.session.execute(text(
            "SELECT id, assembly FROM imports WHERE project_id = :p AND state = 'done' "
            "AND to_regclass('calls_i' || id) IS NOT NULL ORDER BY id"
        ), {"p": project_id})  # fmt: skip
        return [(int(i), str(a)) for i, a in rows]

    async def files(self, project_id: int) -> list[tuple[int, str, int]]:
        rows = await self.session.execute(
            text("SELECT id, path, size FROM files WHERE project_id = :p ORDER BY id"),
            {"p": project_id},
        )
        return [(int(i), str(p), int(s)) for i, p, s in rows]

    async def busy_imports(self, project_id: int) -> int:
        """Imports of the project queued or loading (archiving waits for them)."""
        return int(await self.session.scalar(text(
            "SELECT count(*) FROM imports WHERE project_id = :p AND state IN ('queued', 'running')"
        ), {"p": project_id}) or 0)  # fmt: skip

    async def paths_used_elsewhere(self, project_id: int, paths: list[str]) -> set[str]:
        """Which of these files other projects also imported (they must stay)."""
        rows = await self.session.scalars(text(
            "SELECT DISTINCT path FROM files WHERE project_id <> :p AND path = ANY(:paths)"
        ), {"p": project_id, "paths": paths})  # fmt: skip
        return set(rows)

    async def copy_out(self, table: str, condition: str, project_id: int, sink: Any) -> int:
        conn = await self._driver()
        where = condition.format(p=int(project_id))
        status = await conn.copy_from_query(
            f"SELECT * FROM {table} WHERE {where} ORDER BY 1", output=sink, format="csv",
            header=True,
        )  # fmt: skip
        return int(status.split()[-1])

    async def remove(self, project_id: int) -> int:
        """Deletes the project's rows (children first); returns how many."""
        removed = 0
        for table, condition in reversed(PROJECT_TABLES):
            result = await self.session.execute(
                text(f"DELETE FROM {table} WHERE {condition.format(p=int(project_id))}")
            )
            removed += int(result.rowcount or 0)  # type: ignore[attr-defined]
        return removed

    async def restore(self, table: str, columns: list[str], source: Any,
                      upsert: bool = False) -> int:  # fmt: skip
        """Loads a table's rows from its CSV (header first) with their ids."""
        conn = await self._driver()
        stage = f"restore_{table}"
        await conn.execute(
            f"CREATE TEMP TABLE {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        await conn.copy_to_table(stage, source=source, columns=columns, format="csv",
                                 header=True)  # fmt: skip
        for (column,) in await conn.fetch(_USER_REFERENCES, table):
            await conn.execute(
                f"UPDATE {stage} SET {column} = NULL "
                f"WHERE {column} IS NOT NULL AND {column} NOT IN (SELECT id FROM users)"
            )
        names = ", ".join(f'"{c}"' for c in columns)
        conflict = " ON CONFLICT DO NOTHING" if upsert else ""
        status = await conn.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage}{conflict}"
        )
        await conn.execute(f"DROP TABLE {stage}")
        return int(status.split()[-1])

    async def schema_revision(self) -> str:
        return str(await self.session.scalar(text("SELECT version_num FROM alembic_version")))

    async def mark_project(self, project_id: int, archived: bool) -> None:
        now = datetime.now(UTC)
        values: dict[str, Any] = {"archived_at": now if archived else None}
        if not archived:
            values["last_used_at"] = now  # restored for someone: a new lease of life
        await self.session.execute(
            update(Project).where(Project.id == project_id).values(**values)
            .execution_options(synchronize_session=False)
        )  # fmt: skip

    async def add(self, archive: Archive) -> Archive:
        self.session.add(archive)
        await self.session.flush()
        return archive

    async def get(self, archive_id: int, *, for_update: bool = False) -> Archive | None:
        stmt = select(Archive).where(Archive.id == archive_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt.execution_options(populate_existing=True))

    async def mark_restored(self, archive_id: int) -> None:
        await self.session.execute(
            update(Archive).where(Archive.id == archive_id)
            .values(state="restored", restored_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)
        )  # fmt: skip

    async def page(self, offset: int, limit: int) -> tuple[list[Archive], int]:
        return await paging.page(self.session, select(Archive), Archive.id.desc(), offset, limit)

"""Archiving of unused projects, and their restore.

A project nobody read or changed for ``archive_after_days`` days (a person using it through
GraphQL or the CLI counts; batches do not), with data, not protected, is written to a bundle in
the archive folder: every row of its subjects, files, imports, samples, analyses, filters and
interpretation notes, each import's calls and transcripts, its audit events and annotation
releases (copied, never removed), and the original VCF and PED files. The bundle is read back
(checksums and row counts) and only then are the rows removed, in the same transaction that
dumped them (a snapshot: rows written meanwhile stay). Source files inside the data folder are
then deleted; files elsewhere (the lab's shares) are left alone.

The project itself stays, marked archived, so that its name, members and history remain;
``restore`` puts every row back with its own id, so queries answer as before.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from regovar import __version__
from regovar.adapters.bundle import BundleError, BundleReader, BundleWriter
from regovar.config import Settings
from regovar.domain.access import require_admin
from regovar.domain.audit import record
from regovar.domain.common import Page, check_page
from regovar.domain.errors import (
    ArchiveInvalid,
    Conflict,
    NotFound,
    ProjectArchived,
    ProjectBusy,
    RegovarError,
)
from regovar.domain.principal import Principal
from regovar.models import Archive, Project
from regovar.repositories.archives import KEPT_TABLES, PROJECT_TABLES
from regovar.repositories.uow import UnitOfWorkFactory
from regovar.repositories.variant_store import CALL_COLUMNS, TRANSCRIPT_COLUMNS

log = logging.getLogger("regovar.archives")


@dataclass(frozen=True)
class Candidate:
    project: Project
    days_unused: int


@dataclass
class ArchiveReport:
    dry_run: bool
    candidates: list[Candidate] = field(default_factory=list)
    archived: list[Archive] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # project name, reason
    skipped: list[tuple[str, str]] = field(default_factory=list)  # busy: the next run tries

    @property
    def freed_bytes(self) -> int:
        return sum(a.freed_bytes for a in self.archived)


class ArchiveManager:
    def __init__(self, uow: UnitOfWorkFactory, settings: Settings, max_page_size: int) -> None:
        self.uow, self.settings, self.max_page_size = uow, settings, max_page_size

    async def run(self, principal: Principal, *, dry_run: bool = False, days: int | None = None,
                  project: str | None = None) -> ArchiveReport:  # fmt: skip
        """Archives the unused projects (or the one named, whatever its last use)."""
        require_admin(principal)
        days = self.settings.archive_after_days if days is None else days
        now = datetime.now(UTC)
        async with self.uow() as uow:
            if project is not None:
                found = await uow.projects.by_name(project)
                if found is None:
                    raise NotFound(f"project {project!r} not found", name=project)
                if found.archived_at is not None:
                    raise ProjectArchived(f"project {project!r} is archived already")
                projects = [found]
            else:
                projects = await uow.archives.unused_projects(days)
        report = ArchiveReport(dry_run)
        report.candidates = [Candidate(p, (now - p.last_used_at).days) for p in projects]
        if dry_run:
            return report
        for candidate in report.candidates:
            try:
                report.archived.append(await self._archive(principal, candidate.project.id))
            except ProjectBusy as exc:
                report.skipped.append((candidate.project.name, exc.message))
            except Exception as exc:  # one project's trouble never stops the others
                log.warning("archiving project %d failed: %s: %s", candidate.project.id,
                            type(exc).__name__, exc)  # fmt: skip
                message = exc.message if isinstance(exc, RegovarError) else (
                    f"{type(exc).__name__}: {exc}")  # fmt: skip
                report.failed.append((candidate.project.name, message[:1000]))
        return report

    async def validate(self, principal: Principal, options: dict[str, Any]) -> None:
        """A project named by hand exists and is not archived (checked before the job)."""
        name = options.get("project")
        if name is None:
            return
        async with self.uow() as uow:
            found = await uow.projects.by_name(name)
        if found is None:
            raise NotFound(f"project {name!r} not found", name=name)
        if found.archived_at is not None:
            raise ProjectArchived(f"project {name!r} is archived already")

    async def _archive(self, principal: Principal, project_id: int) -> Archive:
        stamp = datetime.now(UTC)
        async with self.uow() as uow:
            await uow.archives.snapshot()
            project = await uow.archives.lock_project(project_id)
            if project is None or project.archived_at is not None:
                raise ArchiveInvalid(f"project {project_id} is gone or archived already")
            if await uow.archives.busy_imports(project.id):
                raise ProjectBusy(f"project {project.name!r} has an import queued or loading: "
                                  "it is archived at the next run")  # fmt: skip
            name = f"{_safe(project.name)}-{project.id}-{stamp:%Y%m%dT%H%M%S}"
            writer = BundleWriter(self.settings.effective_archive_dir, name)
            try:
                loaded = await uow.archives.loaded_imports(project.id)
                rows = await self._dump(uow, project.id, [i for i, _ in loaded], writer)
                files = await uow.archives.files(project.id)
                for file_id, path, _ in files:
                    if Path(path).is_file():
                        await asyncio.to_thread(writer.source, Path(path), file_id)
                manifest = {
                    "project": {"id": project.id, "name": project.name,
                                "description": project.description,
                                "last_used_at": project.last_used_at.isoformat()},
                    "imports": [{"id": i, "assembly": a} for i, a in loaded],
                    "schema": await uow.archives.schema_revision(),
                    "software": f"regovar {__version__}",
                    "created_at": stamp.isoformat(),
                }  # fmt: skip
                written = await asyncio.to_thread(writer.finish, manifest, rows)
            except BaseException:
                writer.abandon()
                raise
            try:
                reader = BundleReader(written.path, written.manifest_sha256)
                await asyncio.to_thread(reader.verify)  # read back before removing anything
                freed = 0
                for import_id, _ in loaded:
                    freed += await uow.variant_store.drop(import_id)
                await uow.archives.remove(project.id)
                await uow.archives.mark_project(project.id, archived=True)
                in_data = await self._deletable(uow, project.id, files)
                freed += sum(s for _, s in in_data)
                archive = await uow.archives.add(Archive(
                    project_id=project.id, project_name=project.name, path=str(written.path),
                    bytes=written.bytes, freed_bytes=freed, counts=rows,
                    manifest_sha256=written.manifest_sha256, last_used_at=project.last_used_at,
                    created_by=principal.origin or principal.login,
                ))  # fmt: skip
                await record(uow, principal, "project.archive", "project", project.id,
                             project_id=project.id, archive_id=archive.id, bytes=written.bytes,
                             freed_bytes=freed)  # fmt: skip
                await uow.commit()
            except BaseException:
                await asyncio.to_thread(shutil.rmtree, written.path, True)
                raise
        for path, _ in in_data:  # after the commit: the bundle holds them
            Path(path).unlink(missing_ok=True)
        return archive

    async def _deletable(self, uow: Any, project_id: int,
                         files: list[tuple[int, str, int]]) -> list[tuple[str, int]]:  # fmt: skip
        """Source files archiving may delete: Regovar's own (inside the data folder), outside
        any drop folder, imported by no other project."""
        inboxes = [i.path for i in self.settings.inboxes]
        mine = [(p, s) for _, p, s in files if _inside(Path(p), self.settings.data_dir)
                and not any(_inside(Path(p), i) for i in inboxes)]  # fmt: skip
        shared = await uow.archives.paths_used_elsewhere(project_id, [p for p, _ in mine])
        return [(p, s) for p, s in dict(mine).items() if p not in shared]

    async def _dump(self, uow: Any, project_id: int, import_ids: list[int],
                    writer: BundleWriter) -> dict[str, int]:  # fmt: skip
        rows: dict[str, int] = {}
        for table, condition in (*PROJECT_TABLES, *KEPT_TABLES):
            with writer.table(table) as sink:
                rows[table] = await uow.archives.copy_out(table, condition, project_id, sink)
        for import_id in import_ids:
            with writer.table(f"calls_i{import_id}") as calls, \
                    writer.table(f"transcripts_i{import_id}") as transcripts:  # fmt: skip
                counts = await uow.variant_store.copy_out(import_id, calls, transcripts)
            rows[f"calls_i{import_id}"], rows[f"transcripts_i{import_id}"] = counts
        return rows

    async def restore(self, principal: Principal, archive_id: int) -> Archive:
        """Puts an archived project's rows back, with their ids, from its verified bundle."""
        require_admin(principal)
        async with self.uow() as uow:
            archive = await uow.archives.get(archive_id, for_update=True)
            if archive is None:
                raise NotFound(f"archive {archive_id} not found", id=archive_id)
            if archive.state != "archived":
                raise Conflict(f"archive {archive_id} was restored already")
            project = await uow.projects.get(archive.project_id) if archive.project_id else None
            if project is None or project.archived_at is None:
                raise Conflict(f"project {archive.project_name!r} of archive {archive_id} is "
                               "not archived (deleted, or restored from another "
                               "bundle)")  # fmt: skip
            try:
                reader = BundleReader(Path(archive.path), archive.manifest_sha256)
                await asyncio.to_thread(reader.verify)
            except BundleError as exc:
                raise ArchiveInvalid(f"archive {archive_id}: {exc}", id=archive_id) from exc
            for table, _ in KEPT_TABLES[:1]:  # annotation releases, shared: only the missing
                with reader.open(table) as source:
                    await uow.archives.restore(table, reader.columns(table), source, upsert=True)
            for table, _ in PROJECT_TABLES:
                with reader.open(table) as source:
                    await uow.archives.restore(table, reader.columns(table), source)
            for entry in reader.manifest["imports"]:
                await self._restore_calls(uow, reader, int(entry["id"]), str(entry["assembly"]))
            await uow.archives.mark_project(project.id, archived=False)
            await uow.archives.mark_restored(archive.id)
            await record(uow, principal, "project.restore", "project", project.id,
                         project_id=project.id, archive_id=archive.id)  # fmt: skip
            try:  # the files first: a failure leaves the archive as it was
                await asyncio.to_thread(_put_back, reader, list(reader.manifest["sources"]))
            except OSError as exc:
                raise ArchiveInvalid(f"archive {archive_id}: cannot put a source file back: "
                                     f"{exc.strerror or exc}: {exc.filename}") from exc
            await uow.commit()
        async with self.uow() as uow:
            done = await uow.archives.get(archive_id)
        assert done is not None
        return done

    async def _restore_calls(self, uow: Any, reader: BundleReader, import_id: int,
                             assembly: str) -> None:  # fmt: skip
        calls, transcripts = f"calls_i{import_id}", f"transcripts_i{import_id}"
        _same_columns(reader, calls, CALL_COLUMNS)
        _same_columns(reader, transcripts, TRANSCRIPT_COLUMNS)
        store = uow.variant_store
        await store.begin(import_id, assembly)
        with reader.open(calls) as c, reader.open(transcripts) as t:
            await store.send_csv(c, reader.columns(calls), t, reader.columns(transcripts))
        await store.finish()

    async def page(self, principal: Principal, offset: int = 0,
                   limit: int = 50) -> Page[Archive]:  # fmt: skip
        require_admin(principal)
        check_page(offset, limit, self.max_page_size)
        async with self.uow() as uow:
            items, total = await uow.archives.page(offset, limit)
        return Page(items, total, offset, limit)


def _same_columns(reader: BundleReader, table: str, expected: list[str]) -> None:
    found = reader.columns(table)
    if not set(expected) <= set(found):
        missing = ", ".join(sorted(set(expected) - set(found)))
        raise ArchiveInvalid(f"{reader.folder}: {table} lacks columns {missing}")


def _put_back(reader: BundleReader, sources: list[dict[str, Any]]) -> None:
    """Source files that archiving deleted go back where they were (when that place is free)."""
    for entry in sources:
        original = Path(entry["original"])
        if not original.exists():
            original.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(reader.source_path(entry["file"]), original)


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:60] or "project"

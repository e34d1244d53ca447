"""Imports: register a VCF (+ PED) of a project, then load it atomically (the main job)."""

from __future__ import annotations

import dataclasses
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from regovar.adapters.ped import PedMalformed, read_ped
from regovar.adapters.runs import sha256_of
from regovar.adapters.vcf import ImportWarnings
from regovar.domain import import_pipeline
from regovar.domain.access import readable, require_role, require_user, visible_projects
from regovar.domain.audit import record
from regovar.domain.common import Page, check_page
from regovar.domain.errors import (
    Conflict,
    ImportFailed,
    InvalidInput,
    NotFound,
    PedMalformedError,
    PermissionDenied,
    ProjectArchived,
    RegovarError,
)
from regovar.domain.import_parse import ImportTuning
from regovar.domain.principal import Principal
from regovar.models import File, Import
from regovar.repositories.uow import UnitOfWork, UnitOfWorkFactory, connection_lost

_log = logging.getLogger(__name__)

IMPORT_STATES = ("queued", "running", "done", "failed")
STARTING_GRACE_S = 10  # from "running" to holding the load lock
ASSEMBLY_ALIASES = {
    "grch37": "GRCh37",
    "hg19": "GRCh37",
    "b37": "GRCh37",
    "grch38": "GRCh38",
    "hg38": "GRCh38",
}
ProgressCallback = Callable[[float, int], None]
Dispatch = Callable[[int], None]


@dataclass(frozen=True)
class StartImport:
    project_id: int
    path: str
    ped_path: str | None = None
    assembly: str | None = None


@dataclass(frozen=True)
class ImportStarted:
    job: Import
    already_imported: bool  # the same bytes were imported (or are being imported) before
    # With a new PED for a VCF imported before: the subjects whose pedigree it changed.
    pedigree_updated: list[str] | None = None


class ImportManager:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        *,
        import_dirs: tuple[Path, ...],
        default_assembly: str,
        tuning: ImportTuning,
        max_page_size: int,
        dispatch: Dispatch | None = None,
    ) -> None:
        self.uow = uow
        self.import_dirs = tuple(p.resolve() for p in import_dirs)
        self.default_assembly = default_assembly
        self.tuning = tuning
        self.max_page_size = max_page_size
        self.dispatch = dispatch

    async def start(
        self, principal: Principal, command: StartImport, *, queue: bool = True
    ) -> ImportStarted:
        """Registers the file and a queued job; the job runs on a worker unless ``queue=False``.
        Editors of the project start imports."""
        require_user(principal)
        async with self.uow() as uow:
            await require_role(uow, principal, command.project_id, "editor")
        vcf = self._checked_path(principal, command.path, "VCF")
        ped = self._checked_path(principal, command.ped_path, "PED") if command.ped_path else None
        assembly = ASSEMBLY_ALIASES.get((command.assembly or "").lower(), command.assembly)
        if assembly not in (None, "GRCh37", "GRCh38"):
            raise InvalidInput(
                "assembly must be GRCh37 or GRCh38 (or hg19, b37, hg38)", field="assembly"
            )
        command = dataclasses.replace(command, assembly=assembly)
        vcf_sha, ped_sha = sha256_of(vcf), (sha256_of(ped) if ped else None)
        async with self.uow() as uow:
            await require_role(uow, principal, command.project_id, "editor")
            target = await uow.projects.get(command.project_id)
            if target is not None and target.archived_at is not None:
                raise ProjectArchived(
                    f"project {target.name!r} is archived: restore it first "
                    "(regovar archive list, regovar archive restore ID)", id=target.id
                )
            # Two requests for the same bytes at once: the second waits, then finds the first.
            await uow.imports.lock_content(command.project_id, vcf_sha)
            # Keyed on the VCF's bytes alone: the same VCF with another (corrected) PED is not
            # loaded again, the new PED sets the pedigree of its subjects.
            previous = await uow.imports.same_content(command.project_id, vcf_sha)
            updated: list[str] | None = None
            if previous is not None and ped is not None and ped_sha is not None:
                updated = await self._new_pedigree(uow, principal, previous, ped, ped_sha)
            if previous is not None and await _in_hand(uow, previous, queue):
                if previous.state == "queued" and queue and self.dispatch is not None:
                    # Its message may be lost (broker purged, worker never ran): send it again;
                    # the import is idempotent and locked, so a duplicate message is harmless.
                    self.dispatch(previous.id)
                await uow.commit()
                refreshed = await self._get(previous.id)
                return ImportStarted(refreshed, already_imported=True, pedigree_updated=updated)
            if previous is not None:  # failed, or left running by a process that died
                job = previous
                await uow.imports.mark(
                    job.id, state="queued", progress=0.0, error_code=None, error_message=None
                )
                known = await uow.files.get(job.file_id)
                if known is None or known.path != str(vcf):  # the same bytes, moved: read here
                    moved = await uow.files.add(job.project_id, str(vcf), vcf.name, "vcf",
                                                vcf.stat().st_size, vcf_sha)  # fmt: skip
                    await uow.imports.mark(job.id, file_id=moved.id)
            else:
                job = await self._register(uow, command, vcf, vcf_sha, ped, ped_sha)
            await record(uow, principal, "import.start", "import", job.id,
                         project_id=command.project_id, file=vcf.name, sha256=vcf_sha,
                         ped=ped.name if ped else None)  # fmt: skip
            if queue and self.dispatch is not None:
                dispatch, job_id = self.dispatch, job.id
                uow.after_commit(lambda: dispatch(job_id))
            await uow.commit()
            refreshed = await self._get(job.id)
            return ImportStarted(refreshed, already_imported=False)

    async def _new_pedigree(
        self, uow: UnitOfWork, principal: Principal, job: Import, ped: Path, ped_sha: str
    ) -> list[str] | None:
        """A PED given with a VCF imported before: the import now refers to it, and the
        subjects of a loaded import take its pedigree at once (an import not loaded yet reads
        it when it runs). Returns the subjects changed, or None when the PED is not new."""
        known = await uow.files.get(job.ped_file_id) if job.ped_file_id else None
        if known is not None and known.sha256 == ped_sha:
            return None
        if job.state == "running" and await uow.imports.is_being_loaded(job.id):
            raise Conflict(
                f"import {job.id} of this VCF is being loaded with its earlier PED: give the "
                "new PED again once it is done", id=job.id,
            )  # fmt: skip
        changed: list[str] = []
        warnings: list[dict[str, object]] | None = None
        if job.state == "done":
            try:
                entries = read_ped(ped)
            except PedMalformed as exc:
                raise PedMalformedError(str(exc), file=exc.path, line=exc.line,
                                        problem=exc.message) from exc  # fmt: skip
            said = ImportWarnings()
            import_pipeline.samples_not_in_ped((job.header or {}).get("samples", []), entries,
                                               said)  # fmt: skip
            _, changed = await import_pipeline.apply_pedigree(
                uow, job.project_id, entries, said, str(ped)
            )
            # The import's warnings about its PED are now the new PED's; the VCF's stay.
            warnings = sorted(
                [w for w in job.warnings or [] if w["kind"] not in import_pipeline.PED_WARNINGS]
                + said.as_list(), key=lambda w: str(w["kind"]),
            )  # fmt: skip
        added = await uow.files.add(job.project_id, str(ped), ped.name, "ped",
                                    ped.stat().st_size, ped_sha)  # fmt: skip
        updated = {"ped_file_id": added.id} | ({} if warnings is None else {"warnings": warnings})
        await uow.imports.mark(job.id, **updated)
        await record(uow, principal, "import.pedigree", "import", job.id,
                     project_id=job.project_id, ped=ped.name, sha256=ped_sha,
                     subjects_changed=changed)  # fmt: skip
        return changed

    async def _register(
        self,
        uow: UnitOfWork,
        command: StartImport,
        vcf: Path,
        vcf_sha: str,
        ped: Path | None,
        ped_sha: str | None,
    ) -> Import:
        files = uow.files
        vcf_file = await files.add(
            command.project_id, str(vcf), vcf.name, "vcf", vcf.stat().st_size, vcf_sha
        )
        ped_id = None
        if ped is not None and ped_sha is not None:
            ped_id = (
                await files.add(
                    command.project_id, str(ped), ped.name, "ped", ped.stat().st_size, ped_sha
                )
            ).id
        return await uow.imports.add(command.project_id, vcf_file.id, ped_id, command.assembly)

    def _checked_path(self, principal: Principal, raw: str | None, kind: str) -> Path:
        if not raw:
            raise InvalidInput(f"a {kind} path is required", field="path")
        if "\0" in raw:
            raise InvalidInput(f"a {kind} path cannot hold a NUL character", field="path")
        path = Path(raw).expanduser()
        if not path.is_absolute() and not principal.is_system and self.import_dirs:
            path = self.import_dirs[0] / path  # web callers name files inside the drop folder
        try:
            path = path.resolve()
        except (OSError, RuntimeError) as exc:  # a symbolic link loop, an unreadable folder
            raise InvalidInput(f"{kind} path {raw} cannot be resolved: {exc}", path=raw) from exc
        if not principal.is_system and not any(path.is_relative_to(d) for d in self.import_dirs):
            raise PermissionDenied(
                f"{kind} file {raw} is outside the import folders",
                path=raw,
                import_dirs=[str(d) for d in self.import_dirs],
            )
        if not path.is_file():
            raise InvalidInput(f"{kind} file {raw} does not exist or is not a file", path=raw)
        return path

    async def run(
        self, principal: Principal, import_id: int, on_progress: ProgressCallback | None = None
    ) -> Import:
        """Loads the file; idempotent: a finished import is returned as it is."""
        async with self.uow() as uow:
            job = await uow.imports.get(import_id)
            if job is None:
                raise NotFound(f"import {import_id} not found", id=import_id)
            await _require(uow, principal, job, "editor")
            if job.state == "done":
                return job
            files = await uow.files.get_many([i for i in (job.file_id, job.ped_file_id) if i])
            await import_pipeline.mark_running(uow, job)
            await uow.commit()
        try:
            await import_pipeline.load(
                self.uow,
                job,
                files,
                default_assembly=self.default_assembly,
                tuning=self.tuning,
                on_progress=on_progress,
            )
        except RegovarError as exc:
            if exc.code != "IMPORT_BUSY":
                await import_pipeline.mark_failed(self.uow, import_id, exc)
                await self._record_end(principal, job, error=exc.code)
            raise
        except Exception as exc:
            if connection_lost(exc):  # not a fault of the file nor of Regovar: said so
                _log.warning("import %s: the database connection was lost", import_id)
                vcf = files.get(job.file_id)
                lost = ImportFailed(
                    f"import {import_id}{f' ({vcf.path})' if vcf else ''} stopped: the "
                    "connection to the database was lost while loading (PostgreSQL restarted, "
                    "or an administrator ended the session); nothing of it was kept: run it "
                    "again", id=import_id,
                )  # fmt: skip
                await import_pipeline.mark_failed(self.uow, import_id, lost)
                await self._record_end(principal, job, error=lost.code)
                raise lost from exc
            # Never leave a job "running" behind an error: record it, answer with a code.
            # The log gets where in the code, not the message (it may quote the file's names
            # and values: patient identifiers stay on the job row, for the lab).
            _log.error("import %s failed unexpectedly: %s at\n%s", import_id,
                       type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__)))
            vcf = files.get(job.file_id)
            where = f" ({vcf.path})" if vcf is not None else ""
            failure = ImportFailed(
                f"import {import_id}{where} failed: {type(exc).__name__}: {str(exc)[:500]} "
                "(an unexpected error: the server log has its details)",
                id=import_id,
            )
            await import_pipeline.mark_failed(self.uow, import_id, failure)
            await self._record_end(principal, job, error=failure.code)
            raise failure from exc
        return await self._record_end(principal, job)

    async def _record_end(
        self, principal: Principal, job: Import, error: str | None = None
    ) -> Import:
        async with self.uow() as uow:
            done = await uow.imports.get(job.id)
            assert done is not None
            await record(uow, principal, "import.fail" if error else "import.finish", "import",
                         job.id, project_id=job.project_id, error=error, records=done.records,
                         variants=done.variants, samples=done.samples)  # fmt: skip
            await uow.commit()
            return done

    async def get(self, principal: Principal, import_id: int) -> Import:
        require_user(principal)
        async with self.uow() as uow:
            job = await uow.imports.get(import_id)
            if job is not None:
                await _require(uow, principal, job, "viewer")
        return await self._get(import_id)

    async def _get(self, import_id: int) -> Import:
        async with self.uow() as uow:
            job = await uow.imports.get(import_id)
            if job is None:
                raise NotFound(f"import {import_id} not found", id=import_id)
            return job

    async def page(
        self,
        principal: Principal,
        project_id: int | None = None,
        state: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> Page[Import]:
        check_page(offset, limit, self.max_page_size)
        if state is not None and state not in IMPORT_STATES:
            raise InvalidInput(f"unknown import state {state!r}; expected one of {IMPORT_STATES}")
        async with self.uow() as uow:
            if project_id is not None:
                await require_role(uow, principal, project_id, "viewer")
            visible = await visible_projects(uow, principal)
            items, total = await uow.imports.page(project_id, state, offset, limit, visible)
            return Page(items, total, offset, limit)

    async def files_by_id(self, principal: Principal, ids: list[int]) -> dict[int, File]:
        async with self.uow() as uow:
            return await readable(uow, principal, await uow.files.get_many(ids))

    async def interrupted(self, principal: Principal, ids: list[int]) -> dict[int, bool]:
        """Per import: whether it reads ``running`` although no process loads it any more
        (the worker or command that ran it stopped; nothing of it was kept). It runs again
        when a worker takes its message back (after ``REGOVAR_WORKER_HEARTBEAT_TTL``), or when
        the same file is imported again. An import that started in the last few seconds does
        not count: it takes its lock just after it is marked running."""
        async with self.uow() as uow:
            jobs = await readable(uow, principal, await uow.imports.get_many(ids))
            running = [i for i, job in jobs.items() if job.state == "running"]
            before = datetime.now(UTC) - timedelta(seconds=STARTING_GRACE_S)
            lost = await uow.imports.running_unheld(running, before)
        return {i: i in lost for i in jobs}

    async def get_many(self, principal: Principal, ids: list[int]) -> dict[int, Import]:
        async with self.uow() as uow:
            return await readable(uow, principal, await uow.imports.get_many(ids))


async def _require(uow: UnitOfWork, principal: Principal, job: Import, role: str) -> None:
    """A job of a project the principal cannot see does not exist for it."""
    try:
        await require_role(uow, principal, job.project_id, role)
    except NotFound:
        raise NotFound(f"import {job.id} not found", id=job.id) from None


async def _in_hand(uow: UnitOfWork, job: Import, queue: bool) -> bool:
    """Whether an earlier import of the same content needs nothing more from this request."""
    if job.state == "done":
        return True
    if job.state == "failed":
        return False
    if job.state == "queued":
        return queue  # in place (the CLI), a queued job is simply run now
    return await uow.imports.is_being_loaded(job.id)  # running: alive, or left by a dead process


"""Sequencer runs from the drop folders (the ``inbox`` batch).

Each visible sub-folder of a configured drop folder is a run. It is taken only when it is
complete: one of the completion markers is in it (the sequencer's copy-complete file, or a
``regovar-run.json`` manifest) and its files (sizes and times, hidden files included) did not
change between two looks ``inbox_settle_seconds`` apart. Until then nothing is read or written.

A taken run is keyed by its run id and the SHA-256 of its files: it is imported once, even by
two workers at once or after a crash in the middle (the retry finds the same key and goes on;
each import is atomic, and a file already imported is not imported again). A run whose key was
taken before is a duplicate and is not imported again. A run that cannot be imported is marked
failed with its reason and left in place; it is taken again only when its files change.

The manifest (all keys optional)::

    {"run_id": "RUN42", "project": "exomes", "vcfs": ["trio.vcf.gz"], "ped": "trio.ped",
     "assembly": "GRCh38"}

Without one: every VCF of the folder (``.vcf``, ``.vcf.gz``, ``.vcf.bgz``, ``.bcf``) with the
folder's only PED file, into the drop folder's project. The project's subscribed members and
``notify_emails`` get an email when the run is imported or failed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from regovar.adapters import system
from regovar.adapters.runs import (
    MANIFEST,
    ManifestError,
    RunFolder,
    loose_files,
    read_manifest,
    run_folders,
    sha256_of,
    shown,
)
from regovar.config import Inbox, Settings
from regovar.domain import mail
from regovar.domain.access import require_admin
from regovar.domain.common import Page, check_page, check_state
from regovar.domain.errors import ImportBusy, RegovarError, RunRejected
from regovar.domain.imports import ImportManager, StartImport
from regovar.domain.principal import Principal
from regovar.models import Import, InboxRun
from regovar.repositories.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("regovar.inbox")
VCF_SUFFIXES = (".vcf", ".vcf.gz", ".vcf.bgz", ".bcf")
MANIFEST_KEYS = ("run_id", "project", "vcfs", "ped", "assembly")
FINISHED = ("done", "failed", "duplicate")
STATES = ("settling", "importing", *FINISHED)
MAX_RUN_ID = 200


@dataclass
class ScanReport:
    runs: int = 0  # run folders seen
    waiting_marker: int = 0  # no completion marker yet: not touched
    settling: int = 0  # files still changing, or not still for long enough
    busy: int = 0  # being imported by another worker
    imported: int = 0
    failed: int = 0
    duplicates: int = 0
    folders_missing: int = 0  # drop folders missing or not folders
    lines: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int)}


@dataclass(frozen=True)
class RunPlan:
    run_id: str
    project: str | None
    vcfs: list[Path]
    ped: Path | None
    assembly: str | None


class InboxManager:
    def __init__(self, uow: UnitOfWorkFactory, imports: ImportManager, settings: Settings,
                 max_page_size: int) -> None:  # fmt: skip
        self.uow, self.imports, self.settings = uow, imports, settings
        self.max_page_size = max_page_size

    async def scan(self, principal: Principal) -> ScanReport:
        """Looks at every drop folder once; imports the runs that are complete."""
        require_admin(principal)
        report = ScanReport()
        if not self.settings.inboxes:
            report.lines.append("no drop folder configured (REGOVAR_INBOXES)")
        for inbox in self.settings.inboxes:
            try:
                folders = await asyncio.to_thread(run_folders, inbox.path,
                                                  self.settings.inbox_markers)  # fmt: skip
            except OSError as exc:
                report.lines.append(f"drop folder {inbox.path} cannot be read: "
                                    f"{exc.strerror or exc}")  # fmt: skip
                continue
            problem = system.folder_problem(inbox.path)
            if problem in ("missing", "not a folder"):
                report.folders_missing += 1  # a mount lost, a typo in REGOVAR_INBOXES
                report.lines.append(f"drop folder {inbox.path} is {problem}")
                continue
            stray = [n for n in await asyncio.to_thread(loose_files, inbox.path) if _is_vcf(n)]
            if stray:
                names = ", ".join(stray[:5])
                report.lines.append(f"drop folder {inbox.path}: {names} not in a run folder "
                                    "(each run is a sub-folder): ignored")  # fmt: skip
            for folder in folders:
                report.runs += 1
                try:
                    await self._look(principal, inbox, folder, report)
                except Exception as exc:  # one odd run never stops the others
                    log.exception("run folder %s could not be handled", folder.path)
                    report.failed += 1
                    report.lines.append(shown(f"{folder.where}: failed: {type(exc).__name__}: "
                                              f"{exc}"))  # fmt: skip
        return report

    async def page(self, principal: Principal, state: str | None = None, offset: int = 0,
                   limit: int = 50) -> Page[InboxRun]:  # fmt: skip
        require_admin(principal)
        check_page(offset, limit, self.max_page_size)
        check_state(state, STATES, "run")
        async with self.uow() as uow:
            items, total = await uow.inbox.page(state, offset, limit)
        return Page(items, total, offset, limit)

    async def _look(self, principal: Principal, inbox: Inbox, folder: RunFolder,
                    report: ScanReport) -> None:  # fmt: skip
        if folder.marker is None:
            report.waiting_marker += 1
            markers = " or ".join(self.settings.inbox_markers)
            report.lines.append(f"{folder.where}: waiting for a completion marker ({markers})")
            return
        if folder.problem is not None:
            await self._unreadable(inbox, folder, report)
            return
        snapshot, settle = folder.snapshot, self.settings.inbox_settle_seconds
        async with self.uow() as uow:
            run = await uow.inbox.latest(str(inbox.path), folder.name)
            if run is not None and run.state == "done" and run.snapshot != snapshot:
                # Imported already: its samples are in the project. A new delivery of the same
                # folder is not imported over them; it is reported once.
                if not run.error_message:
                    why = ("its files changed after it was imported; not imported again (import "
                           "the new files by hand, or drop them as a new run)")  # fmt: skip
                    await uow.inbox.mark(run.id, error_message=why)
                    await uow.commit()
                    report.lines.append(f"{folder.where}: {why}")
                return
            if run is None or (run.state in FINISHED and run.snapshot != snapshot):
                # New, or a run that changed since it failed (files fixed, re-delivered).
                run = await uow.inbox.add(str(inbox.path), folder.name, folder.name,
                                          snapshot)  # fmt: skip
                await uow.commit()
                if settle > 0:
                    report.settling += 1
                    return
            elif run.state in FINISHED:
                return
            elif run.state == "settling":
                if run.snapshot != snapshot:
                    await uow.inbox.mark(run.id, snapshot=snapshot, seen_at=datetime.now(UTC))
                    await uow.commit()
                    report.settling += 1
                    return
                if (datetime.now(UTC) - run.seen_at).total_seconds() < settle:
                    report.settling += 1
                    return
            run_id = run.id
        await self._take(principal, inbox, folder, run_id, report)

    async def _unreadable(self, inbox: Inbox, folder: RunFolder, report: ScanReport) -> None:
        """A run whose files cannot be listed: failed once, with why (again when it changes)."""
        why = f"cannot read the run: {folder.problem}"
        async with self.uow() as uow:
            last = await uow.inbox.latest(str(inbox.path), folder.name)
            if last is not None and last.state == "failed" and last.error_message == (
                    f"RUN_REJECTED: {why}"):  # fmt: skip
                return
            run = await uow.inbox.add(str(inbox.path), folder.name, folder.name,
                                      {"unreadable": why})  # fmt: skip
            await uow.commit()
        await self._finish(run, await self._home(inbox), [], [(None, RunRejected(why))], report,
                           folder)  # fmt: skip

    async def _take(self, principal: Principal, inbox: Inbox, folder: RunFolder, run_id: int,
                    report: ScanReport) -> None:  # fmt: skip
        async with self.uow() as holder:
            if not await holder.inbox.try_lock(run_id):
                report.busy += 1
                return
            run = await holder.inbox.get(run_id)
            if run is None or run.state in FINISHED:
                return
            home = await self._home(inbox)  # the drop folder's project, for notices
            try:
                plan = _plan(inbox, folder)
                files = await asyncio.to_thread(_checksums, folder.path, plan)
                key = _run_key(plan.run_id, files)
                async with self.uow() as uow:
                    if run.run_key is None and not await uow.inbox.claim_key(run.id, key):
                        first = await uow.inbox.holder_of(key)
                        if first is not None and first.state != "failed":
                            why = _same_as(first)
                            await uow.inbox.mark(run.id, state="duplicate", run_id=plan.run_id,
                                                 files=files, error_message=why)  # fmt: skip
                            await uow.commit()
                            report.duplicates += 1
                            report.lines.append(f"{folder.where}: duplicate, {why}")
                            return
                        # The same files failed before (a project missing then, a busy
                        # worker...): this attempt takes the key over.
                        await uow.inbox.release_key(key)
                        if not await uow.inbox.claim_key(run.id, key):
                            report.busy += 1
                            return
                    project = await uow.projects.by_name(plan.project) if plan.project else None
                    if project is None:
                        raise RunRejected(_no_project(plan, inbox))
                    await uow.inbox.mark(run.id, state="importing", run_id=plan.run_id,
                                         files=files, project_id=project.id,
                                         started_at=datetime.now(UTC),
                                         attempts=run.attempts + 1)  # fmt: skip
                    await uow.commit()
                jobs, failures, busy, earlier = await self._import(
                    principal, run.id, set(run.import_ids), project.id, plan)  # fmt: skip
            except RunRejected as exc:
                await self._finish(run, home, [], [(None, exc)], report, folder)
                return
            except OSError as exc:  # unreadable, vanished or odd files
                problem = RunRejected(f"cannot read the run: {exc.strerror or exc}: "
                                      f"{shown(exc.filename or folder.path)}")  # fmt: skip
                await self._finish(run, home, [], [(None, problem)], report, folder)
                return
            if busy:  # another worker is loading one of its files: the next scan goes on
                report.busy += 1
                return
            if jobs and not failures and len(earlier) == len(jobs):
                why = (f"its files were imported before (import "
                       f"{', '.join(str(j.id) for j in jobs)}): not imported again")  # fmt: skip
                async with self.uow() as uow:
                    await uow.inbox.mark(run.id, state="duplicate", error_message=why,
                                         import_ids=[j.id for j in jobs])  # fmt: skip
                    await uow.commit()
                report.duplicates += 1
                report.lines.append(f"{folder.where}: duplicate, {why}")
                return
            await self._finish(run, project.id, jobs, failures, report, folder)

    async def _home(self, inbox: Inbox) -> int | None:
        if inbox.project is None:
            return None
        async with self.uow() as uow:
            project = await uow.projects.by_name(inbox.project)
        return project.id if project else None

    async def _import(
        self, principal: Principal, row_id: int, mine: set[int], project_id: int, plan: RunPlan
    ) -> tuple[list[Import], list[tuple[str | None, RegovarError]], bool, set[int]]:
        """Imports the run's files; also says whether another worker holds one, and which
        imports were there before this run (``mine``: an earlier attempt's)."""
        jobs: list[Import] = []
        failures: list[tuple[str | None, RegovarError]] = []
        earlier: set[int] = set()
        ped = str(plan.ped) if plan.ped else None
        for vcf in plan.vcfs:
            try:
                started = await self.imports.start(
                    principal, StartImport(project_id, str(vcf), ped, plan.assembly), queue=False
                )
                job = await self.imports.run(principal, started.job.id)
            except ImportBusy:
                return jobs, failures, True, earlier
            except RegovarError as exc:
                failures.append((vcf.name, exc))
                continue
            if job.id in {j.id for j in jobs}:
                continue
            jobs.append(job)
            if started.already_imported and job.id not in mine:
                earlier.add(job.id)
            async with self.uow() as uow:  # a crash after this keeps what was done
                await uow.inbox.mark(row_id, import_ids=[j.id for j in jobs])
                await uow.commit()
        return jobs, failures, False, earlier

    async def _finish(self, run: InboxRun, project_id: int | None, jobs: list[Import],
                      failures: list[tuple[str | None, RegovarError]], report: ScanReport,
                      folder: RunFolder) -> None:  # fmt: skip
        state = "failed" if failures else "done"
        reason = "; ".join(f"{name}: {e.code}: {e.message}" if name else f"{e.code}: {e.message}"
                           for name, e in failures)[:4000]  # fmt: skip
        async with self.uow() as uow:
            fresh = await uow.inbox.get(run.id)
            assert fresh is not None
            await uow.inbox.mark(run.id, state=state, import_ids=[j.id for j in jobs],
                                 error_code=failures[0][1].code if failures else None,
                                 error_message=reason or None)  # fmt: skip
            await self._notify(uow, fresh, project_id, state, jobs, reason)
            await uow.commit()
        if failures:
            report.failed += 1
            report.lines.append(f"{folder.where}: failed: {reason}")
        else:
            report.imported += 1
            report.lines.append(f"{folder.where}: imported {len(jobs)} file(s)")

    async def _notify(self, uow: UnitOfWork, run: InboxRun, project_id: int | None, state: str,
                      jobs: list[Import], reason: str) -> None:  # fmt: skip
        recipients = list(self.settings.notify_emails)
        project = await uow.projects.get(project_id) if project_id else None
        if project is not None:
            recipients += await uow.members.notify_emails(project.id)
        if state == "failed" and project is None:
            recipients += await uow.users.admin_emails()  # nobody else may hear of it
        files = await uow.files.get_many([j.file_id for j in jobs])
        names = {j.id: files[j.file_id].name for j in jobs if j.file_id in files}
        body = _notice(run, project.name if project else None, state, jobs, names, reason,
                       self.settings.public_url)  # fmt: skip
        where = f" in {project.name}" if project else ""
        samples = sum(j.samples for j in jobs)
        subject = (f"[Regovar] run {run.run_id} ready: {samples} sample"
                   f"{'s' * (samples != 1)}{where}" if state == "done"
                   else f"[Regovar] run {run.run_id} failed{where}")  # fmt: skip
        await mail.queue(uow, f"run:{run.id}:{state}", "run_" + state, recipients, subject, body)


def _plan(inbox: Inbox, folder: RunFolder) -> RunPlan:
    manifest: dict[str, Any] = {}
    if (folder.path / MANIFEST).is_file():
        try:
            manifest = read_manifest(folder.path / MANIFEST)
        except ManifestError as exc:
            raise RunRejected(str(exc)) from exc
        unknown = sorted(set(manifest) - set(MANIFEST_KEYS))
        if unknown:
            raise RunRejected(f"{MANIFEST}: unknown key {', '.join(map(repr, unknown))} "
                              f"(known: {', '.join(MANIFEST_KEYS)})")  # fmt: skip
    run_id = _text(manifest, "run_id") or folder.name
    if len(run_id) > MAX_RUN_ID or not run_id.isprintable():
        where = f"{MANIFEST} run_id" if manifest.get("run_id") else "the folder name"
        raise RunRejected(f"the run id ({where}) must be printable, at most {MAX_RUN_ID} "
                          "characters: name the run in regovar-run.json")  # fmt: skip
    named = _text(manifest, "project")
    if named and inbox.project and named != inbox.project:
        raise RunRejected(f"{MANIFEST} names project {named!r}, but this drop folder is for "
                          f"project {inbox.project!r}")  # fmt: skip
    project = named or inbox.project
    assembly = _text(manifest, "assembly")
    if "vcfs" in manifest:
        names = manifest["vcfs"]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise RunRejected(f"{MANIFEST}: vcfs must be a non-empty list of file names")
        vcfs = [_inside(folder.path, n, "vcfs") for n in names]
    else:
        vcfs = [_inside(folder.path, n, "files") for n in folder.files if _is_vcf(n)]
    if not vcfs:
        raise RunRejected("no VCF file in the run (.vcf, .vcf.gz, .vcf.bgz or .bcf)")
    if "ped" in manifest:
        ped_name = _text(manifest, "ped")
        ped = _inside(folder.path, ped_name, "ped") if ped_name else None
    else:
        peds = [n for n in folder.files if n.lower().endswith(".ped") and not _hidden(n)]
        if len(peds) > 1:
            raise RunRejected(f"several PED files ({', '.join(sorted(peds))}): name the one to "
                              f"use in {MANIFEST}")  # fmt: skip
        ped = _inside(folder.path, peds[0], "files") if peds else None
    return RunPlan(run_id, project, sorted(set(vcfs)), ped, assembly)


def _text(manifest: dict[str, Any], key: str) -> str | None:
    value = manifest.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or "\0" in value:
        raise RunRejected(f"{MANIFEST}: {key} must be text")
    return value.strip() or None


def _inside(folder: Path, name: str, key: str) -> Path:
    """A regular file of the run (symbolic links followed, and kept inside the run folder)."""
    where = f"{MANIFEST}: {key} names {name!r}" if key != "files" else f"{name!r}"
    path = (folder / name).resolve()
    if Path(name).is_absolute() or not path.is_relative_to(folder.resolve()):
        raise RunRejected(f"{where}, outside the run folder")
    if not path.is_file():  # missing, a dangling link, a folder, a FIFO or a device
        raise RunRejected(f"{where}, which is not a regular file of the run")
    return path


def _hidden(name: str) -> bool:
    return any(part.startswith(".") for part in Path(name).parts)


def _is_vcf(name: str) -> bool:
    return not _hidden(name) and name.lower().endswith(VCF_SUFFIXES)


def _checksums(folder: Path, plan: RunPlan) -> list[dict[str, Any]]:
    paths = [*plan.vcfs, *([plan.ped] if plan.ped else [])]
    return [{"name": str(p.relative_to(folder.resolve()) if p.is_absolute() else p),
             "size": p.stat().st_size, "sha256": sha256_of(p)}
            for p in (q.resolve() for q in paths)]  # fmt: skip


def _run_key(run_id: str, files: list[dict[str, Any]]) -> str:
    digest = hashlib.sha256(run_id.encode())
    for f in sorted(files, key=lambda f: f["sha256"]):
        digest.update(b"\0" + f["sha256"].encode())
    return digest.hexdigest()


def _same_as(first: InboxRun | None) -> str:
    if first is None:
        return "the same run id and files as a run taken before"
    return (f"the same run id and files as run {first.id} ({first.folder}, {first.state}): "
            "not imported again")  # fmt: skip


def _no_project(plan: RunPlan, inbox: Inbox) -> str:
    if plan.project is None:
        return (f"no project for the run: the drop folder {inbox.path} has none "
                f"(REGOVAR_INBOXES=path=project) and {MANIFEST} names none")  # fmt: skip
    return f"project {plan.project!r} does not exist: create it, or fix {MANIFEST}"


def _notice(run: InboxRun, project: str | None, state: str, jobs: list[Import],
            names: dict[int, str], reason: str, public_url: str) -> mail.Body:  # fmt: skip
    rows: list[tuple[str, str]] = [("Run", run.run_id), ("Folder", f"{run.inbox}/{run.folder}")]
    if project:
        rows.append(("Project", project))
    for job in jobs:
        name = names.get(job.id, f"import {job.id}")
        samples = ", ".join(job.header.get("samples", []))
        warned = ", ".join(f"{w['kind']} x{w['count']}" for w in job.warnings) or "none"
        rows += [(f"Import {job.id}", name),
                 ("  samples", samples or str(job.samples)),
                 ("  records, variants", f"{job.records:,}, {job.variants:,}"),
                 ("  warnings", warned)]  # fmt: skip
    if state == "done":
        title = f"Run {run.run_id} is ready"
        paragraphs = [f"{len(jobs)} file(s) imported into project {project}."]
    else:
        title = f"Run {run.run_id} failed"
        paragraphs = [f"Reason: {reason}",
                      "The run folder was left in place; it is taken again when its files "
                      "change."]  # fmt: skip
        if jobs:
            paragraphs.append("The files listed below were imported.")
    hint = f"regovar samples list --project {project}" if project else None
    if hint:
        paragraphs.append(f"On the server: {hint}")
    link = f"{public_url.rstrip('/')}/graphql" if public_url else None
    return mail.compose(title, paragraphs, rows, link)

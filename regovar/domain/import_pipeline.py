"""The steps of loading one import, shared by ImportManager.run (not a use case by itself).

The whole load is one transaction: rows are streamed from the reader into staging tables by
COPY, then turned into variants, a calls partition, annotations, subjects and samples, and the
job row is marked done in the same commit. Progress is written through short side transactions
so that it is visible while the load runs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from regovar.adapters.ped import PedEntry, PedMalformed, loop_text, read_ped
from regovar.adapters.runs import sha256_of
from regovar.adapters.vcf import ImportWarnings, VcfHeader, VcfMalformed, VcfReader, open_vcf
from regovar.adapters.vcf.header import LOOK_ALIKE, looks
from regovar.adapters.vcf.io import LineTooLong
from regovar.adapters.vcf.siblings import OrderWatch
from regovar.domain.errors import (
    ImportBusy,
    PedMalformedError,
    RegovarError,
    VcfMalformedError,
    VcfNoSamples,
)
from regovar.domain.import_parse import (
    MIN_COLUMNAR_ROWS,
    ChunkPool,
    ChunkResult,
    ChunkWork,
    ImportTuning,
)
from regovar.models import File, Import
from regovar.repositories.subjects import ParentLink, SubjectRecord
from regovar.repositories.uow import UnitOfWork, UnitOfWorkFactory
from regovar.repositories.variant_store import Batch, LoadCounts, RowOutOfRange

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 1.0
WRITE_BACK_MIN_BYTES = 32 << 20  # loads smaller than this leave their pages to the commit


async def mark_running(uow: UnitOfWork, job: Import) -> None:
    await uow.imports.mark(
        job.id,
        state="running",
        started_at=datetime.now(UTC),
        attempts=job.attempts + 1,
        progress=0.0,
        error_code=None,
        error_message=None,
        finished_at=None,
    )


async def mark_failed(uow_factory: UnitOfWorkFactory, import_id: int, exc: RegovarError) -> None:
    async with uow_factory() as uow:
        await uow.imports.mark(
            import_id, state="failed", error_code=exc.code, error_message=exc.message, progress=0.0
        )
        await uow.commit()


async def load(
    uow_factory: UnitOfWorkFactory,
    job: Import,
    files: dict[int, File],
    *,
    default_assembly: str,
    tuning: ImportTuning,
    on_progress: Callable[[float, int], None] | None,
) -> None:
    vcf_file = files[job.file_id]
    ped_file = files.get(job.ped_file_id) if job.ped_file_id else None
    warnings = ImportWarnings()
    _same_file(vcf_file)
    if ped_file is not None:
        _same_file(ped_file)
    try:
        ped = read_ped(ped_file.path) if ped_file else []
        ped_path = ped_file.path if ped_file else ""
        reader = open_vcf(
            vcf_file.path,
            assembly=job.requested_assembly,
            default_assembly=default_assembly,
            warnings=warnings,
        )
    except (VcfMalformed, PedMalformed) as exc:
        raise _domain_error(exc) from exc
    except LineTooLong as exc:
        raise VcfMalformedError(f"{vcf_file.path}: {exc}", file=vcf_file.path) from exc
    except OSError as exc:
        raise VcfMalformedError(f"{vcf_file.path}: cannot read: {exc.strerror or exc}") from exc
    if not reader.header.samples:
        reader.close()
        raise VcfNoSamples(
            f"{vcf_file.path}: VCF has no sample columns (a sites-only file); a case import "
            "needs genotypes",
            file=vcf_file.path,
            line=reader.header.header_lines,
        )
    with reader:
        async with uow_factory() as uow:
            if not await uow.imports.try_lock(job.id):
                raise ImportBusy(f"import {job.id} is being loaded by another worker")
            progress = _Progress(uow_factory, job.id, reader, on_progress)
            release_id = await _release(uow, reader.header, vcf_file.sha256)
            others = await uow.imports.assemblies(job.project_id) - {reader.assembly}
            if others:
                warnings.add("assembly_differs", None, f"this file is {reader.assembly}; the "
                             f"project also holds {' and '.join(sorted(others))} imports, whose "
                             "samples cannot be analysed with these")  # fmt: skip
            await uow.variant_store.begin(job.id, reader.assembly)
            records = await _stream(uow, reader, tuning, progress)
            if reader.bytes_read() != vcf_file.size:  # written to while read (a copy going on)
                raise VcfMalformedError(
                    f"{vcf_file.path}: the file changed while it was imported ({vcf_file.size:,} "
                    f"bytes when registered, {reader.bytes_read():,} read): nothing of it was "
                    "kept; import it again once it is complete", file=vcf_file.path,
                )  # fmt: skip
            if reader.sha256() != vcf_file.sha256:  # rewritten in place, at the same size
                raise VcfMalformedError(
                    f"{vcf_file.path}: the file changed after it was registered (same size, "
                    "other bytes: its SHA-256 differs): nothing of it was kept; import it again "
                    "once it is complete", file=vcf_file.path,
                )  # fmt: skip
            write_back = _write_back(uow_factory, uow.variant_store.bytes_sent)
            try:
                counts = await uow.variant_store.finish()
                _duplicate_warnings(warnings, counts)
                samples = await _samples(uow, job, reader.header, ped, warnings, ped_path)
                await uow.imports.mark(
                    job.id,
                    state="done",
                    progress=1.0,
                    records=records,
                    variants=counts.variants,
                    new_variants=counts.new_variants,
                    samples=samples,
                    genotypes=counts.variants * samples,
                    assembly=reader.assembly,
                    annotation_release_id=release_id,
                    warnings=warnings.as_list(),
                    header=_header_summary(reader.header),
                )
                await uow.commit()
            except BaseException:
                write_back.cancel()
                raise
            await write_back.done()
    if on_progress:
        on_progress(1.0, records)


async def _stream(
    uow: UnitOfWork, reader: VcfReader, tuning: ImportTuning, progress: _Progress
) -> int:
    """Reads chunks of records here while parser threads or processes turn the next ones into
    COPY payloads and PostgreSQL ingests the current one: every core works at the same time."""
    sample_filters = "FT" in reader.header.formats
    plan = reader.columnar_plan(sample_filters)
    size, use_columnar = tuning.chunking(len(reader.header.samples), plan is not None)
    columnar = plan if use_columnar else None
    store = uow.variant_store
    chunks = reader.record_chunks(size, ramp=2, max_bytes=tuning.chunk_bytes)
    pool = ChunkPool(
        ChunkWork(reader.chunk_parser(), store.encoder(sample_filters), columnar,
                  min_columnar=MIN_COLUMNAR_ROWS),
        tuning.parser_processes(reader.total_bytes, columnar is not None),
    )
    pending: deque[Awaitable[ChunkResult]] = deque()
    records, exhausted = 0, False
    order = OrderWatch()
    try:
        while True:
            while not exhausted and len(pending) < pool.window:
                chunk = await asyncio.to_thread(next, chunks, None)
                if chunk is None:
                    exhausted = True
                else:
                    pending.append(pool.submit(chunk))
            if not pending:
                break
            result = await pending.popleft()
            reader.warnings.merge(result.warnings)
            order.see(result.order, reader.warnings)
            _value_warnings(reader.warnings, result.batch)
            await store.send(result.batch)
            records += result.records
            await progress.report(records)
    except VcfMalformed as exc:
        if reader.may_be_cut_short:  # the likely cause of a broken record at the end
            exc = VcfMalformed(exc.path, exc.line, f"{exc.message} (the BGZF end-of-file block "
                               "is missing: the file may be cut short)")  # fmt: skip
        raise _domain_error(exc) from exc
    except LineTooLong as exc:
        path = reader.header.path
        raise VcfMalformedError(f"{path}: {exc}", file=path) from exc
    except RowOutOfRange as exc:
        path = reader.header.path
        raise VcfMalformedError(
            f"{path}, line {exc.line}: {exc}", file=path, line=exc.line, problem=str(exc)
        ) from exc
    finally:
        for waiting in pending:
            asyncio.ensure_future(waiting).cancel()
        await pool.close()
    return records


class _WriteBack:
    """The checkpointer writes the new tables' pages (VariantStore.write_back) on a side
    connection while the import finishes; best effort: a failure there is no failure of the
    import. ``done`` waits for it; an import that fails meanwhile cancels it."""

    def __init__(self, uow_factory: UnitOfWorkFactory | None) -> None:
        self._task = asyncio.ensure_future(self._run(uow_factory)) if uow_factory else None

    @staticmethod
    async def _run(uow_factory: UnitOfWorkFactory) -> None:
        try:
            async with uow_factory() as side:
                await side.variant_store.write_back()
                await side.commit()
        except Exception:  # an optimisation only: the import goes on
            log.debug("write-back checkpoint failed", exc_info=True)

    async def done(self) -> None:
        if self._task is not None:
            await self._task

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()


def _write_back(uow_factory: UnitOfWorkFactory, sent: int) -> _WriteBack:
    return _WriteBack(uow_factory if sent >= WRITE_BACK_MIN_BYTES else None)


def _value_warnings(warnings: ImportWarnings, batch: Batch) -> None:
    # One warning per record (a multi-allelic record's rows share its line)
    for line in dict.fromkeys(batch.huge_integers):
        warnings.add(
            "integer_out_of_range", line, "a FORMAT integer beyond 2^31 was stored as missing"
        )
    for line in dict.fromkeys(batch.bad_quals):
        warnings.add("qual_not_finite", line, "a NaN, infinite or huge QUAL was stored as missing")


def _same_file(registered: File) -> None:
    """The file read now is the one checked and hashed at registration (not a swapped link)."""
    path = Path(registered.path)
    try:
        same = path.resolve() == path and path.stat().st_size == registered.size
        if same and registered.kind == "ped":  # a few kB: its bytes are checked too
            same = sha256_of(path) == registered.sha256
    except (OSError, RuntimeError):
        same = False
    if not same and registered.kind == "ped":
        raise PedMalformedError(
            f"{registered.path}: the PED file changed or moved since it was registered; give "
            "it again with the import (--ped), or another PED",
            file=registered.path,
        )
    if not same:
        raise VcfMalformedError(
            f"{registered.path}: the file changed or moved since it was registered; "
            "start the import again",
            file=registered.path,
        )


async def _release(uow: UnitOfWork, header: VcfHeader, sha256: str) -> int | None:
    if not header.annotation_fields:
        return None
    sources = "+".join(sorted(header.annotation_fields))
    name = header.annotation_release
    # Unversioned annotations cannot be shared safely between files: they get their own release.
    name = f"{sources}: {name}" if name else f"{sources}: unversioned, file {sha256[:16]}"
    return await uow.imports.release_id(name)


def _duplicate_warnings(warnings: ImportWarnings, counts: LoadCounts) -> None:
    """One warning per dropped record; the message shows the first duplicated variant."""
    for label, lines in counts.duplicates:
        # (An ALT listed twice in one record is merged by the parser: a line is named once.)
        where = ", ".join(str(line) for line in dict.fromkeys(lines))
        first = lines[0]
        message = f"{label} appears on lines {where}: kept from line {first}, the others dropped"
        for line in lines[1:]:
            warnings.add("duplicate_record", line, message)
    shown = sum(len(lines) - 1 for _, lines in counts.duplicates)
    for _ in range(max(counts.duplicate_count - shown, 0)):
        warnings.add("duplicate_record", None, "duplicate records: the first one kept, the others "
                     "dropped")  # fmt: skip


async def _samples(
    uow: UnitOfWork, job: Import, header: VcfHeader, ped: list[PedEntry],
    warnings: ImportWarnings, ped_path: str,
) -> int:
    by_id = {e.individual: e for e in ped}
    await _no_look_alikes(uow, job.project_id, header, ped, ped_path)
    samples_not_in_ped(header.samples, ped, warnings)
    subject_ids: dict[str, int] = {}
    if ped:
        subject_ids, _ = await apply_pedigree(uow, job.project_id, ped, warnings, ped_path)
    others = [SubjectRecord(name) for name in header.samples if name not in by_id]
    subject_ids |= await uow.subjects.upsert_many(job.project_id, others)  # kept as they are
    await _earlier_samples(uow, job, header.samples, subject_ids, warnings)
    await uow.samples.add_many(job.project_id, job.id, header.samples, subject_ids)
    return len(header.samples)


async def _no_look_alikes(
    uow: UnitOfWork, project_id: int, header: VcfHeader, ped: list[PedEntry], ped_path: str
) -> None:
    """A name that only looks like another ('HG002 ' beside HG002, a zero-width space in a
    PED's father) would be a second person who reads the same in every list: refused, whether
    the other is a subject of the project, a sample of this file or a name of its PED."""
    seen: dict[str, tuple[str, str]] = {}  # look -> (name, where it was first met)
    for identifier in sorted(await uow.subjects.identifiers(project_id)):
        seen.setdefault(looks(identifier), (identifier, "the project's subject"))
    names: list[tuple[str, str, str, int | None]] = [
        (name, f"sample (column {column})", header.path, header.header_lines)
        for column, name in enumerate(header.samples, start=10)
    ]
    for e in ped:
        for name, role in ((e.individual, "individual"), (e.father, "father"),
                           (e.mother, "mother")):  # fmt: skip
            if name:
                names.append((name, f"PED {role} (line {e.line})", ped_path, e.line))
    for name, where, path, line in names:
        first = seen.setdefault(looks(name), (name, where))
        if first[0] != name:
            other, other_where = first
            problem = (f"{where} {name!a} and {other_where} {other!a} look the same "
                       f"({LOOK_ALIKE})")  # fmt: skip
            error = PedMalformedError if where.startswith("PED") else VcfMalformedError
            raise error(
                f"{path}, line {line}: {problem}: write it as the other is written if it is "
                "that person, otherwise so that it reads differently",
                file=path, line=line, problem=problem,
            )  # fmt: skip


async def _earlier_samples(
    uow: UnitOfWork, job: Import, names: list[str], subject_ids: dict[str, int],
    warnings: ImportWarnings,
) -> None:  # fmt: skip
    """A sample named like a subject of the project is that person: said when the subject has
    samples already, so that a lab reusing run-local names ('Sample1') sees two patients
    being merged (a new run of one patient is the usual, harmless, case)."""
    mine = {subject_ids[n]: n for n in names if n in subject_ids}
    for sample in await uow.samples.latest_of_subjects(job.project_id, list(mine)):
        if sample.subject_id in mine and sample.import_id != job.id:
            name = mine[sample.subject_id]
            warnings.add("subject_has_samples", None, f"sample {name} is subject {name} of the "
                         f"project, who has a sample in import {sample.import_id} already: the "
                         "same person? If not, rename the sample or import it into another "
                         "project")  # fmt: skip


PED_WARNINGS = ("pedigree_changed", "parent_not_listed", "sample_not_in_ped")  # of the PED


def samples_not_in_ped(samples: list[str], ped: list[PedEntry], warnings: ImportWarnings) -> None:
    listed = {e.individual for e in ped}
    for name in samples:
        if ped and name not in listed:
            warnings.add("sample_not_in_ped", None, f"sample {name} is not in the PED file")


async def apply_pedigree(
    uow: UnitOfWork, project_id: int, ped: list[PedEntry], warnings: ImportWarnings, path: str
) -> tuple[dict[str, int], list[str]]:
    """The PED is the pedigree of the individuals it lists, as written: a subject that an
    earlier import described otherwise is changed, with a ``pedigree_changed`` warning. A
    parent that the PED names without listing gets a subject of its sex (unless one exists,
    which stays as it is, and must not be of the other sex) and a ``parent_not_listed``
    warning. Refused (PedMalformedError): a pedigree that, with the project's subjects, makes
    someone their own ancestor. Returns the subject ids by identifier, and the listed
    individuals whose subject was created or changed (in the PED's order)."""
    listed = {e.individual for e in ped}
    unlisted: dict[str, tuple[SubjectRecord, PedEntry]] = {}
    children: dict[str, list[PedEntry]] = {}  # of each unlisted parent
    for e in ped:
        for parent, sex in ((e.father, 1), (e.mother, 2)):
            if not parent or parent in listed:
                continue
            children.setdefault(parent, []).append(e)
            if parent not in unlisted:
                unlisted[parent] = (SubjectRecord(parent, e.family, sex=sex), e)
                message = (f"{e.individual}'s parent {parent} has no line of its own in the "
                           "PED file: known by its sex only")  # fmt: skip
                warnings.add("parent_not_listed", e.line, message)
    existing = await uow.subjects.by_identifiers(project_id, set(unlisted))
    _one_family_each(children, existing, path)
    for name, (wanted, child) in unlisted.items():
        known = existing.get(name)
        if known is not None and known.sex in (1, 2) and known.sex != wanted.sex:
            role, other = ("father", "female") if wanted.sex == 1 else ("mother", "male")
            raise PedMalformedError(
                f"{path}, line {child.line}: {name} is the {role} of {child.individual} here, "
                f"but {other} in the project (as an earlier PED gave it)",
                file=path, line=child.line, problem=f"{name} is {other} in the project",
            )  # fmt: skip
    ids = await uow.subjects.create_missing(project_id, [r for r, _ in unlisted.values()])
    before = await uow.subjects.parent_links(project_id)
    done = await uow.subjects.set_pedigree(project_id, pedigree_records(ped))
    links = await uow.subjects.parent_links(project_id)
    _no_ancestry_loop(links, ped, path)
    _parents_consistent(before, links, ped, path)
    for name in done.changed:
        warnings.add("pedigree_changed", by_line(ped, name), f"{name}'s pedigree (family, sex, "
                     "affected status or parents) was described otherwise before; now as this "
                     "PED file gives it")  # fmt: skip
    touched = set(done.created) | set(done.changed) | set(done.described)
    return ids | done.ids, [e.individual for e in ped if e.individual in touched]


def _no_ancestry_loop(links: dict[int, ParentLink], ped: list[PedEntry], path: str) -> None:
    """Nobody is their own ancestor once this PED is joined to the subjects an earlier one
    described (the PED alone was checked when read): A's father B here, B's father A before."""
    settled: set[int] = set()  # subjects none of whose ancestors is in a loop
    for start in links:
        if start in settled:
            continue
        stack: list[tuple[int, list[int]]] = [(start, [])]
        while stack:
            sid, trail = stack.pop()
            if sid in settled:
                continue
            if sid in trail:
                loop = [links[t].identifier for t in trail[trail.index(sid):]]
                loop.append(links[sid].identifier)
                line = next((e.line for e in ped if e.individual in loop), None)
                where = f"{path}, line {line}" if line else path
                text = loop_text(loop)
                raise PedMalformedError(
                    f"{where}: {loop[0]} would be their own ancestor ({text}), with the "
                    "pedigree the project already holds", file=path, line=line,
                    problem=f"{loop[0]} would be their own ancestor",
                )  # fmt: skip
            link = links[sid]
            parents = [p for p in (link.father, link.mother) if p is not None and p in links]
            if not parents:
                settled.add(sid)
                continue
            stack += [(p, [*trail, sid]) for p in parents]
        settled.add(start)


def _one_family_each(
    children: dict[str, list[PedEntry]], existing: dict[str, Any], path: str
) -> None:
    """A parent that the PED names without listing, and that the project does not hold, is
    created in its children's family: children of two families cannot share it (P was made
    of F1, the father of a child of F9). One the project holds keeps its own family."""
    for parent, entries in children.items():
        if parent in existing:
            continue
        first = entries[0]
        for e in entries[1:]:
            if e.family != first.family:
                problem = (f"{parent}, who has no line of its own, is a parent in family "
                           f"{first.family!r} (line {first.line}) and in family {e.family!r}")
                raise PedMalformedError(f"{path}, line {e.line}: {problem}", file=path,
                                        line=e.line, problem=problem)  # fmt: skip


def _parents_consistent(
    before: dict[int, ParentLink], links: dict[int, ParentLink], ped: list[PedEntry], path: str
) -> None:
    """Once this PED is joined to the pedigree an earlier one gave the project, every father
    it touches is not female, every mother not male, and a parent it lists is not moved out of
    the family of an earlier PED's child: a PED listing only MOM as male once left her a male
    mother. (A subject it names as a parent without listing keeps its own family, and a
    mismatch the project already held is not this PED's doing.)"""
    listed = {e.individual for e in ped}
    for child_id, child in links.items():
        for parent_id, role, other in ((child.father, "father", 2), (child.mother, "mother", 1)):
            parent = links.get(parent_id) if parent_id is not None else None
            if parent is None or not {child.identifier, parent.identifier} & listed:
                continue
            line = by_line(ped, parent.identifier) or by_line(ped, child.identifier)
            where = f"{path}, line {line}" if line else path
            problem = ""
            if parent.sex == other:
                problem = (f"{parent.identifier} would be {('female', 'male')[other == 1]} and "
                           f"the {role} of {child.identifier}")  # fmt: skip
            elif (parent.identifier in listed and parent.family != child.family
                  and not _apart_before(before, child_id, parent_id)):  # fmt: skip
                problem = (f"{parent.identifier} would be in family {parent.family!r} and the "
                           f"{role} of {child.identifier}, of family {child.family!r}")  # fmt: skip
            if problem:
                raise PedMalformedError(
                    f"{where}: {problem}, with the pedigree the project already holds; give "
                    "a PED that lists the whole family", file=path, line=line, problem=problem,
                )  # fmt: skip


def _apart_before(before: dict[int, ParentLink], child_id: int, parent_id: int | None) -> bool:
    """Whether the project held this child and parent in two families before this PED."""
    child, parent = before.get(child_id), before.get(parent_id) if parent_id else None
    return (child is not None and parent is not None and parent_id in (child.father, child.mother)
            and child.family != parent.family)  # fmt: skip


def by_line(ped: list[PedEntry], name: str) -> int | None:
    return next((e.line for e in ped if e.individual == name), None)


def pedigree_records(ped: list[PedEntry]) -> list[SubjectRecord]:
    return [
        SubjectRecord(e.individual, e.family, e.father, e.mother, e.sex, e.affected) for e in ped
    ]


def _header_summary(header: VcfHeader) -> dict[str, Any]:
    return {
        "fileformat": header.fileformat,
        "samples": header.samples,
        "compression": header.compression,
        "annotation_release": header.annotation_release,
        "annotation_fields": header.annotation_fields,
        "info": {
            k: {"number": d.number, "type": d.type, "description": d.description}
            for k, d in header.info.items()
        },
        "filters": header.filters,
    }


def _domain_error(exc: VcfMalformed | PedMalformed) -> RegovarError:
    cls = VcfMalformedError if isinstance(exc, VcfMalformed) else PedMalformedError
    return cls(str(exc), file=exc.path, line=exc.line, problem=exc.message)


class _Progress:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        import_id: int,
        reader: Any,
        callback: Callable[[float, int], None] | None,
    ) -> None:
        self.uow_factory, self.import_id, self.reader = uow_factory, import_id, reader
        self.callback = callback
        self.last = 0.0

    async def report(self, records: int) -> None:
        fraction = min(self.reader.bytes_read() / max(self.reader.total_bytes, 1), 1.0) * 0.95
        if self.callback:
            self.callback(fraction, records)
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        async with self.uow_factory() as uow:
            await uow.imports.set_progress(self.import_id, fraction, records)
            await uow.commit()

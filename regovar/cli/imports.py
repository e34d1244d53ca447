from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from regovar.bootstrap import Container
from regovar.cli.base import LIMIT_HELP, MAX_ID, container, principal, run
from regovar.cli.output import print_table
from regovar.domain.imports import ASSEMBLY_ALIASES, StartImport
from regovar.models import Import

imports_app = typer.Typer(help="Import jobs.", no_args_is_help=True)
samples_app = typer.Typer(help="Samples.", no_args_is_help=True)
subjects_app = typer.Typer(help="Subjects: the persons of a project, with their pedigree.",
                           no_args_is_help=True)  # fmt: skip
_SEX = {1: "male", 2: "female"}
_AFFECTED = {1: "unaffected", 2: "affected"}


def import_file(
    path: Path = typer.Argument(..., help="VCF (.vcf, .vcf.gz, .bcf) on this server."),
    project: str = typer.Option(..., "--project", "-p", help="Project name or id."),
    ped: Path | None = typer.Option(
        None, help="PED file describing the samples' family (given again with a VCF imported "
        "before, a corrected PED sets its subjects' pedigree; the VCF is not loaded again)."
    ),
    assembly: str | None = typer.Option(None, help="GRCh37 or GRCh38 (else read from the header)."),
    queue: bool = typer.Option(False, "--queue", help="Queue it for `regovar worker` instead."),
) -> None:
    """Import a VCF into a project (atomic; importing the same file again duplicates nothing)."""

    earlier: list[bool] = []

    async def work(c: Container) -> Import:
        found = await c.projects.find(principal(), project)
        command = StartImport(found.id, str(path), str(ped) if ped else None, assembly)
        started = await c.imports.start(principal(), command, queue=queue)
        if started.pedigree_updated is not None:
            changed = started.pedigree_updated
            who = f": {', '.join(changed[:10])}{' ...' * (len(changed) > 10)}" if changed else ""
            plural = "s" * (len(changed) != 1)
            typer.echo(f"pedigree of import {started.job.id} set from {Path(str(ped)).name}: "
                       f"{len(changed)} subject{plural} changed{who}")  # fmt: skip
        if started.already_imported:
            earlier.append(True)
            typer.echo(f"already imported as import {started.job.id} ({started.job.state}): "
                       "nothing loaded now")  # fmt: skip
            asked = ASSEMBLY_ALIASES.get((assembly or "").lower(), assembly)
            if asked and started.job.assembly and asked != started.job.assembly:
                kept = started.job.assembly
                typer.echo(f"note: --assembly {assembly} is not applied: that import is {kept} "
                           "(a VCF is imported once per project)")  # fmt: skip
            return started.job
        if queue:
            typer.echo(f"import {started.job.id} queued")
            return started.job
        return await _run_with_bar(c, started.job.id)

    job = run(container(with_broker=queue), work)
    _print_summary(job, before=bool(earlier))


async def _run_with_bar(c: Container, import_id: int) -> Import:
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[records]} records"),
        TimeElapsedColumn(),
    ) as bar:
        task = bar.add_task("import", total=1.0, records=0)

        def report(fraction: float, records: int) -> None:
            bar.update(task, completed=fraction, records=f"{records:,}")

        return await c.imports.run(principal(), import_id, on_progress=report)


def _print_summary(job: Import, before: bool = False) -> None:
    """The import's counts; ``before``: an import done earlier (nothing was loaded now)."""
    if job.state != "done":
        return
    counts = ", ".join(_counted(n, word) for n, word in (
        (job.records, "record"), (job.variants, "variant")))  # fmt: skip
    when = f" on {job.finished_at:%Y-%m-%d %H:%M}" if before and job.finished_at else ""
    new = f"{job.new_variants:,} new {'then' if before else ''}".rstrip()
    typer.echo(
        f"import {job.id} done{when}: {counts} ({new}), "
        f"{_counted(job.samples, 'sample')}, {_counted(job.genotypes, 'genotype')}, "
        f"{job.assembly}"
    )
    for w in job.warnings or []:
        typer.echo(f"warning {w['kind']} x{w['count']}: {w['message']}{_lines(w)}")


def _counted(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


async def _project_names(c: Container, ids: set[int]) -> dict[int, str | int]:
    """Project names for a listing (the id where the name cannot be read)."""
    found = await c.projects.get_many(principal(), sorted(ids))
    return {i: found[i].name if i in found else i for i in ids}


def _lines(warning: dict[str, Any]) -> str:
    """The lines a warning kept (the first ones met), in file order, and how many more."""
    lines = sorted(warning["lines"] or [])
    if not lines:
        return ""
    more = warning["count"] - len(lines)
    rest = f" and {more} more" if more > 0 else ""
    return f" (line{'s' * (len(lines) > 1)} {', '.join(map(str, lines))}{rest})"


INTERRUPTED = (
    "interrupted: no process loads it any more (its worker or command stopped; nothing of it "
    "was kept). A worker takes it up again once its message is requeued "
    "(REGOVAR_WORKER_HEARTBEAT_TTL); `regovar import` of the same file runs it now."
)


@imports_app.command("list")
def list_imports(
    project: str | None = typer.Option(None, "--project", "-p"),
    state: str | None = typer.Option(None, help="queued, running, done or failed"),
    offset: int = typer.Option(0, min=0, max=MAX_ID),
    limit: int = typer.Option(100, min=0, help=LIMIT_HELP),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """List import jobs with their state and progress."""

    async def work(c: Container) -> None:
        pid = (await c.projects.find(principal(), project)).id if project else None
        page = await c.imports.page(principal(), pid, state, offset, limit)
        files = await c.imports.files_by_id(principal(), [i.file_id for i in page.items])
        names = await _project_names(c, {i.project_id for i in page.items})
        lost = await c.imports.interrupted(principal(), [i.id for i in page.items])
        rows = [
            {
                "id": i.id,
                "project": names[i.project_id],
                "file": files[i.file_id].name,
                "state": "interrupted" if lost.get(i.id) else i.state,
                "progress": f"{i.progress:.0%}",
                "records": i.records,
                "variants": i.variants,
                "samples": i.samples,
                "assembly": i.assembly,
                "error": f"{i.error_code}: {i.error_message}" if i.error_code else None,
            }
            for i in page.items
        ]
        print_table(rows, format, total=page.total)

    run(container(with_broker=False), work)


@imports_app.command("show")
def show_import(import_id: int) -> None:
    """Show one import job, its counts and warnings."""

    async def work(c: Container) -> tuple[Import, bool]:
        job = await c.imports.get(principal(), import_id)
        return job, (await c.imports.interrupted(principal(), [job.id])).get(job.id, False)

    job, lost = run(container(with_broker=False), work)
    typer.echo(f"import {job.id}: {'interrupted' if lost else job.state} {job.progress:.0%}")
    if lost:
        typer.echo(INTERRUPTED)
    if job.error_code:
        typer.echo(f"{job.error_code}: {job.error_message}")
    _print_summary(job)


@samples_app.command("list")
def list_samples(
    project: str | None = typer.Option(None, "--project", "-p"),
    offset: int = typer.Option(0, min=0, max=MAX_ID),
    limit: int = typer.Option(100, min=0, help=LIMIT_HELP),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """List samples (one per VCF column)."""

    async def work(c: Container) -> None:
        found = await c.projects.find(principal(), project) if project else None
        pid = found.id if found else None
        if found is not None and found.archived_at is not None:
            typer.echo(f"project {found.name} is archived since {found.archived_at:%Y-%m-%d}: "
                       "its samples come back with `regovar archive restore ID` (see `regovar "
                       "archive list`)", err=True)  # fmt: skip
        page = await c.variants.samples(principal(), project_id=pid, offset=offset, limit=limit)
        names = await _project_names(c, {s.project_id for s in page.items})
        rows = [
            {
                "id": s.id,
                "name": s.name,
                "project": names[s.project_id],
                "import": s.import_id,
                "subject": s.subject_id,
            }
            for s in page.items
        ]
        print_table(rows, format, total=page.total)

    run(container(with_broker=False), work)


@subjects_app.command("list")
def list_subjects(
    project: str = typer.Option(..., "--project", "-p", help="Project name or id."),
    offset: int = typer.Option(0, min=0, max=MAX_ID),
    limit: int = typer.Option(100, min=0, help=LIMIT_HELP),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """List a project's subjects as their PED files described them: family, parents, sex,
    affected status, and their samples."""

    async def work(c: Container) -> None:
        found = await c.projects.find(principal(), project)
        page = await c.projects.subjects(principal(), found.id, offset, limit)
        names = {s.id: s.identifier for s in page.items}
        samples: dict[int, dict[str, None]] = {}
        start = 0
        while True:  # every sample of the project: a few hundred at most
            chunk = await c.variants.samples(
                principal(), project_id=found.id, offset=start, limit=c.settings.max_page_size
            )
            for sample in chunk.items:
                if sample.subject_id is not None:
                    samples.setdefault(sample.subject_id, {})[sample.name] = None
            start += len(chunk.items)
            if not chunk.items or start >= chunk.total:
                break

        def person(subject_id: int | None) -> str | None:
            return None if subject_id is None else names.get(subject_id, f"subject {subject_id}")

        rows = [
            {
                "id": s.id,
                "subject": s.identifier,
                "family": s.family,
                "father": person(s.father_id),
                "mother": person(s.mother_id),
                "sex": _SEX.get(s.sex, "unknown"),
                "status": _AFFECTED.get(s.affected, "unknown"),
                "samples": ", ".join(samples.get(s.id, [])),
            }
            for s in page.items
        ]
        print_table(rows, format, total=page.total)

    run(container(with_broker=False), work)

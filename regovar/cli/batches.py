"""Batches by hand: `regovar jobs list|show|run`, `regovar mail list|test`, and the
`regovar scheduler` that fires them on their schedules."""

from __future__ import annotations

import asyncio
import json
import signal
from typing import Any

import typer

from regovar.bootstrap import Container
from regovar.cli.base import (
    LIMIT_HELP,
    MAX_ID,
    container,
    fail,
    principal,
    run,
    settings,
    stop_database,
)
from regovar.cli.output import print_table
from regovar.models import Job

jobs_app = typer.Typer(help="Batch runs: list them, see one, run a batch by hand.",
                       no_args_is_help=True)  # fmt: skip
inbox_app = typer.Typer(help="Runs found in the drop folders (REGOVAR_INBOXES).",
                        no_args_is_help=True)  # fmt: skip
archive_app = typer.Typer(help="Archive bundles of unused projects: list, run, restore.",
                          no_args_is_help=True)  # fmt: skip
mail_app = typer.Typer(help="The email outbox, and a test message for the SMTP settings.",
                       no_args_is_help=True)  # fmt: skip


def _seconds(job: Job) -> float | None:
    if job.started_at and job.finished_at:
        return round((job.finished_at - job.started_at).total_seconds(), 2)
    return None


def _result(job: Job) -> str:
    """The counts that say something (not the zeros), or the error."""
    if job.error_code:
        return f"{job.error_code}: {job.error_message}"
    return ", ".join(f"{k}={v}" for k, v in sorted(job.counts.items()) if v not in (0, None))


def _row(job: Job) -> dict[str, Any]:
    return {
        "id": job.id, "kind": job.kind, "by": job.trigger, "state": job.state,
        "started": job.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
        if job.started_at else None,
        "s": _seconds(job), "result": _result(job),
    }  # fmt: skip


def _summary(job: Job) -> str:
    took = f" in {_seconds(job)} s" if _seconds(job) is not None else ""
    result = _result(job)
    return f"job {job.id} ({job.kind}) {job.state}{took}{': ' + result if result else ''}"


@jobs_app.command("list")
def list_jobs(
    kind: str | None = typer.Option(None, help="Only this batch (monitor, mail, inbox, archive)."),
    state: str | None = typer.Option(None, help="queued, running, done or failed."),
    limit: int = typer.Option(100, min=0, help=LIMIT_HELP),
    offset: int = typer.Option(0, min=0),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """Batch runs, newest first, with their counts and errors."""

    async def work(c: Container) -> None:
        page = await c.batches.page(principal(), kind, state, offset, limit)
        print_table([_row(j) for j in page.items], format, total=page.total)

    run(container(with_broker=False), work)


@jobs_app.command("show")
def show_job(job_id: int = typer.Argument(..., min=1, max=MAX_ID)) -> None:
    """One batch run, with its report."""

    async def work(c: Container) -> None:
        job = await c.batches.get(principal(), job_id)
        shown = {
            "id": job.id, "kind": job.kind, "trigger": job.trigger, "state": job.state,
            "requested_by": job.requested_by, "options": job.options,
            "scheduled_for": job.scheduled_for, "created_at": job.created_at,
            "started_at": job.started_at, "finished_at": job.finished_at,
            "attempts": job.attempts, "counts": job.counts, "error_code": job.error_code,
            "error_message": job.error_message, "report": job.report,
        }  # fmt: skip
        typer.echo(json.dumps(shown, indent=2, default=str))

    run(container(with_broker=False), work)


@jobs_app.command("run")
def run_job(
    kind: str = typer.Argument(..., help="The batch: monitor, mail, inbox or archive."),
    queue: bool = typer.Option(False, help="Send it to a worker instead of running it here."),
) -> None:
    """Run a batch now, as the scheduler would; prints its job row. Exit status 1 when the run
    failed."""

    async def work(c: Container) -> Job:
        if queue:
            job = await c.batches.request(principal(), kind, queue=True)
            typer.echo(f"job {job.id} queued for a worker")
            return job
        job = await c.batches.run_now(principal(), kind)
        typer.echo(_summary(job))
        if job.report:
            typer.echo(job.report)
        return job

    done = run(container(with_broker=queue), work)
    if done.state == "failed":
        raise typer.Exit(1)


@inbox_app.command("list")
def list_runs(
    state: str | None = typer.Option(None, help="settling, importing, done, failed, duplicate."),
    limit: int = typer.Option(100, min=0, help=LIMIT_HELP),
    offset: int = typer.Option(0, min=0),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """Runs of the drop folders, newest first, with their imports or why they failed."""

    async def work(c: Container) -> None:
        page = await c.inbox.page(principal(), state, offset, limit)
        rows = [
            {"id": r.id, "run": r.run_id, "folder": f"{r.inbox}/{r.folder}", "state": r.state,
             "files": len(r.files), "import_ids": r.import_ids,
             "seen_at": r.seen_at.isoformat(timespec="seconds"),
             "finished_at": r.finished_at.isoformat(timespec="seconds") if r.finished_at else None,
             "reason": r.error_message}
            for r in page.items
        ]  # fmt: skip
        print_table(rows, format, total=page.total)
        if not c.settings.inboxes and not page.total:
            typer.echo("no drop folder is configured: set REGOVAR_INBOXES (see docs/batches.md)",
                       err=True)  # fmt: skip

    run(container(with_broker=False), work)


@inbox_app.command("scan")
def scan_inbox() -> None:
    """Look at the drop folders now and import the complete runs (the inbox batch)."""
    run_job("inbox", queue=False)


@archive_app.command("list")
def list_archives(
    limit: int = typer.Option(100, min=0, help=LIMIT_HELP),
    offset: int = typer.Option(0, min=0),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """Archive bundles, newest first."""

    async def work(c: Container) -> None:
        page = await c.archives.page(principal(), offset, limit)
        rows = [
            {"id": a.id, "project": a.project_name, "state": a.state,
             "created_at": a.created_at.isoformat(timespec="seconds"),
             "last_used_at": a.last_used_at.isoformat(timespec="seconds")
             if a.last_used_at else None,
             "bundle_mb": round(a.bytes / 2**20, 1), "freed_mb": round(a.freed_bytes / 2**20, 1),
             "path": a.path,
             "restored_at": a.restored_at.isoformat(timespec="seconds") if a.restored_at else None}
            for a in page.items
        ]  # fmt: skip
        print_table(rows, format, total=page.total)

    run(container(with_broker=False), work)


@archive_app.command("run")
def run_archive(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say what would be archived."),
    days: int | None = typer.Option(None, min=0, max=100_000,
                                    help="Unused for this many days (REGOVAR_ARCHIVE_AFTER_DAYS)."),
    project: str | None = typer.Option(None, help="Archive this project now, however recent."),
) -> None:
    """Archive the projects nobody used for a long time (as the weekly batch does); prints the
    report with the space freed."""
    options: dict[str, Any] = {"dry_run": dry_run}
    if days is not None:
        options["days"] = days
    if project is not None:
        options["project"] = project

    async def work(c: Container) -> Job:
        job = await c.batches.run_now(principal(), "archive", options)
        typer.echo(_summary(job))
        if job.report:
            typer.echo(job.report)
        elif job.state == "done":
            typer.echo("nothing to archive")
        return job

    if run(container(with_broker=False), work).state == "failed":
        raise typer.Exit(1)


@archive_app.command("restore")
def restore_archive(archive_id: int = typer.Argument(..., min=1, max=MAX_ID)) -> None:
    """Put an archived project's data back, as it was."""

    async def work(c: Container) -> None:
        done = await c.archives.restore(principal(), archive_id)
        typer.echo(f"project {done.project_name} restored from archive {done.id} ({done.path})")

    run(container(with_broker=False), work)


@mail_app.command("list")
def list_mail(
    state: str | None = typer.Option(None, help="pending, sent or failed."),
    limit: int = typer.Option(100, min=0, help=LIMIT_HELP),
    offset: int = typer.Option(0, min=0),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """Messages of the outbox, newest first: waiting ones with their last error."""

    async def work(c: Container) -> None:
        page = await c.mail.page(principal(), state, offset, limit)
        rows = [
            {"id": m.id, "kind": m.kind, "state": m.state, "to": ", ".join(m.recipients),
             "subject": m.subject, "created_at": m.created_at.isoformat(timespec="seconds"),
             "attempts": m.attempts,
             "sent_at": m.sent_at.isoformat(timespec="seconds") if m.sent_at else None,
             "last_error": m.last_error if m.state == "pending" else None}
            for m in page.items
        ]  # fmt: skip
        print_table(rows, format, total=page.total)

    run(container(with_broker=False), work)


@mail_app.command("test")
def test_mail(address: str = typer.Argument(..., help="Where to send the test message.")) -> None:
    """Send a test message now (not through the outbox), to check the SMTP settings."""
    if "@" not in address or any(ch.isspace() for ch in address):
        raise fail("INVALID_INPUT", f"{address!r} is not an email address")

    async def work(c: Container) -> None:
        refused = await c.mail.send_test(principal(), address)
        if refused:
            raise fail("MAIL_UNAVAILABLE", f"the server refused {', '.join(refused)}")
        typer.echo(f"test message accepted by the SMTP server for {address}")

    run(container(with_broker=False), work)


def scheduler(
    run_here: bool = typer.Option(
        False, help="Run the batches in this process instead of sending them to workers."
    ),
    every: float = typer.Option(15.0, min=1.0, help="Seconds between two looks at the clock."),
) -> None:
    """Fire the batches on their schedules (REGOVAR_SCHEDULE_*). Only one scheduler is active
    at a time; another one waits on standby and takes over if the first stops."""
    from regovar.tasks.scheduler import run_scheduler

    config = settings()
    c = container(with_broker=not run_here, config=config)
    for batch, cron in sorted(c.batches.schedules_for(principal()), key=lambda p: p[0].kind):
        typer.echo(f"{batch.kind:8} {cron.text if cron else 'by hand only'}")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await run_scheduler(c, stop, every_s=every, run_here=run_here,
                                on_state=lambda s: typer.echo(f"scheduler {s}"))  # fmt: skip
        finally:
            await c.aclose()

    try:
        asyncio.run(main())
    finally:
        c.close_broker()
        stop_database(c)

"""Long-running commands: the web server, the worker, and the demo."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import threading
import time
from importlib import resources
from pathlib import Path

import typer

from regovar.adapters import system
from regovar.bootstrap import Container
from regovar.cli.base import container, fail, settings, stop_database
from regovar.cli.imports import _print_summary, _run_with_bar
from regovar.cli.output import print_table
from regovar.domain import variant_filter as vf
from regovar.domain.errors import Conflict, RegovarError
from regovar.domain.imports import StartImport
from regovar.domain.principal import SYSTEM
from regovar.domain.projects import CreateProject
from regovar.domain.users import CreateUser
from regovar.models.reals import stored_real


def _prepare(with_broker: bool = True) -> Container:
    config = settings()
    c = container(with_broker=with_broker, config=config)
    for folder in config.effective_import_dirs:
        folder.mkdir(parents=True, exist_ok=True)
    return c


def _start_worker(c: Container, threads: int) -> object:
    """The worker runs actors on its own event loop: it needs its own engine (connections
    belong to one loop), sharing the broker of the web server."""
    from dramatiq import Worker

    from regovar.bootstrap import build
    from regovar.tasks.actors import register

    assert c.queue is not None
    own = build(c.settings, url=c.database_url, with_broker=False)
    own.queue = c.queue
    register(own)
    worker = Worker(c.queue.broker, worker_threads=threads)
    worker.start()
    return worker


def _serve(c: Container, host: str | None, port: int | None, with_worker: bool) -> None:
    import uvicorn

    from regovar.graphql.app import create_app

    host, port = host or c.settings.http_host, port or c.settings.http_port
    worker = _start_worker(c, 1) if with_worker else None
    typer.echo(f"GraphQL and GraphiQL at http://{host}:{port}/graphql  (Ctrl-C to stop)")
    # uvicorn shuts down gracefully, then re-raises SIGTERM to the handler it found: make that
    # a normal exit, so that the worker and the private PostgreSQL are stopped below.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        # The client address decides sign-in throttling and goes into the audit trail: only
        # the configured reverse proxies may set it with X-Forwarded-For.
        proxies = c.settings.trusted_proxies
        uvicorn.run(
            create_app(c),
            host=host,
            port=port,
            log_level="warning",
            proxy_headers=bool(proxies),
            forwarded_allow_ips=",".join(proxies) if proxies else None,
        )
    finally:
        if worker is not None:
            worker.stop()  # type: ignore[attr-defined]
        _release(c)


def _check_port(host: str | None, port: int | None, command: str) -> None:
    """Refuses a port that another program holds before anything is printed or started (the
    private PostgreSQL included): the demo once printed a new password and this address, then
    failed to listen."""
    config = settings()
    host, port = host or config.http_host, port or config.http_port
    if system.port_free(host, port):
        return
    raise fail("CONFLICT", f"{host}:{port} is in use by another program; choose another port "
               f"with --port or REGOVAR_HTTP_PORT (e.g. REGOVAR_HTTP_PORT={port + 1} {command})")


def _release(c: Container) -> None:
    """Closes the queue's connections, then stops the private PostgreSQL this command started
    (unless other processes use it)."""
    c.close_broker()
    stop_database(c)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def serve(
    host: str | None = typer.Option(None, help="Listen address (REGOVAR_HTTP_HOST)."),
    port: int | None = typer.Option(None, help="Port (REGOVAR_HTTP_PORT)."),
    with_worker: bool = typer.Option(False, help="Also run a worker in this process."),
) -> None:
    """Serve GraphQL (and GraphiQL) over HTTP."""
    _check_port(host, port, "regovar serve")
    _serve(_prepare(), host, port, with_worker)


def worker(threads: int = typer.Option(2, min=1, help="Worker threads.")) -> None:
    """Run the batch worker: imports queued from GraphQL, the CLI or the scheduler."""
    c = _prepare()
    w = _start_worker(c, threads)
    signals: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _: signals.append(signum))
    typer.echo("worker running (Ctrl-C to stop)")
    # Python runs signal handlers in the main thread, between bytecodes: a signal the kernel
    # hands to another thread (a worker's, a library's) would not wake an endless wait.
    while not signals:
        time.sleep(0.5)
    typer.echo("worker stopping: the running jobs finish first (Ctrl-C again to stop now; "
               "an interrupted import leaves nothing behind and runs again later)")  # fmt: skip
    stopped = threading.Event()

    def graceful() -> None:
        w.stop()  # type: ignore[attr-defined]
        c.close_broker()
        stopped.set()

    threading.Thread(target=graceful, name="regovar-stop", daemon=True).start()
    # A second signal, or a broker that cannot be reached, must not keep the worker alive.
    while not stopped.wait(0.5) and len(signals) < 2:
        pass
    stop_database(c)
    if not stopped.is_set():
        typer.echo("worker stopped before its jobs finished", err=True)
        system.kill_descendants()  # parser processes: nothing to finish, nothing to keep
        os._exit(1)  # the job threads cannot be interrupted; their imports roll back


DEMO_PROJECT = "demo"


def demo(
    serve_after: bool = typer.Option(True, "--serve/--no-serve", help="Serve GraphQL afterwards."),
    port: int | None = typer.Option(None, help="Port for GraphQL."),
) -> None:
    """Import the shipped GIAB Ashkenazi trio, print a summary, then serve GraphQL."""
    if serve_after:
        _check_port(None, port, "make demo")
    c = _prepare()
    data = resources.files("regovar") / "data"
    vcf, ped = Path(str(data / "ashk-trio.vcf.gz")), Path(str(data / "ashk-trio.ped"))
    try:
        asyncio.run(_demo_import(c, vcf, ped))
    except RegovarError as exc:
        _release(c)
        raise fail(exc.code, exc.message) from exc
    if serve_after:
        _serve(c, None, port, with_worker=True)
    else:
        _release(c)


async def _demo_import(c: Container, vcf: Path, ped: Path) -> None:
    try:
        project = await c.projects.create(
            SYSTEM, CreateProject(DEMO_PROJECT, "GIAB Ashkenazi trio")
        )
    except Conflict:
        project = await c.projects.find(SYSTEM, DEMO_PROJECT)
    started = await c.imports.start(
        SYSTEM, StartImport(project.id, str(vcf), str(ped)), queue=False
    )
    job = started.job
    if started.already_imported:
        typer.echo(
            f"the trio was already imported (import {job.id}: {job.records:,} records, "
            f"{job.samples} samples)"
        )
    else:
        job = await _run_with_bar(c, job.id)
        _print_summary(job)
    samples = await c.variants.samples(SYSTEM, project_id=project.id, import_id=job.id)
    ids = {s.name: s.id for s in samples.items}
    print_table(
        [{"sample": s.name, "id": s.id, "column": s.column} for s in samples.items], "table"
    )
    await _de_novo(c, ids)
    await _demo_account(c, project.id)
    await c.aclose()


async def _demo_account(c: Container, project_id: int) -> None:
    """A `demo` account, owner of the demo project, with a new random password at each run:
    never a default password. Printed once, here, for GraphiQL's signIn."""
    password = secrets.token_urlsafe(12)
    try:
        await c.users.create(SYSTEM, CreateUser(DEMO_PROJECT, password))
    except Conflict:
        user = await c.users.find(SYSTEM, DEMO_PROJECT)
        await c.users.reset_password(SYSTEM, user.id, password)
        await c.users.set_active(SYSTEM, user.id, True)
    await c.members.set(SYSTEM, project_id, DEMO_PROJECT, "owner")
    typer.echo(
        f"\nSign in to GraphiQL (this password is new at each `regovar demo`):\n"
        f'  mutation {{ signIn(login: "{DEMO_PROJECT}", password: "{password}") {{ token }} }}'
    )


async def _de_novo(c: Container, ids: dict[str, int]) -> None:
    child, father, mother = ids["HG002"], ids["HG003"], ids["HG004"]
    leaves: list[vf.Node] = [
        vf.Genotype(child, ("het",)),
        vf.Genotype(father, ("hom_ref",)),
        vf.Genotype(mother, ("hom_ref",)),
    ]
    leaves += [vf.SampleValue(s, "dp", "ge", 10) for s in (child, father, mother)]
    leaves += [vf.SampleValue(s, "gq", "ge", 20) for s in (child, father, mother)]
    leaves += [vf.Filters(pass_only=True)]
    page = await c.variants.query(
        SYSTEM, vf.VariantQuery((child, father, mother), vf.And(tuple(leaves)), limit=10)
    )
    typer.echo(
        f"\nde novo candidates in HG002 (het; parents hom-ref; DP>=10, GQ>=20, PASS): {page.total}"
    )
    print_table(
        [
            {
                "locus": f"{r.chrom}:{r.pos}",
                "ref": r.ref,
                "alt": r.alt,
                "genes": r.genes,
                "consequence": r.worst_consequence,
                "HG002 vaf": stored_real(r.samples[child]["vaf"]),  # as the CLI shows it
            }
            for r in page.items
        ],
        "table",
    )

from __future__ import annotations

import typer

from regovar.adapters.pgserver import EmbeddedPostgres
from regovar.cli.base import fail, settings
from regovar.db import current_revision, upgrade_schema

app = typer.Typer(
    help="The database: schema migrations and the private server.", no_args_is_help=True
)


def _url(start: bool = True) -> tuple[str, EmbeddedPostgres | None]:
    config = settings()
    if config.database_url:
        return config.database_url, None
    server = EmbeddedPostgres(config.data_dir)
    if not start and not server.is_running():
        raise fail("DATABASE_UNAVAILABLE", "the private PostgreSQL is not running")
    try:
        return server.ensure_running(), server
    except RuntimeError as exc:
        raise fail("DATABASE_UNAVAILABLE", str(exc)) from exc


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply the schema migrations (creates everything on an empty database)."""
    url, server = _url()
    try:
        upgrade_schema(url, revision)
        typer.echo(f"database at revision {current_revision(url)}")
    finally:
        if server is not None and server.started_here:
            server.stop()


@app.command()
def start() -> None:
    """Start the private PostgreSQL (when no REGOVAR_DATABASE_URL is set) and leave it running."""
    url, _ = _url()
    typer.echo(f"private PostgreSQL running at {url.split('@', 1)[-1]}")


@app.command()
def stop(
    force: bool = typer.Option(False, help="Stop even while other clients are connected."),
) -> None:
    """Stop the private PostgreSQL (refused while a server, a worker or a command uses it)."""
    config = settings()
    if config.database_url:
        raise fail("INVALID_INPUT", "REGOVAR_DATABASE_URL is set: Regovar does not own that server")
    server = EmbeddedPostgres(config.data_dir)
    sessions = server.client_sessions()
    if sessions and not force:
        who = ", ".join(f"{n} x {name}" for name, n in sessions.items())
        raise fail("CONFLICT", f"{sum(sessions.values())} client sessions are connected ({who}): "
                   "stop `regovar serve`, `regovar worker` and `regovar scheduler` first, or "
                   "use --force (their work in progress is rolled back)")  # fmt: skip
    server.stop()
    typer.echo("private PostgreSQL stopped")


@app.command()
def status() -> None:
    """Show where the database is and its schema revision (exit status 3: the private
    PostgreSQL is stopped, as pg_ctl status says)."""
    config = settings()
    if not config.database_url:
        where = EmbeddedPostgres(config.data_dir)
        if not where.is_running():  # it said only "not running", not where nor what to do
            typer.echo(f"database: the private PostgreSQL in {where.directory}, stopped "
                       "(start it: regovar db start)")  # fmt: skip
            raise typer.Exit(3)
    url, server = _url(start=False)
    try:
        typer.echo(f"database: {url.split('@', 1)[-1]}")
        typer.echo(f"revision: {current_revision(url) or 'empty (run: regovar db upgrade)'}")
    finally:
        if server is not None and server.started_here:
            server.stop()

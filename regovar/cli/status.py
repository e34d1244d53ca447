"""`regovar status`: the server's health checks, for people and for outside monitors."""

from __future__ import annotations

import json

import typer

from regovar.adapters.pgserver import EmbeddedPostgres
from regovar.bootstrap import Container
from regovar.cli.base import container, principal, run, settings
from regovar.cli.output import print_table


def status(format: str = typer.Option("table", help="table, tsv or json")) -> None:
    """Free disk, database, queue, workers, failed imports, memory and load, against the
    thresholds of the settings. Exit status 2 when a check is critical."""

    async def work(c: Container) -> str:
        found = await c.monitoring.status(principal())
        rows = [
            {"check": k.name, "state": k.state, "value": k.value, "unit": k.unit,
             "threshold": k.threshold, "detail": k.detail}
            for k in found.checks
        ]  # fmt: skip
        if format == "json":
            typer.echo(json.dumps({"state": found.state, "at": found.at.isoformat(),
                                   "checks": rows}, indent=2))  # fmt: skip
        else:
            print_table(rows, format)
            if format == "table":
                typer.echo(f"server: {found.state}")
        return found.state

    config = settings()  # a wrong setting is said as it is (exit status 1)
    if not config.database_url and not EmbeddedPostgres(config.data_dir).is_running():
        # Asking must not start the private server that nobody runs (a monitor polling
        # `regovar status` would bring it back up behind the administrator's back).
        typer.echo(f"database: critical - the private PostgreSQL in {config.data_dir} is not "
                   "running (`regovar serve`, or `regovar db start`, starts it)")  # fmt: skip
        typer.echo("server: critical")
        raise typer.Exit(2)
    try:
        c = container(with_broker=False, config=config)
    except typer.Exit as exc:
        if exc.exit_code == 1:  # the database is unreachable (said above): that is critical
            typer.echo("server: critical (the database: see above)")
            raise typer.Exit(2) from exc
        raise
    if run(c, work) == "critical":
        raise typer.Exit(2)

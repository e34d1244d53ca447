"""The `regovar` console script."""

from __future__ import annotations

import importlib.util
import os
import sys

import typer

from regovar import db as regovar_db
from regovar.cli import (
    analyses,
    base,
    batches,
    db,
    imports,
    projects,
    server,
    status,
    users,
    variants,
)

app = typer.Typer(
    help="Regovar: variant-analysis server for genetics laboratories.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _global(
    ctx: typer.Context,
    as_login: str | None = typer.Option(
        None,
        "--as",
        envvar="REGOVAR_AS",
        help="Act as this user, with that user's rights (default: the server's own "
        "administrator principal).",
    ),
) -> None:
    if as_login is not None and not as_login.strip():
        raise base.fail("INVALID_INPUT", "--as needs a login (an empty one is not the server)")
    base.act_as(as_login)
    # The database's session list (pg_stat_activity, `regovar db stop`) says which command.
    command = ctx.invoked_subcommand
    if command:
        regovar_db.APPLICATION_NAME = f"regovar {command}"


app.add_typer(db.app, name="db")
app.add_typer(projects.app, name="projects")
projects.app.command("members")(users.members)
projects.app.command("add-member")(users.add_member)
projects.app.command("remove-member")(users.remove_member)
projects.app.command("notify")(users.notify)
projects.app.command("protect")(projects.protect)
app.add_typer(users.users_app, name="users")
app.add_typer(users.audit_app, name="audit")
app.add_typer(imports.samples_app, name="samples")
app.add_typer(imports.subjects_app, name="subjects")
app.add_typer(imports.imports_app, name="imports")
app.command("import")(imports.import_file)
app.command("variants")(variants.variants)
app.add_typer(analyses.app, name="analyses")
app.command("serve")(server.serve)
app.command("status")(status.status)
app.command("worker")(server.worker)
app.command("scheduler")(batches.scheduler)
app.add_typer(batches.jobs_app, name="jobs")
app.add_typer(batches.mail_app, name="mail")
app.add_typer(batches.inbox_app, name="inbox")
app.add_typer(batches.archive_app, name="archive")
app.command("demo")(server.demo)


def main() -> None:
    _run_as_package()
    _wide_help_when_piped()
    try:
        app()
    except KeyboardInterrupt:  # Ctrl-C outside a command's own handling (starting, ending)
        typer.echo(base.INTERRUPTED, err=True)
        raise SystemExit(130) from None


def _wide_help_when_piped() -> None:
    """Help read through a pipe or a file (no terminal to measure) was cut to 80 columns, its
    option lists ending in '…': it is laid out 140 wide instead, unless a width is set."""
    if sys.stdout.isatty() or os.environ.get("TERMINAL_WIDTH") or os.environ.get("COLUMNS"):
        return
    from typer import rich_utils

    rich_utils.MAX_WIDTH = 140


def _run_as_package() -> None:
    """The console script is then known as ``regovar.__main__`` (as under ``python -m
    regovar``). Without a module name, multiprocessing imports the script again, by its path,
    in each import's fork server, which so loaded the whole CLI (0.7 s) before the first
    parser could start; with one, it knows that its functions are not needed there."""
    script = sys.modules.get("__main__")
    if script is not None and getattr(script, "__spec__", None) is None:
        script.__spec__ = importlib.util.find_spec("regovar.__main__")

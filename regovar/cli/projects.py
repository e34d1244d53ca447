from __future__ import annotations

import typer

from regovar.bootstrap import Container
from regovar.cli.base import LIMIT_HELP, MAX_ID, container, principal, run
from regovar.cli.output import print_table
from regovar.domain.projects import CreateProject

app = typer.Typer(help="Projects.", no_args_is_help=True)


@app.command()
def create(
    name: str,
    description: str = typer.Option("", help="Free text."),
    owner: str | None = typer.Option(
        None, help="The user who owns it (default: the --as user; none for the server)."
    ),
) -> None:
    """Create a project."""

    async def work(c: Container) -> None:
        project = await c.projects.create(principal(), CreateProject(name, description, owner))
        owned = f", owned by {owner}" if owner else ""
        typer.echo(f"project {project.id} created: {project.name}{owned}")

    run(container(with_broker=False), work)


@app.command("list")
def list_(
    offset: int = typer.Option(0, min=0, max=MAX_ID),
    limit: int = typer.Option(100, min=0, help=LIMIT_HELP),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """List projects."""

    async def work(c: Container) -> None:
        page = await c.projects.page(principal(), offset, limit)
        rows = [
            {
                "id": p.id,
                "name": p.name,
                "description": p.description,
                "created": p.created_at.isoformat(timespec="seconds"),
                "last_used": p.last_used_at.isoformat(timespec="minutes"),
                "protected": p.protected,
                "archived": p.archived_at.isoformat(timespec="minutes") if p.archived_at else None,
            }
            for p in page.items
        ]
        print_table(rows, format, total=page.total)

    run(container(with_broker=False), work)


def protect(
    project: str,
    on: bool = typer.Option(True, "--on/--off", help="Protect, or stop protecting."),
) -> None:
    """A protected project is never archived for disuse (administrators)."""

    async def work(c: Container) -> None:
        found = await c.projects.find(principal(), project)
        done = await c.projects.set_protected(principal(), found.id, on)
        typer.echo(f"project {done.name} is {'protected' if done.protected else 'not protected'}")

    run(container(with_broker=False), work)

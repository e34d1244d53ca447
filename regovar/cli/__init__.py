"""The `regovar` console script."""

from __future__ import annotations

import typer

from regovar.cli import db, imports, projects, server, variants

app = typer.Typer(
    help="Regovar: variant-analysis server for genetics laboratories.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(projects.app, name="projects")
app.add_typer(imports.samples_app, name="samples")
app.add_typer(imports.imports_app, name="imports")
app.command("import")(imports.import_file)
app.command("variants")(variants.variants)
app.command("serve")(server.serve)
app.command("worker")(server.worker)
app.command("demo")(server.demo)


def main() -> None:
    app()

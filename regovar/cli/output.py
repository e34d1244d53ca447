from __future__ import annotations

import json
import os
import sys
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from regovar.models.reals import number_text

# Values come from users and files (a login, a project name, a VCF's sample names): in TSV a tab
# or a line break would make a false column or row, so they are written as \t and \n.
_TSV = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def print_table(rows: list[dict[str, Any]], fmt: str, *, total: int | None = None) -> None:
    if fmt == "json":
        typer.echo(json.dumps({"total": total, "items": rows}, indent=2, default=str))
        return
    if fmt == "tsv":
        if rows:
            typer.echo("\t".join(str(name).translate(_TSV) for name in rows[0]))
        for row in rows:
            typer.echo(
                "\t".join("" if v is None else _text(v).translate(_TSV) for v in row.values())
            )
        return
    if fmt != "table":
        raise typer.BadParameter(f"unknown format {fmt!r}: use table, tsv or json")
    table = Table(show_lines=False)
    for name in rows[0] if rows else ["(no rows)"]:
        table.add_column(Text(str(name)))
    for row in rows:  # Text: square brackets in a value are text, never rich markup
        table.add_row(*(Text("" if v is None else _text(v)) for v in row.values()))
    # Piped (no terminal, COLUMNS unset): the table keeps its natural width instead of being
    # cut to 80 columns.
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    Console(width=10_000 if piped else None).print(table)
    if total is not None:
        typer.echo(f"{len(rows)} shown of {total}")


def _text(value: Any) -> str:
    if isinstance(value, float):  # every digit kept: 1234567.0 is not 1.23457e+06
        return number_text(value)
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)

"""`regovar analyses`: create, list, show and run analyses with a filter in its JSON form."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import typer

from regovar.bootstrap import Container
from regovar.cli.base import LIMIT_HELP, MAX_ID, container, fail, principal, run
from regovar.cli.output import print_table
from regovar.cli.variants import _row, sample_id
from regovar.domain import variant_filter as vf
from regovar.domain.analyses import (
    GENE_COUNTS,
    ROLES,
    STATUSES,
    AnalysisView,
    CreateAnalysis,
    MemberSpec,
    UpdateAnalysis,
)
from regovar.domain.filters import SaveFilter
from regovar.domain.inheritance import MODES
from regovar.domain.interpretation import CLASSES, TAGS, Interpretation, Note
from regovar.models.reals import real_text, stored_real

app = typer.Typer(help="Analyses: a proband or a family, filtered.", no_args_is_help=True)
MAX_FILTER_BYTES = 4 << 20


@app.command()
def create(
    name: str,
    project: str = typer.Option(..., "--project", "-p", help="Project name or id."),
    sample: list[str] = typer.Option(
        ...,
        "--sample",
        "-s",
        help="Sample name, repeatable; the first is the proband. NAME=ROLE sets the role "
        f"({', '.join(ROLES)}).",
    ),
    family: bool = typer.Option(
        True, help="Add the samples of the proband's parents and siblings (from the PED)."
    ),
    description: str = typer.Option("", help="Free text."),
    import_id: int | None = typer.Option(
        None, "--import", help="Import id, when a sample name is in several imports.", min=1,
        max=MAX_ID,
    ),
) -> None:
    """Create an analysis; roles, sex and affected status come from the pedigree."""

    async def work(c: Container) -> None:
        found = await c.projects.find(principal(), project)
        specs = []
        for item in sample:
            sample_name, equals, role = item.partition("=")
            if equals and not role:
                raise fail("INVALID_INPUT", f"--sample {item!r}: give a role after '=' "
                                            f"({', '.join(ROLES)})")  # fmt: skip
            sid = await sample_id(c, found, sample_name, import_id)
            specs.append(MemberSpec(sid, role or None))
        view = await c.analyses.create(
            principal(), CreateAnalysis(found.id, name, tuple(specs), description, family)
        )
        typer.echo(f"analysis {view.analysis.id} created: {view.analysis.name}")
        _members(view, "table")

    run(container(with_broker=False), work)


@app.command()
def update(
    analysis: int = typer.Argument(..., help="Analysis id.", min=1, max=MAX_ID),
    name: str | None = typer.Option(None, help="A new name."),
    description: str | None = typer.Option(None, help="A new description."),
    status: str | None = typer.Option(None, help=f"One of {', '.join(STATUSES)}."),
    role: list[str] = typer.Option([], help="SAMPLE=ROLE (name or id), repeatable."),
    sex: list[str] = typer.Option([], help="SAMPLE=unknown|male|female, repeatable."),
    affected: list[str] = typer.Option(
        [], help="SAMPLE=unknown|unaffected|affected, repeatable."
    ),
) -> None:
    """Rename an analysis, change its status, or set its samples' roles, sex and status."""

    async def work(c: Container) -> None:
        specs: dict[int, dict[str, str]] = {}
        current = await c.analyses.get(principal(), analysis)
        by_name = {m.sample: m.sample_id for m in current.members}
        for option, values in (("role", role), ("sex", sex), ("affected", affected)):
            for item in values:
                sample, equals, value = item.partition("=")
                sid = by_name.get(sample) or (int(sample) if sample.isdigit()
                                              and int(sample) <= MAX_ID else None)  # fmt: skip
                if sid is None or not equals or not value:
                    raise fail("INVALID_INPUT", f"--{option} {item!r}: expected SAMPLE=VALUE, "
                                                "SAMPLE a sample name or id of the analysis")
                specs.setdefault(sid, {})[option] = value
        members = tuple(MemberSpec(sid, **fields) for sid, fields in specs.items())
        view = await c.analyses.update(
            principal(), UpdateAnalysis(analysis, name, description, status, members)
        )
        typer.echo(f"analysis {view.analysis.id} updated: {view.analysis.name} "
                   f"({view.analysis.status})")  # fmt: skip
        _members(view, "table")

    run(container(with_broker=False), work)


@app.command("list")
def list_(
    project: str | None = typer.Option(None, "--project", "-p", help="Project name or id."),
    offset: int = typer.Option(0, min=0, max=MAX_ID),
    limit: int = typer.Option(100, min=0, help=LIMIT_HELP),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """List analyses."""

    async def work(c: Container) -> None:
        project_id = (await c.projects.find(principal(), project)).id if project else None
        page = await c.analyses.page(principal(), project_id, offset, limit)
        rows = [
            {"id": a.id, "project": a.project_id, "name": a.name, "status": a.status,
             "updated": a.updated_at.isoformat(timespec="seconds")}
            for a in (v.analysis for v in page.items)
        ]  # fmt: skip
        print_table(rows, format, total=page.total)

    run(container(with_broker=False), work)


@app.command()
def show(
    analysis: int = typer.Argument(..., help="Analysis id.", min=1, max=MAX_ID),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """An analysis and its samples."""

    async def work(c: Container) -> None:
        view = await c.analyses.get(principal(), analysis)
        a = view.analysis
        if format == "table":
            typer.echo(f"analysis {a.id}: {a.name} (project {a.project_id}, {a.status})")
        _members(view, format)

    run(container(with_broker=False), work)


@app.command("run")
def run_(
    analysis: int = typer.Argument(..., help="Analysis id.", min=1, max=MAX_ID),
    filter_file: Path | None = typer.Option(
        None, "--filter", help="Filter in its JSON form (docs/analyses.md); '-' reads stdin."
    ),
    mode: str | None = typer.Option(
        None, help=f"Inheritance mode, added to the filter: {', '.join(MODES)}."
    ),
    saved_filter: str | None = typer.Option(
        None, "--saved", help="A saved filter: ID (its latest version) or ID@VERSION."
    ),
    bed: Path | None = typer.Option(None, help="A BED file: only variants in its regions."),
    sort: str = typer.Option(
        "position", help=f"One of {', '.join(vf.SORT_KEYS)}; '-' for descending."
    ),
    offset: int = typer.Option(0, min=0, max=MAX_ID),
    limit: int = typer.Option(100, min=0, help=LIMIT_HELP),
    genes: bool = typer.Option(
        False, help="Print the count of variants per gene instead (--offset/--limit page them)."
    ),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """The analysis's variants kept by a filter."""

    async def work(c: Container) -> None:
        document: dict[str, Any] | None = _document(filter_file, mode, bed)
        view = await c.analyses.get(principal(), analysis)
        key = sort.lstrip("-")
        proband = next(m.sample_id for m in view.members if m.role == "proband")
        sort_key = vf.SortKey(key, sort.startswith("-"), proband if key in vf.PER_SAMPLE_SORT_KEYS
                              else None)  # fmt: skip
        document, saved = _chosen(document, filter_file, mode, saved_filter)
        result = await c.analyses.results(
            principal(), analysis, document, saved=saved, sort=(sort_key,), offset=offset,
            limit=limit, gene_counts=genes,
        )  # fmt: skip
        if genes:
            shown = result.genes[offset : offset + limit]  # the most frequent first
            print_table([{"gene": g, "variants": n} for g, n in shown], format,
                        total=len(result.genes))  # fmt: skip
            if len(result.genes) >= GENE_COUNTS:  # the total is the cap, not every gene
                typer.echo(f"only the {GENE_COUNTS} genes with the most variants are counted; "
                           "narrow the filter to count the others", err=True)  # fmt: skip
            return
        names = {m.sample_id: m.sample for m in view.members}
        full = format != "table"
        keys = [r.variant_key for r in result.page.items]
        states = {i.variant_key: i for i in (
            await c.interpretation.of_variants(principal(), analysis, keys) if keys else []
        )}  # fmt: skip
        rows = [({"variant_key": r.variant_key} if full else {}) | _row(r, names, full=full)
                | _state(states.get(r.variant_key)) for r in result.page.items]  # fmt: skip
        if format == "json":
            typer.echo(json.dumps({
                "total": result.page.total, "mode": result.mode,
                "filter_id": result.filter_id, "filter_version": result.filter_version,
                "notes": result.notes, "items": rows,
            }, indent=2, default=str))  # fmt: skip
            return
        if format == "table" and result.mode:
            typer.echo(f"mode: {result.mode}")
        for note in result.notes:
            typer.echo(f"note: {note}", err=True)
        if format == "table" and result.filter_id:
            typer.echo(f"filter {result.filter_id} version {result.filter_version}")
        if not rows and format == "tsv":
            typer.echo("\t".join(["variant_key", *_row(None, names, full=True)]))
            return
        print_table(rows, format, total=result.page.total)

    run(container(with_broker=False), work)


@app.command("variant")
def variant(
    analysis: int = typer.Argument(..., help="Analysis id.", min=1, max=MAX_ID),
    key: str = typer.Argument(..., help="The variant's key (variant_key in run's tsv/json)."),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """One variant of the analysis: every sample's call, then every transcript."""

    async def work(c: Container) -> None:
        view = await c.analyses.get(principal(), analysis)
        found = await c.analyses.variant(principal(), analysis, key)
        r = found.row
        if format == "table":
            qual = real_text(r.qual)
            typer.echo(f"{r.chrom}:{r.pos} {r.ref}>{r.alt}  QUAL {qual}  "
                       f"FILTER {';'.join(r.filters or []) or '.'}")  # fmt: skip
        names = {m.sample_id: m for m in view.members}
        calls = [
            {"sample": names[sid].sample, "role": names[sid].role, "gt": v["gt"],
             "zygosity": vf.ZYGOSITY_NAMES.get(v["zyg"]) if v["zyg"] is not None else None,
             "dp": v["dp"], "gq": v["gq"], "ad_ref": v["ad_ref"], "ad_alt": v["ad_alt"],
             "vaf": stored_real(v["vaf"])}
            for sid, v in r.samples.items()
        ]  # fmt: skip
        keys = ("source", "gene", "feature", "biotype", "consequences", "impact", "hgvsc", "hgvsp")
        transcripts = [{k: t.get(k) for k in keys} for t in found.transcripts]
        if format == "json":  # one document: two printed one after the other were no JSON
            typer.echo(json.dumps({
                "variant": {"variant_key": r.variant_key, "chrom": r.chrom, "pos": r.pos,
                            "ref": r.ref, "alt": r.alt, "qual": stored_real(r.qual),
                            "filters": r.filters},
                "calls": calls, "transcripts": transcripts}, indent=2, default=str))  # fmt: skip
            return
        if format == "tsv":  # which variant the two tables are of, as a comment line
            typer.echo(f"# {r.chrom}:{r.pos} {r.ref}>{r.alt} QUAL {real_text(r.qual)} "
                       f"FILTER {';'.join(r.filters or []) or '.'}")  # fmt: skip
        print_table(calls, format)
        if format == "tsv":
            typer.echo("")
        print_table(transcripts, format)

    run(container(with_broker=False), work)


def _note(analysis: int, keys: list[str], kind: str, value: str = "",
          criteria: tuple[str, ...] = (), reason: str = "") -> None:  # fmt: skip
    async def work(c: Container) -> None:
        notes = await c.interpretation.add(
            principal(), Note(analysis, tuple(keys), kind, value, criteria, reason)
        )
        for n in notes:
            typer.echo(f"{n.variant}: {n.kind} {n.value} {' '.join(n.criteria)}".rstrip())

    run(container(with_broker=False), work)


@app.command()
def select(
    analysis: int = typer.Argument(..., help="Analysis id.", min=1, max=MAX_ID),
    keys: list[str] = typer.Argument(..., help="Variant keys."),
    unselect: bool = typer.Option(False, help="Take them out of the selection."),
    reason: str = typer.Option("", help="Why (kept in the history)."),
) -> None:
    """Select variants of the analysis (or --unselect them); the history keeps every step."""
    _note(analysis, keys, "unselect" if unselect else "select", reason=reason)


@app.command()
def tag(
    analysis: int = typer.Argument(..., help="Analysis id.", min=1, max=MAX_ID),
    keys: list[str] = typer.Argument(..., help="Variant keys."),
    name: str = typer.Option(..., "--tag", help=f"One of {', '.join(TAGS)}, or a word of yours."),
    remove: bool = typer.Option(False, help="Remove the tag."),
    reason: str = typer.Option("", help="Why (kept in the history)."),
) -> None:
    """Tag variants of the analysis (or --remove the tag)."""
    _note(analysis, keys, "untag" if remove else "tag", name, reason=reason)


@app.command()
def comment(
    analysis: int = typer.Argument(..., help="Analysis id.", min=1, max=MAX_ID),
    key: str = typer.Argument(..., help="Variant key."),
    text: str = typer.Argument(..., help="The comment."),
) -> None:
    """Comment on a variant of the analysis."""
    _note(analysis, [key], "comment", text)


@app.command()
def classify(
    analysis: int = typer.Argument(..., help="Analysis id.", min=1, max=MAX_ID),
    key: str = typer.Argument(..., help="Variant key."),
    cls: str = typer.Option(..., "--class", help=f"One of {', '.join(CLASSES)}."),
    criteria: str = typer.Option(
        "", help="ACMG criteria used, comma-separated: PVS1,PM2_Supporting"
    ),
    reason: str = typer.Option("", help="Why (shown only in this analysis)."),
) -> None:
    """Classify a variant (ACMG-style); every analysis shows its latest classification."""
    _note(analysis, [key], "classify", cls, tuple(criteria.split(",")) if criteria else (), reason)


@app.command()
def history(
    analysis: int = typer.Argument(..., help="Analysis id.", min=1, max=MAX_ID),
    key: str = typer.Argument(..., help="Variant key."),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """Every note on a variant in the analysis, and its classifications from anywhere."""

    async def work(c: Container) -> None:
        notes = await c.interpretation.history(principal(), analysis, key)
        rows = [
            {"at": n.at, "by": n.actor, "kind": n.kind, "value": n.value,
             "criteria": ",".join(n.criteria),
             "reason": n.reason if n.reason is not None else "(another analysis)",
             "analysis": n.analysis_id}
            for n in notes
        ]  # fmt: skip
        print_table(rows, format)

    run(container(with_broker=False), work)


@app.command("export")
def export(
    analysis: int = typer.Argument(..., help="Analysis id.", min=1, max=MAX_ID),
    out: Path = typer.Option(..., "--out", "-o", help="File to write ('-': standard output)."),
    format: str = typer.Option("xlsx", help="xlsx, tsv or vcf"),
    filter_file: Path | None = typer.Option(
        None, "--filter", help="Filter in its JSON form; '-' reads stdin."
    ),
    mode: str | None = typer.Option(None, help="Inheritance mode, added to the filter."),
    saved_filter: str | None = typer.Option(
        None, "--saved", help="A saved filter: ID (its latest version) or ID@VERSION."
    ),
    bed: Path | None = typer.Option(None, help="A BED file: only variants in its regions."),
) -> None:
    """Export the analysis's variants kept by a filter, with a header saying how."""

    async def work(c: Container) -> None:
        document, saved = _chosen(
            _document(filter_file, mode, bed), filter_file, mode, saved_filter
        )
        made = await c.exports.export(principal(), analysis, format, document, saved=saved)
        if str(out) == "-":
            sys.stdout.buffer.write(made.data)
            sys.stdout.flush()
            typer.echo(f"{made.rows:,} variants written ({format})", err=True)
            return
        _write_whole(out, made.data)
        typer.echo(f"{made.rows:,} variants written to {out} ({format})")

    run(container(with_broker=False), work)


def _state(i: Interpretation | None) -> dict[str, Any]:
    """The interpretation columns of a result row."""
    c = i.classification if i else None
    return {
        "selected": "yes" if i and i.selected else "",
        "tags": ",".join(i.tags) if i else "",
        "class": (f"{c.value} ({','.join(c.criteria)})" if c.criteria else c.value) if c else "",
    }


def _write_whole(out: Path, data: bytes) -> None:
    """The file appears whole or not at all: written beside it, then renamed over it."""
    part = out.with_name(f".{out.name}.{os.getpid()}.part")
    try:
        part.write_bytes(data)
        os.replace(part, out)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise fail("INVALID_INPUT", f"{out}: cannot write: {exc.strerror or exc}") from exc


def _chosen(
    document: dict[str, Any] | None,
    filter_file: Path | None,
    mode: str | None,
    saved_filter: str | None,
) -> tuple[dict[str, Any] | None, tuple[int, int | None] | None]:
    """The filter document, or the saved filter that --saved ID[@VERSION] names."""
    if saved_filter is None:
        return document, None
    if filter_file is not None or mode is not None or (document or {}).get("filter"):
        raise fail("INVALID_INPUT", "--saved replaces --filter, --mode and --bed")
    number, at, version = saved_filter.partition("@")
    if (
        not number.isdigit() or int(number) > MAX_ID or (at and not version.isdigit())
        or (version and int(version) > MAX_ID)
    ):  # fmt: skip
        raise fail("INVALID_INPUT", "--saved ID or ID@VERSION, e.g. 4 or 4@2")
    return None, (int(number), int(version) if version else None)


@app.command("save-filter")
def save_filter(
    analysis: int = typer.Argument(..., help="Analysis id.", min=1, max=MAX_ID),
    name: str = typer.Argument(..., help="The filter's name; saving again adds a version."),
    filter_file: Path = typer.Option(..., "--filter", help="Filter in its JSON form; '-': stdin."),
    preset: bool = typer.Option(False, help="A preset of the project, for all its analyses."),
    description: str = typer.Option("", help="Free text."),
) -> None:
    """Save a filter (or a new version of it) for an analysis, or as a project preset."""

    async def work(c: Container) -> None:
        view = await c.filters.save(
            principal(),
            SaveFilter(analysis, name, _document(filter_file, None), description, preset),
        )
        f, v = view.filter, view.version
        kept = f", keeps {v.variant_count:,} variants" if v.variant_count is not None else ""
        state = "saved" if view.created else "unchanged"
        typer.echo(f"filter {f.id} {f.name!r} version {v.version} {state}{kept}")

    run(container(with_broker=False), work)


@app.command("filters")
def filters(
    analysis: int = typer.Argument(..., help="Analysis id.", min=1, max=MAX_ID),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """The analysis's saved filters and its project's presets, at their latest version."""

    async def work(c: Container) -> None:
        views = await c.filters.of_analysis(principal(), analysis)
        rows = [
            {"id": v.filter.id, "name": v.filter.name,
             "kind": "preset" if v.filter.analysis_id is None else "analysis",
             "version": v.version.version, "variants": v.count,
             "saved": v.version.created_at.isoformat(timespec="seconds")}
            for v in views
        ]  # fmt: skip
        print_table(rows, format)

    run(container(with_broker=False), work)


def _document(
    path: Path | None, mode: str | None, bed: Path | None = None
) -> dict[str, Any]:
    """The filter file's document, with --mode and --bed added to its top-level "all"."""
    document: dict[str, Any] = {"version": 1, "filter": None}
    if path is not None:
        name = "standard input" if str(path) == "-" else str(path)
        try:
            if str(path) == "-":
                raw = sys.stdin.buffer.read(MAX_FILTER_BYTES + 1)
            else:
                with path.open("rb") as fh:
                    raw = fh.read(MAX_FILTER_BYTES + 1)
            if len(raw) > MAX_FILTER_BYTES:
                raise fail("INVALID_INPUT", f"{name}: larger than {MAX_FILTER_BYTES >> 20} MiB: "
                                            "not a filter")  # fmt: skip
            document = json.loads(raw.decode("utf-8-sig"))
        except OSError as exc:
            raise fail("INVALID_INPUT", f"{name}: cannot read: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise fail("INVALID_INPUT", f"{name}: not UTF-8 text") from exc
        except RecursionError as exc:
            raise fail("INVALID_INPUT", f"{name}: nested too deeply") from exc
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno} column {exc.colno}"
            raise fail("INVALID_INPUT", f"{name}, {where}: not JSON: {exc.msg}") from exc
    added: list[dict[str, Any]] = []
    if bed is not None:
        try:
            with bed.open("rb") as fh:
                text = fh.read(MAX_FILTER_BYTES + 1)
            if len(text) > MAX_FILTER_BYTES:
                raise fail("INVALID_INPUT", f"{bed}: larger than {MAX_FILTER_BYTES >> 20} MiB")
            added.append({"bed": text.decode("utf-8-sig")})
        except (OSError, UnicodeDecodeError) as exc:
            raise fail("INVALID_INPUT", f"{bed}: cannot read a BED file: {exc}") from exc
    if mode is not None:
        added.append({"inheritance": mode})
    if added:
        if not isinstance(document, dict):
            raise fail("INVALID_INPUT", "the filter is a JSON object")
        current = document.get("filter")
        conditions = [current] if current else []
        if isinstance(current, dict) and list(current) == ["all"]:
            conditions = list(current["all"]) if isinstance(current["all"], list) else [current]
        document = {**document, "filter": {"all": [*conditions, *added]}}
    return document


def _members(view: AnalysisView, format: str) -> None:
    rows = [
        {"sample_id": m.sample_id, "sample": m.sample, "role": m.role, "sex": m.sex,
         "affected": m.affected}
        for m in view.members
    ]  # fmt: skip
    print_table(rows, format)

"""`regovar variants`: the same conditions as the GraphQL variants query, as options."""

from __future__ import annotations

import math
import re

import typer

from regovar.bootstrap import Container
from regovar.cli.base import LIMIT_HELP, MAX_ID, container, fail, principal, run
from regovar.cli.output import print_table
from regovar.domain import variant_filter as vf
from regovar.domain.variants import VariantRow
from regovar.models import Project
from regovar.models.reals import real_text, stored_real

_COMPARE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*)\s*(>=|<=|!=|==|=|>|<)\s*(.*)$")
_OPS = {">=": "ge", "<=": "le", "!=": "ne", "==": "eq", "=": "eq", ">": "gt", "<": "lt"}
_REGION = re.compile(r"^([^:]+)(?::(\d[\d,]*)?-?(\d[\d,]*)?)?$")


def variants(
    project: str = typer.Option(..., "--project", "-p", help="Project name or id."),
    sample: list[str] = typer.Option(
        ...,
        "--sample",
        "-s",
        help="NAME[:ZYGOSITY[,ZYG]][:dp>=N][:gq>=N][:vaf>=X] e.g. HG002:het:dp>=10. "
        f"Zygosities: {', '.join(vf.ZYGOSITY_CODES)}. Groups: carrier (a called copy of the "
        "ALT: het, hom_alt, hemi_alt, het_alt, partial_alt), non_carrier (hom_ref, hemi_ref, "
        "other_alt), ref (hom_ref, hemi_ref), alt (every allele the ALT: hom_alt, hemi_alt). "
        "A name holding ':' (RUN1:S1) is read whole.",
    ),
    region: list[str] = typer.Option([], help="CHROM[:START-END], repeatable (any of them)."),
    gene: list[str] = typer.Option([], help="Gene symbol (any case), repeatable."),
    consequence: list[str] = typer.Option(
        [], help="SO term (any case) or an annotator's name for it: missense_variant, missense."
    ),
    impact: str | None = typer.Option(None, help="Minimum impact: LOW, MODERATE or HIGH."),
    qual: str | None = typer.Option(None, help="e.g. '>=30'"),
    pass_only: bool = typer.Option(False, "--pass-only", help="FILTER is PASS."),
    missing_is_pass: bool = typer.Option(
        False, help="With --pass-only: FILTER '.' counts as PASS."
    ),
    info: list[str] = typer.Option(
        [], help="INFO condition: 'AF<0.01', 'DP>=10', 'CLNSIG!=Pathogenic' (no value "
        "equals), 'DB' (present), '!DB' (absent), 'DB=false'. Names are case-sensitive."
    ),
    sort: str = typer.Option(
        "position", help=f"One of {', '.join(vf.SORT_KEYS)}; '-' for descending."
    ),
    import_id: int | None = typer.Option(
        None, "--import", help="Import id, when a sample name is in several imports.", min=1,
        max=MAX_ID,
    ),
    offset: int = typer.Option(0, min=0, max=MAX_ID),
    limit: int = typer.Option(100, min=0, help=LIMIT_HELP),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """Variants of one or several samples of a project.

    Quote each --sample: 'HG002:het:dp>=10' (the shell reads > as a redirection).
    """

    async def work(c: Container) -> None:
        found = await c.projects.find(principal(), project)
        specs = [await _sample_spec(c, found, s, import_id) for s in sample]
        ids = [sid for sid, _, _ in specs]
        leaves = [leaf for sid, _, conds in specs for leaf in _sample_leaves(sid, conds)]
        leaves += _variant_leaves(
            region, gene, consequence, impact, qual, pass_only, missing_is_pass, info
        )
        key = sort.lstrip("-")
        sort_key = vf.SortKey(
            key, sort.startswith("-"), ids[0] if key in vf.PER_SAMPLE_SORT_KEYS else None
        )
        query = vf.VariantQuery(
            tuple(ids), vf.And(tuple(leaves)) if leaves else None, (sort_key,), offset, limit
        )
        result = await c.variants.query(principal(), query)
        names = {sid: name for sid, name, _ in specs}
        rows = [_row(r, names, full=format != "table") for r in result.items]
        if not rows and format == "tsv":
            rows_header = _row(None, names, full=True)
            typer.echo("\t".join(rows_header))
            return
        print_table(rows, format, total=result.total)

    run(container(with_broker=False), work)


async def sample_id(c: Container, project: Project, name: str, import_id: int | None) -> int:
    """A sample named on the command line, by its name in the project."""
    page = await c.variants.samples(
        principal(), project_id=project.id, import_id=import_id, name=name, limit=20
    )
    if page.total == 0:
        raise fail("NOT_FOUND", f"no sample {name!r} in project {project.name!r}"
                   f"{await _look_alike_hint(c, project, name)}")  # fmt: skip
    if page.total > 1:
        imports = ", ".join(str(s.import_id) for s in page.items)
        raise fail(
            "INVALID_INPUT",
            f"sample {name!r} is in several imports ({imports}): choose one with --import",
        )
    return page.items[0].id


async def _sample_spec(
    c: Container, project: Project, spec: str, import_id: int | None
) -> tuple[int, str, list[str]]:
    """NAME[:COND...] -> (sample id, name, conditions). A name may hold ':' itself (a run's
    'RUN1:S1'): the longest leading part that names a sample of the project is the name."""
    parts = spec.split(":")
    for cut in range(len(parts), 1, -1):
        name = ":".join(parts[:cut])
        page = await c.variants.samples(principal(), project_id=project.id, import_id=import_id,
                                        name=name, limit=1)  # fmt: skip
        if page.total:
            return await sample_id(c, project, name, import_id), name, parts[cut:]
    return await sample_id(c, project, parts[0], import_id), parts[0], parts[1:]


async def _look_alike_hint(c: Container, project: Project, name: str) -> str:
    """'; a sample reads the same: 'T 1 '' when only spaces or invisible characters differ."""
    from regovar.adapters.vcf.header import looks

    page = await c.variants.samples(principal(), project_id=project.id,
                                    limit=c.settings.max_page_size)
    alike = sorted({s.name for s in page.items if looks(s.name) == looks(name)})
    return f"; one that reads the same: {', '.join(ascii(n) for n in alike)}" if alike else ""


def _sample_leaves(sample_id: int, conds: list[str]) -> list[vf.Node]:
    leaves: list[vf.Node] = []
    for cond in conds:
        m = _COMPARE.match(cond)
        if m:
            value = _number(m[3], repr(cond))
            leaves.append(vf.SampleValue(sample_id, m[1].lower(), _OPS[m[2]], value))
        else:
            leaves.append(vf.Genotype(sample_id, tuple(z.strip().lower() for z in cond.split(","))))
    return leaves


def _variant_leaves(
    regions: list[str],
    genes: list[str],
    consequences: list[str],
    impact: str | None,
    qual: str | None,
    pass_only: bool,
    missing_is_pass: bool,
    info: list[str],
) -> list[vf.Node]:
    leaves: list[vf.Node] = []
    if regions:
        leaves.append(vf.Or(tuple(_region(r) for r in regions)))
    if genes:
        leaves.append(vf.Genes(tuple(genes)))
    if consequences:
        leaves.append(vf.Consequences(tuple(consequences)))
    if impact:
        leaves.append(vf.MinImpact(impact.upper()))
    if qual:
        if not qual.strip(" <>=!"):
            raise fail("INVALID_INPUT", f"--qual {qual!r}: no value after the operator "
                       "(e.g. '>=30')")  # fmt: skip
        m = re.match(r"^\s*(>=|<=|!=|==|=|>|<)\s*(\S+)$", qual)
        if not m:
            raise fail("INVALID_INPUT", f"--qual {qual!r}: expected e.g. '>=30'")
        leaves.append(vf.Qual(_OPS[m[1]], _number(m[2], f"--qual {qual!r}")))
    if pass_only:
        leaves.append(vf.Filters(True, missing_is_pass))
    for cond in info:
        m = _COMPARE.match(cond)
        if m:
            # ('DB=true': a flag's true when DB is declared a Flag; the server reads it so)
            leaves.append(vf.Info(m[1], _OPS[m[2]], _number_or_text(m[3], f"--info {cond!r}")))
        elif cond.strip().startswith("!"):  # '!DB': not in dbSNP
            leaves.append(vf.Not(vf.Info(cond.strip()[1:].strip(), "exists")))
        else:
            leaves.append(vf.Info(cond.strip(), "exists"))
    return leaves


def _region(text: str) -> vf.Region:
    m = _REGION.match(text.strip())
    if not m:
        raise fail("INVALID_INPUT", f"region {text!r}: expected CHROM or CHROM:START-END")
    start = int(m[2].replace(",", "")) if m[2] else None
    end = int(m[3].replace(",", "")) if m[3] else start
    return vf.Region(m[1], start, end)


def _number_or_text(text: str, cond: str) -> float | str:
    _no_second_operator(text, cond)
    try:
        return _finite(float(text), text, cond)
    except ValueError:
        return text.strip()


def _number(text: str, cond: str) -> float:
    _no_second_operator(text, cond)
    try:
        value = float(text)
    except ValueError as exc:
        raise fail("INVALID_INPUT", f"{cond}: {text.strip()!r} is not a number") from exc
    return _finite(value, text, cond)


def _finite(value: float, text: str, cond: str) -> float:
    """'AF>=1e400' said "AF ge inf": the value as typed is named."""
    if not math.isfinite(value):
        raise fail("INVALID_INPUT", f"{cond}: {text.strip()!r} is not a finite number")
    return value


def _no_second_operator(text: str, cond: str) -> None:
    """'AF<<0.1', 'dp>>=3': a doubled operator, not a value that starts with one; 'DP>=':
    no value (``cond``: the condition as given, for the message)."""
    if not text.strip(" <>=!"):
        raise fail("INVALID_INPUT", f"{cond}: no value after the operator (e.g. '>=30')")
    if text.strip()[:1] in ("<", ">", "=", "!"):
        raise fail("INVALID_INPUT", f"{cond}: a value cannot start with an operator "
                   "(one of >=, <=, >, <, =, !=)")  # fmt: skip


def _row(r: VariantRow | None, names: dict[int, str], *, full: bool) -> dict[str, object]:
    """A table row: compact for reading; complete and one value per column for tsv and json."""
    if r is None:  # the header of an empty result
        r = VariantRow(
            "",
            "",
            0,
            0,
            "",
            "",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            {sid: dict.fromkeys(("gt", "zyg", "dp", "gq", "vaf")) for sid in names},
        )
    row: dict[str, object] = {
        "chrom": r.chrom, "pos": r.pos,
        "ref": r.ref if full else _short(r.ref), "alt": r.alt if full else _short(r.alt),
        "qual": _round(r.qual), "filter": ";".join(r.filters) if r.filters else ".",
        "genes": r.genes, "consequence": r.worst_consequence,
    }  # fmt: skip
    for sid, v in r.samples.items():
        zyg = vf.ZYGOSITY_NAMES.get(v["zyg"], "") if v["zyg"] is not None else ""
        name = names[sid]
        if full:
            row |= {f"{name}.gt": v["gt"], f"{name}.zygosity": zyg, f"{name}.dp": v["dp"],
                    f"{name}.gq": v["gq"], f"{name}.vaf": _round(v["vaf"])}  # fmt: skip
        else:
            vaf = real_text(v["vaf"])
            dp, gq = ("." if v[k] is None else v[k] for k in ("dp", "gq"))  # VCF's missing
            row[name] = f"{v['gt'] or '.'} {zyg or '.'} dp={dp} gq={gq} vaf={vaf}"
    return row


def _round(value: float | None) -> float | None:
    """REAL columns carry binary noise (48.93000030517578): show what the file said."""
    return stored_real(value)


def _short(allele: str) -> str:
    return allele if len(allele) <= 12 else f"{allele[:9]}...({len(allele)})"

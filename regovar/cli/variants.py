"""`regovar variants`: the same conditions as the GraphQL variants query, as options."""

from __future__ import annotations

import re

import typer

from regovar.bootstrap import Container
from regovar.cli.base import container, fail, run
from regovar.cli.output import print_table
from regovar.domain import variant_filter as vf
from regovar.domain.principal import SYSTEM
from regovar.domain.variants import VariantRow

_COMPARE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.]*)\s*(>=|<=|!=|==|=|>|<)\s*(.+)$")
_OPS = {">=": "ge", "<=": "le", "!=": "ne", "==": "eq", "=": "eq", ">": "gt", "<": "lt"}
_REGION = re.compile(r"^([^:]+)(?::(\d[\d,]*)?-?(\d[\d,]*)?)?$")


def variants(
    project: str = typer.Option(..., "--project", "-p", help="Project name or id."),
    sample: list[str] = typer.Option(
        ...,
        "--sample",
        "-s",
        help="NAME[:ZYGOSITY[,ZYG]][:dp>=N][:gq>=N][:vaf>=X] e.g. HG002:het:dp>=10. "
        f"Zygosities: {', '.join(vf.ZYGOSITY_CODES)}.",
    ),
    region: list[str] = typer.Option([], help="CHROM[:START-END], repeatable (any of them)."),
    gene: list[str] = typer.Option([], help="Gene symbol, repeatable."),
    consequence: list[str] = typer.Option([], help="SO term, e.g. missense_variant."),
    impact: str | None = typer.Option(None, help="Minimum impact: LOW, MODERATE or HIGH."),
    qual: str | None = typer.Option(None, help="e.g. '>=30'"),
    pass_only: bool = typer.Option(False, "--pass-only", help="FILTER is PASS."),
    missing_is_pass: bool = typer.Option(
        False, help="With --pass-only: FILTER '.' counts as PASS."
    ),
    info: list[str] = typer.Option(
        [], help="INFO condition: 'AF<0.01', 'DP>=10' or 'DB' (present)."
    ),
    sort: str = typer.Option(
        "position", help=f"One of {', '.join(vf.SORT_KEYS)}; '-' for descending."
    ),
    offset: int = typer.Option(0, min=0),
    limit: int = typer.Option(100, min=0),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """Variants of one or several samples of a project."""

    async def work(c: Container) -> None:
        found = await c.projects.find(SYSTEM, project)
        specs = [_split_sample(s) for s in sample]
        ids = []
        for name, _ in specs:
            page = await c.variants.samples(SYSTEM, project_id=found.id, name=name, limit=2)
            if page.total != 1:
                raise fail(
                    "NOT_FOUND" if page.total == 0 else "INVALID_INPUT",
                    f"sample {name!r}: {page.total} samples with that name in the project",
                )
            ids.append(page.items[0].id)
        leaves = [
            leaf
            for sid, (_, conds) in zip(ids, specs, strict=True)
            for leaf in _sample_leaves(sid, conds)
        ]
        leaves += _variant_leaves(
            region, gene, consequence, impact, qual, pass_only, missing_is_pass, info
        )
        key = sort.lstrip("-")
        sort_key = vf.SortKey(
            key, sort.startswith("-"), ids[0] if key in ("dp", "gq", "vaf") else None
        )
        query = vf.VariantQuery(
            tuple(ids), vf.And(tuple(leaves)) if leaves else None, (sort_key,), offset, limit
        )
        result = await c.variants.query(SYSTEM, query)
        names = dict(zip(ids, (n for n, _ in specs), strict=True))
        rows = [_row(r, names) for r in result.items]
        print_table(rows, format, total=result.total)

    run(container(with_broker=False), work)


def _split_sample(spec: str) -> tuple[str, list[str]]:
    name, *conds = spec.split(":")
    return name, conds


def _sample_leaves(sample_id: int, conds: list[str]) -> list[vf.Node]:
    leaves: list[vf.Node] = []
    for cond in conds:
        m = _COMPARE.match(cond)
        if m:
            leaves.append(vf.SampleValue(sample_id, m[1].lower(), _OPS[m[2]], _number(m[3])))
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
        m = re.match(r"^\s*(>=|<=|!=|==|=|>|<)\s*(\S+)$", qual)
        if not m:
            raise fail("INVALID_INPUT", f"--qual {qual!r}: expected e.g. '>=30'")
        leaves.append(vf.Qual(_OPS[m[1]], _number(m[2])))
    if pass_only:
        leaves.append(vf.Filters(True, missing_is_pass))
    for cond in info:
        m = _COMPARE.match(cond)
        if m:
            leaves.append(vf.Info(m[1], _OPS[m[2]], _number_or_text(m[3])))
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


def _number_or_text(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text.strip()


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise fail("INVALID_INPUT", f"{text!r} is not a number") from exc


def _row(r: VariantRow, names: dict[int, str]) -> dict[str, object]:
    row: dict[str, object] = {
        "chrom": r.chrom,
        "pos": r.pos,
        "ref": _short(r.ref),
        "alt": _short(r.alt),
        "qual": r.qual,
        "filter": ";".join(r.filters) if r.filters else ".",
        "genes": r.genes,
        "consequence": r.worst_consequence,
    }
    for sid, values in r.samples.items():
        zyg = vf.ZYGOSITY_NAMES.get(values["zyg"], "") if values["zyg"] is not None else ""
        row[names[sid]] = f"{values['gt'] or '.'} {zyg} dp={values['dp']} vaf=" + (
            f"{values['vaf']:.2f}" if values["vaf"] is not None else "."
        )
    return row


def _short(allele: str) -> str:
    return allele if len(allele) <= 12 else f"{allele[:9]}...({len(allele)})"

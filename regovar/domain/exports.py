"""Exports of an analysis's result: TSV, XLSX or VCF, with a header that records the analysis,
the filter (and its saved version), the samples and their roles, the software version and the
date. The rows are those of the result, in its order, read page by page."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from regovar import __version__
from regovar.adapters import exports as files
from regovar.domain import inheritance
from regovar.domain import variant_filter as vf
from regovar.domain.access import require_user
from regovar.domain.analyses import choose_filter, prepare
from regovar.domain.errors import InvalidInput
from regovar.domain.principal import Principal
from regovar.domain.variants import VariantRow, check_query, run_query
from regovar.models.reals import stored_real
from regovar.repositories.notes import NoteState
from regovar.repositories.uow import UnitOfWorkFactory

FORMATS = {
    "tsv": "text/tab-separated-values",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "vcf": "text/x-vcf",
}
MAX_ROWS = 200_000  # an export is for reading or a spreadsheet, not a copy of the database
_PAGE = 5_000
_IMPACTS = dict(enumerate(vf.IMPACTS))


@dataclass(frozen=True)
class Export:
    filename: str
    content_type: str
    data: bytes
    rows: int


class ExportManager:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow = uow

    async def export(
        self,
        principal: Principal,
        analysis_id: int,
        fmt: str,
        document: Any = None,
        *,
        saved: tuple[int, int | None] | None = None,
    ) -> Export:
        require_user(principal)
        if fmt not in FORMATS:
            raise InvalidInput(f"unknown format {fmt!r}; expected one of {list(FORMATS)}")
        async with self.uow() as uow:
            prepared = await prepare(uow, principal, analysis_id)
            chosen = await choose_filter(uow, prepared, document, saved)
            tree, mode, used, document = chosen.tree, chosen.mode, chosen.saved, chosen.document
            saved_filter = await uow.filters.get(used.filter_id) if used else None
            saved_name = saved_filter.name if saved_filter else ""
            rows: list[VariantRow] = []
            total = 0
            while True:
                query = vf.VariantQuery(prepared.sample_ids, tree, offset=len(rows), limit=_PAGE)
                check_query(query, _PAGE)
                page, _ = await run_query(uow, query, prepared.placements)
                total = page.total if not rows else total
                if total > MAX_ROWS:
                    raise InvalidInput(
                        f"the result has {total:,} variants; an export holds at most "
                        f"{MAX_ROWS:,}: narrow the filter"
                    )
                rows += page.items
                if len(page.items) < _PAGE:
                    break
            names = prepared.names
            states: dict[bytes, NoteState] = {}
            keys = [bytes.fromhex(r.variant_key) for r in rows]
            for start in range(0, len(keys), _PAGE):
                states |= await uow.notes.states(analysis_id, keys[start : start + _PAGE])
            import_ids = list(dict.fromkeys(p.import_id for p in prepared.placements.values()))
            headers = [i.header for i in (await uow.imports.get_many(import_ids)).values()]
            project = await uow.projects.get(prepared.analysis.project_id)
        analysis, family = prepared.analysis, prepared.family
        meta = [
            ("analysis", f"{analysis.id} {analysis.name}"),
            ("project", f"{analysis.project_id} {project.name}" if project else
             str(analysis.project_id)),
            ("filter", f"saved filter {used.filter_id} {saved_name!r} version {used.version}"
             if used else "unsaved"),
            ("filter document", json.dumps(document, sort_keys=True)),
            ("inheritance mode", inheritance.mode_label(mode, family) if mode else "none"),
            ("samples", "; ".join(
                f"{names[m.sample_id]} ({m.role}, {_SEX[m.sex]}, {_AFFECTED[m.affected]})"
                for m in family.members
            )),
            ("assembly", family.assembly),
            ("variants", len(rows)),
            ("software", f"Regovar {__version__}"),
            ("date", datetime.now(UTC).isoformat(timespec="seconds")),
        ]  # fmt: skip
        sample_names = [names[m.sample_id] for m in family.members]
        order = [m.sample_id for m in family.members]
        if fmt == "vcf":
            records = _vcf_records(rows, order, names)
            info_defs, filter_defs = _definitions(headers)
            data = files.vcf(meta, family.assembly, _contigs(rows), sample_names, records,
                             info_defs, filter_defs)  # fmt: skip
        else:
            columns, table = _table(rows, order, sample_names, states)
            data = (files.tsv if fmt == "tsv" else files.xlsx)(meta, columns, table)
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", analysis.name).strip("_") or "analysis"
        return Export(f"{stem}-{analysis.id}.{fmt}", FORMATS[fmt], data, len(rows))


_SEX = {0: "sex unknown", 1: "male", 2: "female"}
_AFFECTED = {0: "status unknown", 1: "unaffected", 2: "affected"}


def _table(
    rows: list[VariantRow], order: list[int], names: list[str], states: dict[bytes, NoteState]
) -> tuple[list[str], list[list[Any]]]:
    columns = ["variant_key", "chrom", "pos", "ref", "alt", "qual", "filter", "genes",
               "consequence", "impact", "consequences", "selected", "tags", "class",
               "criteria"]  # fmt: skip
    for name in names:
        columns += [f"{name}.gt", f"{name}.zygosity", f"{name}.dp", f"{name}.gq",
                    f"{name}.ad_ref", f"{name}.ad_alt", f"{name}.vaf", f"{name}.filter"]
    table = []
    empty = NoteState()
    for r in rows:
        state = states.get(bytes.fromhex(r.variant_key), empty)
        c = state.classification
        line: list[Any] = [
            r.variant_key, r.chrom, r.pos, r.ref, r.alt, _real(r.qual),
            ";".join(r.filters or []) or ".", r.genes or [], r.worst_consequence, _impact(r),
            r.consequences or [], "yes" if state.selected else "", state.tags,
            c.value if c else None, list(c.criteria) if c else [],
        ]  # fmt: skip
        for sid in order:
            v = r.samples[sid]
            zyg = vf.ZYGOSITY_NAMES.get(v["zyg"]) if v["zyg"] is not None else None
            line += [v["gt"], zyg, v["dp"], v["gq"], v["ad_ref"], v["ad_alt"], _real(v["vaf"]),
                     v.get("ft")]  # fmt: skip
        table.append(line)
    return columns, table


def _impact(r: VariantRow) -> str | None:
    return _IMPACTS.get(r.worst_impact) if r.worst_impact is not None else None


def _vcf_records(
    rows: list[VariantRow], order: list[int], names: dict[int, str]
) -> list[files.VcfRecord]:
    records = []
    for r in rows:
        samples = [
            files.VcfSample(names[sid], files.row_gt(v["gt"], v.get("alt_index")), v["dp"],
                            v["gq"], v["ad_ref"], v["ad_alt"], v.get("ft"))
            for sid, v in ((sid, r.samples[sid]) for sid in order)
        ]
        records.append(files.VcfRecord(
            r.chrom, r.pos, r.ref, r.alt, r.qual, r.filters, r.info, r.genes,
            r.worst_consequence, _impact(r), samples,
        ))  # fmt: skip
    return records


def _definitions(
    headers: list[dict[str, Any]],
) -> tuple[dict[str, files.InfoDef], dict[str, str]]:
    """The INFO and FILTER definitions of the analysed files' headers (the first file wins)."""
    info: dict[str, files.InfoDef] = {}
    filters: dict[str, str] = {}
    for header in headers:
        for key, d in (header.get("info") or {}).items():
            info.setdefault(key, files.InfoDef(
                str(d.get("number") or "."), str(d.get("type") or "String"),
                str(d.get("description") or ""),
            ))  # fmt: skip
        for key, description in (header.get("filters") or {}).items():
            filters.setdefault(key, str(description or ""))
    return info, filters


def _contigs(rows: list[VariantRow]) -> list[str]:
    return list(dict.fromkeys(r.chrom for r in rows))


def _real(value: float | None) -> float | None:
    """REAL columns carry binary noise (48.93000030517578): what the file said."""
    return stored_real(value)

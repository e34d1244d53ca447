"""Export files of analysis results: TSV, XLSX and VCF, each with a header saying what they are.

The writers take plain values: ``meta`` (ordered key/value pairs: analysis, filter and version,
samples, software version, date), the column names and rows of values for TSV and XLSX, and
variant rows for VCF.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from regovar.models.reals import number_text, real_text

# TSV: a tab or line break inside a value would make a false column or row.
_TSV = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# XLSX: a cell starting with one of these is read as a formula by spreadsheet programs.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_VCF_INFO_KEY = re.compile(r"^[A-Za-z_][0-9A-Za-z_.]*$")


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ",".join(text(v) for v in value)
    if isinstance(value, float):
        return number_text(value)  # QUAL and VAF come as the file wrote them (reals.py)
    return str(value)


def tsv(
    meta: Sequence[tuple[str, Any]], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> bytes:
    out = io.StringIO()
    for key, value in meta:
        out.write(f"## {key}: {text(value).translate(_TSV)}\n")
    out.write("\t".join(columns) + "\n")
    for row in rows:
        out.write("\t".join(text(v).translate(_TSV) for v in row) + "\n")
    return out.getvalue().encode()


def xlsx(
    meta: Sequence[tuple[str, Any]], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> bytes:
    """A workbook with the variants on the first sheet and what they are on the second."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    variants = book.create_sheet("variants")
    variants.append([_cell(c) for c in columns])  # sample names make column names
    for row in rows:
        variants.append([_cell(v) for v in row])
    about = book.create_sheet("about")
    for key, value in meta:
        about.append([key, _cell(value if isinstance(value, int) else text(value))])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return value if not (isinstance(value, float) and not math.isfinite(value)) else None
    value = _XML_ILLEGAL.sub("\ufffd", text(value))
    # Values come from files and users: never let one be taken as a formula.
    return "'" + value if value.startswith(_FORMULA) else value


@dataclass(frozen=True)
class VcfSample:
    name: str
    gt: str | None
    dp: int | None
    gq: int | None
    ad_ref: int | None
    ad_alt: int | None
    ft: str | None = None


@dataclass(frozen=True)
class VcfRecord:
    chrom: str
    pos: int
    ref: str
    alt: str
    qual: float | None
    filters: list[str] | None
    info: dict[str, Any] | None
    genes: list[str] | None
    consequence: str | None
    impact: str | None
    samples: list[VcfSample]


@dataclass(frozen=True)
class InfoDef:
    number: str
    type: str
    description: str


def vcf(
    meta: Sequence[tuple[str, Any]],
    assembly: str,
    contigs: Sequence[str],
    sample_names: Sequence[str],
    records: Iterable[VcfRecord],
    info_defs: dict[str, InfoDef] | None = None,
    filter_defs: dict[str, str] | None = None,
) -> bytes:
    """VCF 4.2, one record per variant (split and normalised as stored), the file's INFO plus
    REGOVAR_GENES, REGOVAR_CONSEQUENCE and REGOVAR_IMPACT, and GT:DP:GQ:AD:FT per sample."""
    out = io.StringIO()
    out.write("##fileformat=VCFv4.2\n")
    out.write(f"##reference={assembly}\n")
    for key, value in meta:
        out.write(f"##regovar_{key.lower().replace(' ', '_')}={_meta_value(text(value))}\n")
    records = list(records)
    for contig in contigs:
        out.write(f"##contig=<ID={contig}>\n")
    # Every INFO key and FILTER the records use is declared: the file's own definitions, or a
    # generic one for a key it did not declare.
    defs = info_defs or {}
    used_info = dict.fromkeys(k for r in records for k in (r.info or {}) if _own_key(k))
    for key in used_info:
        d = defs.get(key) or InfoDef(".", "String", "From the imported file")
        kind = d.type if d.type in ("Integer", "Float", "Flag", "Character", "String") else "String"
        number = d.number if re.fullmatch(r"[0-9]+|[.ARG]", d.number) else "."
        out.write(f"##INFO=<ID={key},Number={number},Type={kind},"
                  f"Description=\"{_quoted(d.description)}\">\n")  # fmt: skip
    used_filters = dict.fromkeys(f for r in records for f in (r.filters or []) if f != "PASS")
    for name in used_filters:
        description = (filter_defs or {}).get(name) or "From the imported file"
        if re.fullmatch(r"[^\s;=,<>\"]+", name):
            out.write(f'##FILTER=<ID={name},Description="{_quoted(description)}">\n')
    out.write('##INFO=<ID=REGOVAR_GENES,Number=.,Type=String,Description="Genes (Regovar)">\n')
    out.write('##INFO=<ID=REGOVAR_CONSEQUENCE,Number=1,Type=String,'
              'Description="Worst consequence (Regovar)">\n')  # fmt: skip
    out.write('##INFO=<ID=REGOVAR_IMPACT,Number=1,Type=String,'
              'Description="Worst impact (Regovar)">\n')  # fmt: skip
    out.write('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
    out.write('##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">\n')
    out.write('##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">\n')
    out.write('##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n')
    out.write('##FORMAT=<ID=FT,Number=1,Type=String,Description="Sample filter">\n')
    if any(_other_allele(r.samples) for r in records):
        out.write('##ALT=<ID=*,Description="Another ALT of the site, written on its own '
                  'record">\n')  # fmt: skip
    out.write("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO",
                         "FORMAT", *sample_names]) + "\n")  # fmt: skip
    for r in records:
        # A site of several ALTs, one record per ALT: a sample carrying another of them has it
        # as '<*>' (another allele, as in gVCFs), so that its call stays a call (het with
        # another ALT, or another ALT only) and reads back so; its depth is not kept ('.').
        other = _other_allele(r.samples)
        info = _info(r, defs if other else None)
        qual = real_text(r.qual)
        filters = ";".join(r.filters) if r.filters else "."
        cells = [_sample(s, other) for s in r.samples]
        alt = f"{r.alt},<*>" if other else r.alt
        out.write("\t".join([r.chrom, str(r.pos), ".", r.ref, alt, qual, filters, info,
                             "GT:DP:GQ:AD:FT", *cells]) + "\n")  # fmt: skip
    return out.getvalue().encode()


def _own_key(key: str) -> bool:
    """An INFO key of the file that the export keeps (Regovar writes its own REGOVAR_ keys)."""
    return bool(_VCF_INFO_KEY.match(key)) and not key.startswith("REGOVAR_")


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _meta_value(value: str) -> str:
    return value.replace("\n", " ").replace("\r", " ")


def _info(r: VcfRecord, padded: dict[str, InfoDef] | None = None) -> str:
    """The record's INFO; ``padded``: with '<*>' added, a value per ALT (Number=A) or per
    allele (R) gets a missing one for it, and one per genotype (G) is left out."""
    items = []
    for key, value in (r.info or {}).items():
        if not _own_key(key) or value is None or value is False:
            continue
        number = padded[key].number if padded and key in padded else ""
        if number == "G":
            continue
        text_ = key if value is True else f"{key}={_info_value(value)}"
        items.append(f"{text_},." if number in ("A", "R") and value is not True else text_)
    if r.genes:
        items.append(f"REGOVAR_GENES={','.join(_info_value(g) for g in r.genes)}")
    if r.consequence:
        items.append(f"REGOVAR_CONSEQUENCE={_info_value(r.consequence)}")
    if r.impact:
        items.append(f"REGOVAR_IMPACT={r.impact}")
    return ";".join(items) or "."


def _info_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join("." if v is None else _info_value(v) for v in value)
    # INFO values cannot hold spaces, semicolons, equals signs or commas (VCF 4.2, 1.6.1).
    return re.sub(r"[\s;=,]", lambda m: f"%{ord(m.group()):02X}", text(value))


def _sample(s: VcfSample, other: bool = False) -> str:
    ad = "." if s.ad_ref is None and s.ad_alt is None else (
        f"{'.' if s.ad_ref is None else s.ad_ref},{'.' if s.ad_alt is None else s.ad_alt}"
        + (",." if other else "")
    )  # fmt: skip
    ft = s.ft if s.ft and re.fullmatch(r"[^\s:,=]+", s.ft) else "."
    return ":".join([s.gt or "./.", _n(s.dp), _n(s.gq), ad, ft])


def row_gt(gt: str | None, alt_index: int | None) -> str | None:
    """A GT as written for a record of several ALTs, for the record of its ALT number
    ``alt_index``: that ALT is 1, REF stays 0, any other ALT is 2, the record's '<*>' (another
    allele): 1/2 is 1/2 on the row of ALT 1 and 2/1 on the row of ALT 2; 0/3 is 0/2."""
    if gt is None or alt_index is None or (alt_index == 1 and not _OTHER_ALT.search(gt)):
        return gt
    own = str(alt_index)
    return "".join(
        a if a in ("0", ".", "/", "|") else ("1" if a == own else "2")
        for a in _ALLELES.split(gt) if a
    )


def _other_allele(samples: list[VcfSample]) -> bool:
    """Whether some GT names another ALT of the site (2, as :func:`row_gt` writes it)."""
    return any(s.gt and "2" in _ALLELES.split(s.gt) for s in samples)


_ALLELES = re.compile(r"([/|])")
_OTHER_ALT = re.compile(r"(?:^|[/|])(?:[2-9]|[1-9][0-9]+)(?=$|[/|])")


def _n(value: int | None) -> str:
    return "." if value is None else str(value)

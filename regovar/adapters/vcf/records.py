"""One VCF record (already split on TAB) to its CallRows: validation, split, normalisation.

Text VCF and BCF both come through here (BCF records are rendered to the same column strings),
so the two formats give identical rows by construction.
"""

from __future__ import annotations

from regovar.adapters.vcf.annotations import AnnotationParser
from regovar.adapters.vcf.contigs import ContigNamer
from regovar.adapters.vcf.header import DEFAULT_LAYOUTS
from regovar.adapters.vcf.info import InfoParser, RecordInfo
from regovar.adapters.vcf.model import CallRow, ImportWarnings, VcfHeader, VcfMalformed
from regovar.adapters.vcf.normalise import (
    BASES,
    SYMBOLIC,
    ReferenceGenome,
    alt_kind,
    left_align,
    ref_error,
    trim_alleles,
)
from regovar.adapters.vcf.samples import (
    ABSENT,
    FormatPlan,
    SampleBlock,
    SampleParser,
    biallelic_block,
    general_block,
)

_BASE_CHARS = "ACGTNacgtn"


class RecordParser:
    def __init__(self, header: VcfHeader, assembly: str, warnings: ImportWarnings,
                 reference: ReferenceGenome | None = None) -> None:
        self.path = header.path
        self.header = header
        self.n_samples = len(header.samples)
        self.n_columns = 9 + self.n_samples if self.n_samples else 8
        self.contig = ContigNamer(assembly, header.contigs, warnings)
        self.info = InfoParser(header.info)
        self.samples = SampleParser(header.path)
        self.plans: dict[str, FormatPlan] = {}
        self.filters: dict[str, tuple[str, ...] | None] = {".": None}
        self.annotations = AnnotationParser({**DEFAULT_LAYOUTS, **header.annotation_fields},
                                            warnings)
        self.reference = reference
        self.warnings = warnings

    def parse(self, fields: list[str], line: int) -> list[CallRow]:
        if len(fields) != self.n_columns:
            fields = self._fix_columns(fields, line)
        ref, alt_text = fields[3], fields[4]
        try:
            pos = int(fields[1])
        except ValueError:
            raise VcfMalformed(self.path, line, f"POS is not an integer: {fields[1]!r}") from None
        if not ref or ref.strip(_BASE_CHARS):
            raise VcfMalformed(self.path, line, ref_error(ref) or "invalid REF")
        alts = alt_text.split(",")
        if (len(alts) == 1 and alt_text and not alt_text.strip(_BASE_CHARS)
                and alt_text.upper() != ref.upper()):
            kept, kinds = [1], [BASES]
        else:
            kept, kinds = self._alt_kinds(alts, ref, line)
        if not kept:
            return []
        chrom = self.contig.cache.get(fields[0]) or self.contig(fields[0])
        qual = self._qual(fields[5], line)
        filters = self.filters.get(fields[6], ())
        if filters == ():
            filters = self._filters(fields[6])
        info = self.info.parse(fields[7])
        block = self._samples(fields, ref, alts, kept, line) if self.n_samples else None
        by_alt = self._annotations(info, fields, ref, alts, kept, line)
        rows: list[CallRow] = []
        for i in kept:
            p, r, a, end = self._alleles(fields[0], pos, ref, alts[i - 1], kinds[i - 1], info)
            rows.append(self._row(line, chrom, p, r, a, end, i, len(kept), qual, filters,
                                  info.for_allele(i, len(alts) + 1, len(kept) == 1), block,
                                  by_alt.get(i, []) if by_alt else [], len(rows) > 0))
        return rows

    def _fix_columns(self, fields: list[str], line: int) -> list[str]:
        """Tolerate trailing empty columns (stray tabs) and FORMAT without samples."""
        while len(fields) > self.n_columns and fields[-1] == "":
            fields = fields[:-1]
        if len(fields) == self.n_columns or (not self.n_samples and len(fields) == 9):
            return fields
        raise VcfMalformed(self.path, line, f"expected {self.n_columns} tab-separated columns, "
                           f"found {len(fields)}")

    def _alt_kinds(self, alts: list[str], ref: str, line: int) -> tuple[list[int], list[int]]:
        kept: list[int] = []
        kinds: list[int] = []
        for i, alt in enumerate(alts, start=1):
            kind = alt_kind(alt)
            if isinstance(kind, str):
                raise VcfMalformed(self.path, line, kind)
            kinds.append(kind)
            if kind == BASES and alt.upper() == ref.upper():
                self.warnings.add("alt_equals_ref", line, "ALT identical to REF; no variant row")
            elif kind in (BASES, SYMBOLIC):
                kept.append(i)
        return kept, kinds

    def _qual(self, text: str, line: int) -> float | None:
        if text == ".":
            return None
        try:
            return float(text)
        except ValueError:
            raise VcfMalformed(self.path, line, f"QUAL is not a number: {text!r}") from None

    def _filters(self, text: str) -> tuple[str, ...] | None:
        value = tuple(f for f in text.split(";") if f) if text not in (".", "") else None
        if len(self.filters) < 10_000:
            self.filters[text] = value
        return value

    def _samples(self, fields: list[str], ref: str, alts: list[str], kept: list[int],
                 line: int) -> SampleBlock:
        fmt = fields[8]
        plan = self.plans.get(fmt)
        if plan is None:
            plan = self.plans[fmt] = FormatPlan(fmt, self.header.formats)
        cols = fields[9:]
        if len(alts) == 1:
            return biallelic_block(self.samples, plan, cols, ref, alts[0], line)
        return general_block(self.samples, plan, cols, ref, alts, kept, line)

    def _annotations(self, info: RecordInfo, fields: list[str], ref: str, alts: list[str],
                     kept: list[int], line: int) -> dict[int, list] | None:
        if not info.annotations:
            return None
        masks = None
        if "BCSQ" in info.annotations and self.n_samples:
            plan = self.plans[fields[8]]
            if plan.bcsq != ABSENT:
                masks = self._bcsq_masks(plan, fields[9:], len(alts) + 1, line)
        return self.annotations.parse(info.annotations, ref, alts, kept, line, masks)

    def _bcsq_masks(self, plan: FormatPlan, cols: list[str], n_alleles: int,
                    line: int) -> list[tuple[int, tuple[int, ...]]]:
        masks = []
        for col in cols:
            parts = col.split(":")
            call = self.samples.call(plan, parts, n_alleles, line)
            mask = self.samples.ints[parts[plan.bcsq]] if plan.bcsq < len(parts) else None
            masks.append((mask or 0, call.alleles if call else ()))
        return masks

    def _alleles(self, chrom: str, pos: int, ref: str, alt: str, kind: int,
                 info: RecordInfo) -> tuple[int, str, str, int]:
        if kind == SYMBOLIC:
            end = info.whole.get("END")
            if not isinstance(end, int):
                end = pos + len(ref) - 1
            return pos, ref.upper(), alt, end
        p, r, a = trim_alleles(pos, ref.upper(), alt.upper())
        if self.reference is not None:
            p, r, a = left_align(chrom, p, r, a, self.reference)
        return p, r, a, p + len(r) - 1

    def _row(self, line: int, chrom: str, pos: int, ref: str, alt: str, end: int, alt_index: int,
             n_alts: int, qual: float | None, filters: tuple[str, ...] | None,
             info: dict[str, object], block: SampleBlock | None, annotations: list,
             copy: bool) -> CallRow:
        flt = list(filters) if filters is not None else None
        if block is None:
            return CallRow(line, chrom, pos, ref, alt, end, alt_index, n_alts, qual, flt, info,
                           0, 0, [], [], [], [], [], [], [], [], annotations)
        s = block.per_alt[alt_index]
        if copy:  # rows of one record must not share mutable lists
            return CallRow(line, chrom, pos, ref, alt, end, alt_index, n_alts, qual, flt, info,
                           s.ac, block.an, block.gt[:], s.zyg, block.ps[:], block.dp[:],
                           block.ad_ref[:], s.ad_alt, block.gq[:], s.vaf, annotations, s.fmt)
        return CallRow(line, chrom, pos, ref, alt, end, alt_index, n_alts, qual, flt, info, s.ac,
                       block.an, block.gt, s.zyg, block.ps, block.dp, block.ad_ref, s.ad_alt,
                       block.gq, s.vaf, annotations, s.fmt)

"""One VCF record (already split on TAB) to its CallRows: validation, split, normalisation.

Text VCF and BCF both come through here (BCF records are rendered to the same column strings),
so the two formats give identical rows by construction.
"""

from __future__ import annotations

from typing import Any

from regovar.adapters.vcf.annotations import AnnotationParser
from regovar.adapters.vcf.contigs import ContigNamer
from regovar.adapters.vcf.duplicate_alts import merge_record, merged_alleles
from regovar.adapters.vcf.header import DEFAULT_LAYOUTS
from regovar.adapters.vcf.info import InfoParser
from regovar.adapters.vcf.lazy import LazyCallRow, RecordContext, new_row
from regovar.adapters.vcf.model import ImportWarnings, VcfHeader, VcfMalformed
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
    Columns,
    FormatPlan,
    SampleBlock,
    SampleParser,
    aligned,
    biallelic_columns,
    general_block,
    split_columns,
)

_BASE_CHARS = "ACGTNacgtn"


_ONE_ALT = [1]
_UNSEEN: list[str] = []
_NO_LIMIT = 1 << 62


MAX_ALTS = 1_000  # callers write a few (GATK at most 6 by default); joint calls of STRs, hundreds
MAX_RECORD_CALLS = 2_000_000  # ALTs x samples of one record: its rows are built at once

class RecordParser:
    """Parses the records of one file.

    ``fields`` are the first nine columns plus, when the file has samples, all sample columns
    as one tab-joined string (``line.split("\t", 9)``): splitting them is left to the sample
    code, which does it once for all samples.
    """

    def __init__(
        self,
        header: VcfHeader,
        assembly: str,
        warnings: ImportWarnings,
        reference: ReferenceGenome | None = None,
    ) -> None:
        self.path = header.path
        self.header = header
        self.n_samples = len(header.samples)
        self.n_columns = 10 if self.n_samples else 8
        self.contig = ContigNamer(assembly, header.contigs, warnings)
        self._contigs = self.contig.cache
        self._lengths = {name: n for name, n in header.contigs.items() if n}
        self.info = InfoParser(header.info)
        self.samples = SampleParser(header.path, self.n_samples, warnings)
        self.plans: dict[str, FormatPlan] = {}
        self.filters: dict[str, list[str] | None] = {".": None}
        self.annotations = AnnotationParser(
            {**DEFAULT_LAYOUTS, **header.annotation_fields}, warnings
        )
        self.reference = reference
        self.warnings = warnings
        # Samples carrying an allele of a record dropped for having no variant allele ('*' or
        # '<NON_REF>' alone on its line): its position's other records read them as carrying
        # another ALT (siblings.py). The reader clears it at each new position.
        self.rowless_carriers: set[int] = set()
        self.rowless_depths: list[list[int | None]] = []  # per such line, each sample's ALT depth

    def parse(self, fields: list[str], line: int) -> list[LazyCallRow]:
        if len(fields) != self.n_columns:
            fields = self._fix_columns(fields, line)
        ref, alt = fields[3], fields[4]
        text = fields[1]
        if not (text.isascii() and text.isdigit()):  # int() would take ' +3', '1_000', '١٢٣'
            raise VcfMalformed(self.path, line, f"POS is not an integer: {text!r}")
        pos = int(text)
        if not ref or ref.strip(_BASE_CHARS):
            raise VcfMalformed(self.path, line, ref_error(ref) or "invalid REF")
        if "," not in alt and alt and not alt.strip(_BASE_CHARS) and alt != ref:
            return self._biallelic(fields, line, pos, ref.upper(), alt.upper())
        if "," in alt and (numbers := merged_alleles(alt, ref)) is not None:
            fields, repeated, as_ref, miscounted, unread = merge_record(
                fields, numbers, self.header.info, self.header.formats)  # fmt: skip
            odd = [f"ALT {', '.join(repeated)} listed more than once"] if repeated else []
            odd += [f"ALT {', '.join(as_ref)} is the REF"] if as_ref else []
            why = "; ".join(odd)
            self._merge_warnings(line, miscounted, "ad_count", f"has not one value per listed "
                                 f"allele ({why}): stored as missing")  # fmt: skip
            self._merge_warnings(line, unread, "format_not_integer", f"counts cannot be added "
                                 f"({why}): a value is not a plain non-negative integer: "
                                 "stored as missing")  # fmt: skip
            if repeated:
                self.warnings.add(
                    "duplicate_alt", line,
                    f"ALT {', '.join(repeated)} listed more than once: read as one allele (GTs "
                    "renumbered, integer counts such as AD added, other per-ALT values of the "
                    "first listing kept, per-genotype values dropped)",
                )  # fmt: skip
            if as_ref:
                self.warnings.add(
                    "alt_is_ref", line,
                    f"ALT {', '.join(as_ref)} is the REF: read as the REF (GT alleles naming it "
                    "read as 0, its depths added to the REF's, per-genotype values dropped)",
                )  # fmt: skip
            return self.parse(fields, line)
        return self._multiallelic(fields, line, pos, ref)

    def _merge_warnings(self, line: int, keys: list[str], ad_kind: str, what: str) -> None:
        """One warning per kind for the record, naming its keys: AD under ``ad_kind``, INFO
        keys under info_value (other FORMAT keys are not stored)."""
        infos = [key for key in keys if key.startswith("INFO ")]
        if "AD" in keys:
            self.warnings.add(ad_kind, line, f"AD {what}")
        if infos:
            names = ", ".join(key.removeprefix("INFO ") for key in infos)
            self.warnings.add("info_value", line, f"INFO {names} {what}")

    def _biallelic(
        self, fields: list[str], line: int, pos: int, ref: str, alt: str
    ) -> list[LazyCallRow]:
        """Fast path: one ALT made of bases (the vast majority of records)."""
        if ref == alt:
            return self._multiallelic(fields, line, pos, ref)
        chrom, p, r, a, qual, filters = self.site(fields, line, pos, ref, alt)
        ctx: RecordContext
        if not self.n_samples:
            ctx = (self, fields, line, fields[3], [fields[4]], _ONE_ALT, None, None, [])
            return [
                new_row(
                    ctx,
                    line,
                    chrom,
                    p,
                    r,
                    a,
                    p + len(r) - 1,
                    1,
                    1,
                    qual,
                    filters,
                    0,
                    0,
                    [],
                    [],
                    [],
                    [],
                    [],
                    [],
                    [],
                    [],
                )
            ]
        plan = self.plans.get(fields[8]) or self._plan(fields[8])
        if plan.repeated:
            self._repeated_keys(plan, line)
        tokens = fields[9].replace("\t", ":").split(":")
        if len(tokens) != plan.n_tokens or not aligned(fields[9], plan.n_keys, self.n_samples):
            tokens = self.samples.tokens(plan, fields[9], line)
        gt, zyg, ac, an, dp, gq, ps, ad_ref, ad_alt, vaf = biallelic_columns(
            self.samples, plan, tokens, ref, alt, line
        )
        ctx = (self, fields, line, fields[3], [fields[4]], _ONE_ALT, plan, tokens, [])
        return [
            new_row(
                ctx,
                line,
                chrom,
                p,
                r,
                a,
                p + len(r) - 1,
                1,
                1,
                qual,
                filters,
                ac,
                an,
                gt,
                zyg,
                ps,
                dp,
                ad_ref,
                ad_alt,
                gq,
                vaf,
            )
        ]

    def site(
        self, fields: list[str], line: int, pos: int, ref: str, alt: str
    ) -> tuple[str, int, str, str, float | None, list[str] | None]:
        """(chrom, pos, ref, alt, qual, filters) of a one-ALT record; alleles upper-cased."""
        if len(ref) == 1 and len(alt) == 1:
            p, r, a = pos, ref, alt
        else:
            p, r, a = trim_alleles(pos, ref, alt)
            if self.reference is not None:
                p, r, a = left_align(fields[0], p, r, a, self.reference)
        chrom = self._contigs.get(fields[0]) or self.contig(fields[0], line)
        if p + len(r) - 1 > self._lengths.get(fields[0], _NO_LIMIT):
            self._within_contig(fields[0], p + len(r) - 1, line)
        try:
            qual = float(fields[5]) if fields[5] != "." else None
        except ValueError:
            qual = self._qual(fields[5], line)
        filters = self.filters.get(fields[6], _UNSEEN)
        if filters is _UNSEEN:
            filters = self._filters(fields[6])
        return chrom, p, r, a, qual, filters[:] if filters else None

    def _multiallelic(self, fields: list[str], line: int, pos: int, ref: str) -> list[LazyCallRow]:
        """General path: several ALTs, '*', symbolic alleles, gVCF blocks, ALT '.'."""
        alts = fields[4].split(",")
        if len(alts) > MAX_ALTS or len(alts) * self.n_samples > MAX_RECORD_CALLS:
            # One record's rows are made at once: a million ALTs took gigabytes.
            calls = len(alts) * self.n_samples
            what = (f"{len(alts):,} ALT alleles in one record (at most {MAX_ALTS:,})"
                    if len(alts) > MAX_ALTS else
                    f"{len(alts):,} ALT alleles x {self.n_samples:,} samples = {calls:,} "
                    f"genotypes in one record (at most {MAX_RECORD_CALLS:,})")  # fmt: skip
            raise VcfMalformed(self.path, line, f"{what}: not a record Regovar can hold")
        kept, kinds = self._alt_kinds(alts, ref, line)
        if not kept:
            if BASES not in kinds:  # (an ALT equal to REF has its own warning)
                self.warnings.add("no_variant_allele", line, "no variant allele (a gVCF "
                                  "reference block, ALT '.', '<NON_REF>', '<*>' or '*' only): "
                                  "not stored")  # fmt: skip
            if self.n_samples and len(fields) > 9 and len(alts) > 0 and alts[0] != ".":
                self.rowless_carriers.update(non_ref_carriers(fields[8], fields[9]))
                depths = non_ref_depths(fields[8], fields[9]) + [None] * self.n_samples
                self.rowless_depths.append(depths[: self.n_samples])
            return []
        chrom = self.contig.cache.get(fields[0]) or self.contig(fields[0], line)
        qual = None if fields[5] == "." else self._qual(fields[5], line)
        filters = self.filters.get(fields[6], _UNSEEN)
        if filters is _UNSEEN:
            filters = self._filters(fields[6])
        plan, tokens, block = None, None, None
        if self.n_samples:
            plan = self.plans.get(fields[8]) or self._plan(fields[8])
            if plan.repeated:
                self._repeated_keys(plan, line)
            tokens = self.samples.tokens(plan, fields[9], line)
            block = (
                _block_of(biallelic_columns(self.samples, plan, tokens, ref, alts[0], line))
                if len(alts) == 1
                else general_block(self.samples, plan, tokens, ref, alts, kept, line)
            )
        ctx: RecordContext = (self, fields, line, ref, alts, kept, plan, tokens, [])
        rows = []
        for i in kept:
            p, r, a, end = self._alleles(fields[0], pos, ref, alts[i - 1], kinds[i - 1], ctx)
            flt = filters[:] if filters else None
            if block is None:
                rows.append(
                    new_row(
                        ctx,
                        line,
                        chrom,
                        p,
                        r,
                        a,
                        end,
                        i,
                        len(kept),
                        qual,
                        flt,
                        0,
                        0,
                        [],
                        [],
                        [],
                        [],
                        [],
                        [],
                        [],
                        [],
                    )
                )
                continue
            copy = len(rows) > 0  # rows of one record must not share mutable lists
            rows.append(
                new_row(
                    ctx,
                    line,
                    chrom,
                    p,
                    r,
                    a,
                    end,
                    i,
                    len(kept),
                    qual,
                    flt,
                    block.ac[i],
                    block.an,
                    _maybe_copy(block.gt, copy),
                    block.zyg[i],
                    _maybe_copy(block.ps, copy),
                    _maybe_copy(block.dp, copy),
                    _maybe_copy(block.ad_ref, copy),
                    block.ad_alt[i],
                    _maybe_copy(block.gq, copy),
                    block.vaf[i],
                )
            )
        return rows

    def _plan(self, fmt: str) -> FormatPlan:
        plan = self.plans[fmt] = FormatPlan(fmt, self.header.formats)
        plan.n_tokens = plan.n_keys * self.n_samples
        return plan

    def _repeated_keys(self, plan: FormatPlan, line: int) -> None:
        keys = ", ".join(plan.repeated)
        self.warnings.add("repeated_key", line, f"FORMAT {keys} given more than once: the "
                          "first is read")  # fmt: skip

    def _fix_columns(self, fields: list[str], line: int) -> list[str]:
        """Tolerate trailing empty columns (stray tabs) and FORMAT without samples."""
        while len(fields) > self.n_columns and fields[-1] == "":
            fields = fields[:-1]
        if len(fields) == self.n_columns or (not self.n_samples and len(fields) == 9):
            return fields
        expected = f"{9 + self.n_samples}" if self.n_samples else "8"
        raise VcfMalformed(
            self.path, line, f"expected {expected} tab-separated columns, found {len(fields)}"
        )

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

    def _qual(self, text: str, line: int) -> float:
        try:
            return float(text)
        except ValueError:
            raise VcfMalformed(self.path, line, f"QUAL is not a number: {text!r}") from None

    def _filters(self, text: str) -> list[str] | None:
        value = [f for f in text.split(";") if f] if text not in (".", "") else None
        if len(self.filters) < 10_000:
            self.filters[text] = value
        return value

    def _alleles(
        self, chrom: str, pos: int, ref: str, alt: str, kind: int, ctx: RecordContext
    ) -> tuple[int, str, str, int]:
        if kind == SYMBOLIC:
            end = _reserved_end(ctx[1][7] if len(ctx[1]) > 7 else ".")
            line = ctx[2]
            if end is None:
                # (breakends have no END, and an insertion ends where it starts)
                if alt[:1] == "<" and not alt.upper().startswith("<INS"):
                    unknown = f"{alt} without an INFO END: its extent is unknown, ends at POS"
                    self.warnings.add("symbolic_without_end", line, unknown)
                end = pos + len(ref) - 1
            elif not isinstance(end, int) or isinstance(end, bool):
                raise VcfMalformed(self.path, line, f"INFO END is not an integer: {end!r}")
            elif end < pos:
                raise VcfMalformed(self.path, line, f"END {end} is before POS {pos}")
            self._within_contig(chrom, end, line)
            return pos, ref.upper(), alt, end
        p, r, a = trim_alleles(pos, ref.upper(), alt.upper())
        if self.reference is not None:
            p, r, a = left_align(chrom, p, r, a, self.reference)
        self._within_contig(chrom, p + len(r) - 1, ctx[2])
        return p, r, a, p + len(r) - 1

    def _within_contig(self, chrom: str, end: int, line: int) -> None:
        """A record that ends beyond its contig's declared length is kept, with a warning."""
        length = self._lengths.get(chrom)
        if length is not None and end > length:
            self.warnings.add("beyond_contig", line, f"{chrom}:{end} is beyond the end of "
                              f"contig {chrom} ({length:,} bp in the header)")  # fmt: skip

    def bcsq_masks(self, ctx: RecordContext) -> list[tuple[int, tuple[int, ...]]]:
        """Per sample (FORMAT/BCSQ bitmask, GT alleles), for haplotype-aware BCSQ."""
        plan, tokens, alts, line = ctx[6], ctx[7], ctx[4], ctx[2]
        assert plan is not None and tokens is not None
        masks = []
        for parts in split_columns(tokens, plan.n_keys):
            gt = parts[plan.gt] if plan.gt < len(parts) else None
            call = self.samples.call(gt, len(alts) + 1, line)
            mask = self.samples.ints[parts[plan.bcsq]]
            masks.append((mask or 0, call.alleles if call else ()))
        return masks


def _block_of(columns: Columns) -> SampleBlock:
    gt, zyg, ac, an, dp, gq, ps, ad_ref, ad_alt, vaf = columns
    block = SampleBlock(gt, dp, gq, ps, an, ad_ref)
    block.zyg[1], block.ac[1], block.ad_alt[1], block.vaf[1] = zyg, ac, ad_alt, vaf
    return block


def _maybe_copy(values: list[Any], copy: bool) -> list[Any]:
    return values[:] if copy else values


def _reserved_end(info: str) -> int | str | None:
    """INFO END is reserved as one integer whatever the header says: read from the text as
    written (typed by a header declaring it Float or Flag, 500 was 500.0 or True, and a valid
    file was refused). Plain ASCII digits are that integer; other text is left to refuse."""
    for item in info.split(";"):
        key, eq, text = item.partition("=")
        if key == "END":
            return int(text) if eq and text.isascii() and text.isdigit() else text
    return None


def non_ref_carriers(fmt: str, samples: str) -> set[int]:
    """The samples (column indices) whose GT names an allele other than the REF; read leniently
    (a record that gives no row is not checked further)."""
    keys = fmt.split(":")
    if "GT" not in keys:
        return set()
    at = keys.index("GT")
    found = set()
    for i, column in enumerate(samples.split("\t")):
        parts = column.split(":")
        gt = parts[at] if at < len(parts) else "."
        if any(a.isascii() and a.isdigit() and int(a) > 0 for a in gt.replace("|", "/").split("/")):
            found.add(i)
    return found


def non_ref_depths(fmt: str, samples: str) -> list[int | None]:
    """Each sample's depth of the ALTs of a record that gives no row (its AD after the REF's),
    None where unknown: they count in the VAFs of the other records of its position."""
    keys = fmt.split(":")
    at = keys.index("AD") if "AD" in keys else -1
    depths: list[int | None] = []
    for column in samples.split("\t"):
        parts = column.split(":")
        items = parts[at].split(",")[1:] if 0 <= at < len(parts) else []
        plain = bool(items) and all(i.isascii() and i.isdigit() for i in items)
        depths.append(sum(int(i) for i in items) if plain else None)
    return depths

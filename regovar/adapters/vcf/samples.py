"""Per-sample FORMAT values: genotype, depths, VAF, and the other FORMAT keys split per ALT.

This is the hot loop of an import (records x samples), so the layout of each FORMAT string is
planned once, repeated strings (GT, AD, DP, PL...) are converted once through bounded caches, and
biallelic records, the vast majority, take a path without per-ALT bookkeeping.
"""

from __future__ import annotations

from typing import Any

from regovar.adapters.vcf.genotypes import MISSING, GtCache, GtCall
from regovar.adapters.vcf.model import FieldDef, VcfMalformed
from regovar.adapters.vcf.values import PER_A, FieldPlan

ABSENT = 1 << 30  # index of a FORMAT key the record does not have: never < len(parts)
_CACHE_LIMIT = 100_000
_CORE = {"GT", "AD", "DP", "GQ", "PS"}
Depths = tuple[tuple[int | None, ...], int, int | None, int | None, float | None] | None


class IntCache(dict[str, int | None]):
    """'12' -> 12, '.' -> None; an unparsable value gives None rather than failing the import."""

    def __missing__(self, text: str) -> int | None:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        try:
            value: int | None = int(text)
        except ValueError:
            try:
                value = round(float(text))
            except (ValueError, OverflowError):
                value = None
        self[text] = value
        return value


class DepthCache(dict[str, Depths]):
    """'5,24,20' -> ((5, 24, 20), total, ref, alt1, vaf1); the last three serve biallelic rows."""

    ints: IntCache

    def __missing__(self, text: str) -> Depths:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        value = depths_from(tuple(self.ints[x] for x in text.split(","))) if text != "." else None
        self[text] = value
        return value


def depths_from(values: tuple[int | None, ...]) -> Depths:
    total = sum(v for v in values if v is not None)
    alt1 = values[1] if len(values) > 1 else None
    return values, total, values[0], alt1, (alt1 / total if alt1 is not None and total else None)


class FormatPlan:
    """Positions of the keys of one FORMAT string and how to read the others."""

    def __init__(self, fmt: str, formats: dict[str, FieldDef]) -> None:
        keys = fmt.split(":") if fmt and fmt != "." else []
        pos: dict[str, int] = {}
        for i, key in enumerate(keys):
            pos.setdefault(key, i)
        self.gt, self.ad, self.dp, self.gq, self.ps, self.ro, self.ao, self.bcsq = (
            pos.get(k, ABSENT) for k in ("GT", "AD", "DP", "GQ", "PS", "RO", "AO", "BCSQ"))
        self.extras = [(i, FieldPlan(k, formats.get(k))) for i, k in enumerate(keys)
                       if k not in _CORE and pos[k] == i]
        self.freebayes = self.ad == ABSENT and self.ro != ABSENT and self.ao != ABSENT
        self.strelka_snv = {b: pos[b + "U"] for b in "ACGT" if b + "U" in pos}
        self.strelka_indel = (pos.get("TAR"), pos.get("TIR"))
        self.strelka = self.ad == ABSENT and not self.freebayes and (
            len(self.strelka_snv) == 4 or None not in self.strelka_indel)


class SampleParser:
    """Turns the sample columns of one record into the per-sample lists of its split rows."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.gts = GtCache()
        self.ints = IntCache()
        self.depths = DepthCache()
        self.depths.ints = self.ints
        self.value_caches: dict[str, dict[str, Any]] = {}

    def call(self, plan: FormatPlan, parts: list[str], n_alleles: int, line: int) -> GtCall | None:
        if plan.gt >= len(parts):
            return None
        call = self.gts[parts[plan.gt]]
        if call is None:
            raise VcfMalformed(self.path, line, f"invalid GT {parts[plan.gt]!r}")
        if call.max_allele >= n_alleles:
            raise VcfMalformed(self.path, line, f"GT {parts[plan.gt]!r} refers to allele "
                               f"{call.max_allele} but the record has {n_alleles - 1} ALT(s)")
        return call

    def depth(self, plan: FormatPlan, parts: list[str]) -> Depths:
        n = len(parts)
        if plan.ad < n:
            return self.depths[parts[plan.ad]]
        if plan.freebayes and plan.ro < n and plan.ao < n:
            ro = self.ints[parts[plan.ro]]
            ao = self.depths[parts[plan.ao]]
            if ro is None or ao is None:
                return None
            return depths_from((ro, *ao[0]))
        return None

    def extra_value(self, fplan: FieldPlan, raw: str) -> Any:
        """Whole value of a FORMAT key, memoised (PL strings repeat a lot)."""
        cache = self.value_caches.get(fplan.key)
        if cache is None:
            cache = self.value_caches[fplan.key] = {}
        value = cache.get(raw, cache)
        if value is cache:
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            value = cache[raw] = fplan.whole(raw)
        return value[:] if type(value) is list else value


def common_lists(parser: SampleParser, plan: FormatPlan, split_cols: list[list[str]]
                 ) -> tuple[list[str | None], list[int | None], list[int | None],
                            list[int | None]]:
    """GT as written, DP, GQ and PS: the same for every ALT row of the record."""
    ints = parser.ints
    gi, di, qi, si = plan.gt, plan.dp, plan.gq, plan.ps
    gts = [p[gi] if gi < len(p) else None for p in split_cols]
    dps = [ints[p[di]] if di < len(p) else None for p in split_cols]
    gqs = [ints[p[qi]] if qi < len(p) else None for p in split_cols]
    pss: list[int | None] = (
        [ints[p[si]] if si < len(p) else None for p in split_cols] if si != ABSENT
        else [None] * len(split_cols))
    return gts, dps, gqs, pss


def missing_zygosity(n: int) -> list[int]:
    return [MISSING] * n


class AltSamples:
    """Per-sample values of one ALT row."""

    __slots__ = ("ac", "ad_alt", "fmt", "vaf", "zyg")

    def __init__(self, zyg: list[int], ac: int, ad_alt: list[int | None],
                 vaf: list[float | None], fmt: dict[str, list[object]]) -> None:
        self.zyg, self.ac, self.ad_alt, self.vaf, self.fmt = zyg, ac, ad_alt, vaf, fmt


class SampleBlock:
    """Everything the rows of one record need from its sample columns."""

    __slots__ = ("ad_ref", "an", "dp", "gq", "gt", "per_alt", "ps")

    def __init__(self, gt: list[str | None], dp: list[int | None], gq: list[int | None],
                 ps: list[int | None], an: int, ad_ref: list[int | None],
                 per_alt: dict[int, AltSamples]) -> None:
        self.gt, self.dp, self.gq, self.ps, self.an = gt, dp, gq, ps, an
        self.ad_ref, self.per_alt = ad_ref, per_alt


def biallelic_block(parser: SampleParser, plan: FormatPlan, cols: list[str], ref: str, alt: str,
                    line: int) -> SampleBlock:
    """Fast path for a record with one ALT: no per-allele splitting at all."""
    split_cols = [c.split(":") for c in cols]
    gts, dps, gqs, pss = common_lists(parser, plan, split_cols)
    zyg: list[int] = []
    ac = an = 0
    if plan.gt != ABSENT:
        cache = parser.gts
        for g, parts in zip(gts, split_cols, strict=True):
            call = cache[g] if g is not None else None
            if call is None or call.max_allele > 1:
                call = parser.call(plan, parts, 2, line)  # raises on an invalid GT
                if call is None:
                    zyg.append(MISSING)
                    continue
            zyg.append(call.zyg1)
            ac += call.count1
            an += call.an
    else:
        zyg = missing_zygosity(len(cols))
    if plan.ad != ABSENT or plan.freebayes:
        ds = [parser.depth(plan, p) for p in split_cols]
        ad_ref = [d[2] if d else None for d in ds]
        ad_alt = [d[3] if d else None for d in ds]
        vaf = [d[4] if d else None for d in ds]
    elif plan.strelka:
        ad_ref, ad_alt, vaf = strelka_depths(parser, plan, split_cols, ref, alt)
    else:
        ad_ref, ad_alt, vaf = [None] * len(cols), [None] * len(cols), [None] * len(cols)
    fmt = {fplan.key: [_biallelic_value(parser, fplan, p[i] if i < len(p) else ".")
                       for p in split_cols] for i, fplan in plan.extras}
    return SampleBlock(gts, dps, gqs, pss, an, ad_ref, {1: AltSamples(zyg, ac, ad_alt, vaf, fmt)})


def _biallelic_value(parser: SampleParser, fplan: FieldPlan, raw: str) -> object:
    value = parser.extra_value(fplan, raw)
    if fplan.kind == PER_A and type(value) is list:
        return value[0] if value else None
    return value


def general_block(parser: SampleParser, plan: FormatPlan, cols: list[str], ref: str,
                  alts: list[str], kept: list[int], line: int) -> SampleBlock:
    """Multi-allelic records: each kept ALT gets its own zygosity, depth, VAF and split values."""
    n_alleles = len(alts) + 1
    split_cols = [c.split(":") for c in cols]
    gts, dps, gqs, pss = common_lists(parser, plan, split_cols)
    calls = [parser.call(plan, p, n_alleles, line) for p in split_cols]
    an = sum(c.an for c in calls if c is not None)
    ds = [parser.depth(plan, p) for p in split_cols]
    ad_ref = [d[0][0] if d else None for d in ds]
    per_alt: dict[int, AltSamples] = {}
    for i in kept:
        zyg = [c.zyg(i) if c is not None else MISSING for c in calls]
        ac = sum(c.counts.get(i, 0) for c in calls if c is not None)
        if plan.strelka:
            ad_ref, ad_alt, vaf = strelka_depths(parser, plan, split_cols, ref, alts[i - 1])
        else:
            ad_alt = [d[0][i] if d and i < len(d[0]) else None for d in ds]
            vaf = [_ratio(a, d[1]) if d else None for a, d in zip(ad_alt, ds, strict=True)]
        fmt = {fplan.key: [_allele_value(parser, fplan, p[k] if k < len(p) else ".", i, n_alleles)
                           for p in split_cols] for k, fplan in plan.extras}
        per_alt[i] = AltSamples(zyg, ac, ad_alt, vaf, fmt)
    return SampleBlock(gts, dps, gqs, pss, an, ad_ref, per_alt)


def _allele_value(parser: SampleParser, fplan: FieldPlan, raw: str, i: int, n: int) -> object:
    if fplan.per_allele:
        return fplan.for_allele(raw, i, n)
    return parser.extra_value(fplan, raw)


def _ratio(part: int | None, total: int) -> float | None:
    return part / total if part is not None and total else None


def strelka_depths(parser: SampleParser, plan: FormatPlan, split_cols: list[list[str]], ref: str,
                   alt: str) -> tuple[list[int | None], list[int | None], list[float | None]]:
    """Strelka writes no AD: tier-1 base counts ({A,C,G,T}U) for SNVs, TAR/TIR for indels."""
    ref_at, alt_at = plan.strelka_snv.get(ref.upper()), plan.strelka_snv.get(alt.upper())
    if ref_at is None or alt_at is None or len(ref) != 1 or len(alt) != 1:
        ref_at, alt_at = plan.strelka_indel
    refs: list[int | None] = []
    alts: list[int | None] = []
    for p in split_cols:
        refs.append(_tier1(parser, p, ref_at))
        alts.append(_tier1(parser, p, alt_at))
    vafs = [_ratio(a, r + a) if r is not None and a is not None else None
            for r, a in zip(refs, alts, strict=True)]
    return refs, alts, vafs


def _tier1(parser: SampleParser, parts: list[str], at: int | None) -> int | None:
    if at is None or at >= len(parts):
        return None
    return parser.ints[parts[at].split(",", 1)[0]]

"""Per-sample FORMAT values: genotype, depths, VAF, and the other FORMAT keys split per ALT.

This is the hot loop of an import (records x samples). The layout of each FORMAT string is
planned once; sample columns are transposed so each key is converted for all samples by one
C-level ``map`` over a memoising dict (GT, DP, AD strings repeat a lot); biallelic records, the
vast majority, take a path without per-ALT bookkeeping.
"""

from __future__ import annotations

import math
from typing import Any

from regovar.adapters.vcf.genotypes import MISSING, BiallelicGtCache, GtCache, GtCall
from regovar.adapters.vcf.model import FieldDef, ImportWarnings, VcfMalformed
from regovar.adapters.vcf.values import PER_A, FieldPlan

ABSENT = 1 << 30  # index of a FORMAT key the record does not have: never < len(parts)
_CACHE_LIMIT = 100_000
_CORE = {"GT", "AD", "DP", "GQ", "PS"}
Depths = tuple[tuple[int | None, ...], int | None] | None
BiDepths = tuple[int | None, int | None, float | None]


class IntCache(dict[str, int | None]):
    """'12' -> 12, '.' -> None. Any other text is odd (listed in ``odd``, for a warning): a
    number ('7.5', '1e2') is rounded, anything else ('seven', '-1', non-ASCII digits) is None
    rather than failing the import."""

    def __init__(self) -> None:
        super().__init__()
        self.odd: set[str] = set()

    def __missing__(self, text: str) -> int | None:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
            self.odd.clear()
        value: int | None = None
        if text.isascii() and text.isdigit():
            value = int(text)
        elif text != ".":
            self.odd.add(text)
            try:
                number = float(text) if text.isascii() else math.nan
                value = round(number) if number >= 0 else None  # never a negative depth
            except (ValueError, OverflowError):
                value = None
        self[text] = value
        return value


class DepthCache(dict[str, Depths]):
    """'5,24,20' -> ((5, 24, 20), 49): allele depths and their sum (the VAF denominator)."""

    def __init__(self, ints: IntCache) -> None:
        super().__init__()
        self.ints = ints

    def __missing__(self, text: str) -> Depths:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        if text == ".":
            value: Depths = None
        else:
            depths = tuple(self.ints[x] for x in text.split(","))
            # one unknown allele depth makes the total unknown: no VAF rather than a wrong one
            value = depths, known_sum(depths)
        self[text] = value
        return value


class BiDepthCache(dict[str, BiDepths]):
    """'14,12' -> (14, 12, 12/26): REF depth, ALT depth and VAF of a biallelic record; any
    other text but '.' is odd (listed in ``odd``, for a warning)."""

    def __init__(self, depths: DepthCache) -> None:
        super().__init__()
        self.depths = depths
        self.odd: set[str] = set()

    def __missing__(self, text: str) -> BiDepths:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
            self.odd.clear()
        ref, _, alt = text.partition(",")
        if ref.isascii() and ref.isdigit() and alt.isascii() and alt.isdigit():
            r, a = int(ref), int(alt)  # the common 'ref,alt' form
            value: BiDepths = (r, a, a / (r + a) if r + a else None)
        elif text == ".":
            value = (None, None, None)
        else:
            if not _partial(ref, alt):  # '5,.': one depth unknown, as VCF allows
                self.odd.add(text)
            depths = self.depths[text]
            # not one depth per allele (REF, ALT): which read counts are which is unknown
            value = biallelic_depths(depths) if depths and len(depths[0]) == 2 else (
                None, None, None)  # fmt: skip
        self[text] = value
        return value


def _partial(ref: str, alt: str) -> bool:
    """Two depths, each a plain integer or '.'."""
    return all(x == "." or (x.isascii() and x.isdigit()) for x in (ref, alt)) and "," not in alt


def biallelic_depths(d: Depths) -> BiDepths:
    if d is None:
        return None, None, None
    values, total = d
    alt = values[1] if len(values) > 1 else None
    return values[0], alt, ratio(alt, total)


def known_sum(values: tuple[int | None, ...]) -> int | None:
    """The sum of all values, or None when any of them is unknown."""
    total = 0
    for v in values:
        if v is None:
            return None
        total += v
    return total


def ratio(part: int | None, total: int | None) -> float | None:
    """part/total, or None when unknown or when the total is 0 (never 0.0, NaN or inf)."""
    return part / total if part is not None and total else None


class FormatPlan:
    """Positions of the keys of one FORMAT string and how to read the others."""

    def __init__(self, fmt: str, formats: dict[str, FieldDef]) -> None:
        keys = fmt.split(":") if fmt and fmt != "." else []
        self.n_keys = len(keys)
        self.n_tokens = -1  # set by the reader: n_keys * number of samples
        self.padding = ["."] * len(keys)
        pos: dict[str, int] = {}
        for i, key in enumerate(keys):
            pos.setdefault(key, i)
        # A key given twice (GT:GT): the first is read, with a warning on each record.
        self.repeated = sorted({k for k in keys if keys.count(k) > 1}) if len(pos) < len(
            keys) else []  # fmt: skip
        self.gt, self.ad, self.dp, self.gq, self.ps, self.ro, self.ao, self.bcsq = (
            pos.get(k, ABSENT) for k in ("GT", "AD", "DP", "GQ", "PS", "RO", "AO", "BCSQ")
        )
        self.ft = pos.get("FT", ABSENT)
        self.extras = [
            (i, FieldPlan(k, formats.get(k)))
            for i, k in enumerate(keys)
            if k not in _CORE and pos[k] == i
        ]
        self.freebayes = self.ad == ABSENT and self.ro != ABSENT and self.ao != ABSENT
        self.strelka_snv = {b: pos[b + "U"] for b in "ACGT" if b + "U" in pos}
        self.strelka_indel = (pos.get("TAR"), pos.get("TIR"))
        self.strelka = (
            self.ad == ABSENT
            and not self.freebayes
            and (len(self.strelka_snv) == 4 or None not in self.strelka_indel)
        )


class SampleParser:
    """Caches shared by all records of a file."""

    def __init__(self, path: str, n_samples: int, warnings: ImportWarnings | None = None) -> None:
        self.path = path
        self.n = n_samples
        self.warnings = warnings if warnings is not None else ImportWarnings()
        self.gts = GtCache()
        self.bi_gts = BiallelicGtCache()
        self.gt_rows: dict[tuple[str, ...], tuple[tuple[int | None, ...], int, int]] = {}
        self.ints = IntCache()
        self.depths = DepthCache(self.ints)
        self.bi_depths = BiDepthCache(self.depths)
        self.value_caches: dict[str, ValueCache] = {}

    def tokens(self, plan: FormatPlan, text: str, line: int) -> list[str]:
        """All samples' values as one flat list, ``n_keys`` per sample (sample-major).

        One split of the whole sample text is much cheaper than one split per sample; when a
        sample dropped trailing fields (allowed, VCF 4.3 section 1.6.2) it is padded with '.'.
        """
        n_keys = plan.n_keys
        tokens = text.replace("\t", ":").split(":") if n_keys != 1 else text.split("\t")
        if len(tokens) == n_keys * self.n and aligned(text, n_keys, self.n):
            return tokens
        columns = text.rstrip("\t").split("\t")  # tolerate stray trailing tabs
        if len(columns) != self.n:
            raise VcfMalformed(
                self.path,
                line,
                f"expected {9 + self.n} tab-separated columns "
                f"({self.n} samples), found {9 + len(columns)}",
            )
        tokens = []
        for column in columns:
            parts = column.split(":")
            if not n_keys and column not in (".", ""):  # its values would be read as none
                raise VcfMalformed(self.path, line, f"sample column {column!r} has values but "
                                   "the FORMAT column names no key")  # fmt: skip
            if len(parts) > n_keys and n_keys:
                raise VcfMalformed(
                    self.path,
                    line,
                    f"sample column {column!r} has more values than FORMAT keys ({n_keys})",
                )
            tokens.extend(parts)
            tokens.extend(plan.padding[len(parts) :])
        return tokens

    def call(self, gt: str | None, n_alleles: int, line: int) -> GtCall | None:
        if gt is None:
            return None
        call = self.gts[gt]
        if call is None:
            raise VcfMalformed(self.path, line, f"invalid GT {gt!r}")
        if call.max_allele >= n_alleles:
            raise VcfMalformed(
                self.path,
                line,
                f"GT {gt!r} refers to allele {call.max_allele} "
                f"but the record has {n_alleles - 1} ALT allele(s)",
            )
        return call

    def gt_row(self, gts: list[str], line: int) -> tuple[tuple[int | None, ...], int, int]:
        """(zygosities, AC, AN) of a biallelic record from all its GT strings at once.

        Small cohorts repeat the same GT combination (trio: '0/1','0/0','0/1'...) so the whole
        combination is memoised; large cohorts are computed per sample.
        """
        small = self.n <= 32  # a large cohort rarely repeats a whole GT combination
        if small:
            key = tuple(gts)
            found = self.gt_rows.get(key)
            if found is not None:
                return found
        zyg, counts, called = zip(*map(self.bi_gts.__getitem__, gts), strict=True)
        if None in zyg:
            for gt in gts:
                self.call(gt, 2, line)  # raises with the offending GT
        value = zyg, sum(counts), sum(called)
        if small:
            if len(self.gt_rows) >= _CACHE_LIMIT:
                self.gt_rows.clear()
            self.gt_rows[key] = value
        return value

    def int_column(self, tokens: list[str], at: int, nk: int, key: str, line: int) -> list[Any]:
        """One integer FORMAT key (DP, GQ, PS) for all samples; an odd value is warned about."""
        if at == ABSENT:
            return [None] * self.n
        raw = tokens[at::nk]
        ints = self.ints
        values = [ints[x] for x in raw]
        if ints.odd and not ints.odd.isdisjoint(raw):
            bad = next(x for x in raw if x in ints.odd)
            self.warnings.add("format_not_integer", line, f"FORMAT {key} {bad!r} is not a "
                              "non-negative integer: stored rounded when it is a number ('7.5', "
                              "'1e2'), else as missing")  # fmt: skip
        return values

    def odd_depths(self, text: str, n_alleles: int, line: int) -> None:
        """AD that is not one non-negative integer per allele: said, with the line."""
        count = len(text.split(","))
        if count != n_alleles:
            self.warnings.add("ad_count", line, f"AD {text!r} has {count} values for "
                              f"{n_alleles} alleles (REF and ALTs): stored as missing")  # fmt: skip
        else:
            self.warnings.add("format_not_integer", line, f"FORMAT AD {text!r} is not "
                              "non-negative integers: an odd depth is stored rounded when it is "
                              "a number, else as missing")  # fmt: skip

    def depth(self, plan: FormatPlan, parts: list[str]) -> Depths:
        if plan.ad != ABSENT:
            return self.depths[parts[plan.ad]]
        if plan.freebayes:
            ro = self.ints[parts[plan.ro]]
            ao = self.depths[parts[plan.ao]]
            if ro is None or ao is None:
                return None
            values = (ro, *ao[0])
            return values, known_sum(values)
        return None

    def values(self, fplan: FieldPlan, raws: list[str]) -> list[Any]:
        """Whole values of one FORMAT key for all samples, memoised (PL strings repeat a lot);
        lists are copied so rows never share a mutable value."""
        cache = self.value_caches.get(fplan.key)
        if cache is None:
            cache = self.value_caches[fplan.key] = ValueCache(fplan)
        return [v if type(v) is not list else v[:] for v in map(cache.__getitem__, raws)]


class ValueCache(dict[str, Any]):
    def __init__(self, fplan: FieldPlan) -> None:
        super().__init__()
        self.fplan = fplan

    def __missing__(self, raw: str) -> Any:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        value = self[raw] = self.fplan.whole(raw)
        return value


def aligned(text: str, n_keys: int, n_samples: int) -> bool:
    """Whether each sample column of ``text`` has ``n_keys`` values, once the flat count of
    values matched: one sample short and the next one long would match it too."""
    if text.count("\t") != n_samples - 1:
        return False  # one sample written over two columns ('0/1<tab>35' for GT:GQ) matched
    if n_samples == 1 or n_keys == 1:
        return True  # the count alone decides (no empty sample column gives zero values)
    colons = n_keys - 1
    return all(column.count(":") == colons for column in text.split("\t"))


def split_columns(tokens: list[str], n_keys: int) -> list[list[str]]:
    return [tokens[i : i + n_keys] for i in range(0, len(tokens), n_keys)] if n_keys else []


Columns = tuple[
    list[str | None],
    list[int],
    int,
    int,
    list[int | None],
    list[int | None],
    list[int | None],
    list[int | None],
    list[int | None],
    list[float | None],
]


def biallelic_columns(
    parser: SampleParser, plan: FormatPlan, tokens: list[str], ref: str, alt: str, line: int
) -> Columns:
    """(gt, zyg, ac, an, dp, gq, ps, ad_ref, ad_alt, vaf) of a one-ALT record, key by key."""
    n, nk = parser.n, plan.n_keys
    none: list[Any] = [None] * n
    if plan.gt != ABSENT:
        gts: list[Any] = tokens[plan.gt :: nk]
        zyg_t, ac, an = parser.gt_row(gts, line)
        zyg: list[Any] = list(zyg_t)
    else:
        gts, zyg, ac, an = none[:], [MISSING] * n, 0, 0
    dp = parser.int_column(tokens, plan.dp, nk, "DP", line)
    gq = parser.int_column(tokens, plan.gq, nk, "GQ", line)
    ps = parser.int_column(tokens, plan.ps, nk, "PS", line)
    if plan.ad != ABSENT:
        bd, raw = parser.bi_depths, tokens[plan.ad :: nk]
        ad_ref_t, ad_alt_t, vaf_t = zip(*[bd[x] for x in raw], strict=True)
        if bd.odd and not bd.odd.isdisjoint(raw):
            parser.odd_depths(next(x for x in raw if x in bd.odd), 2, line)
        return gts, zyg, ac, an, dp, gq, ps, list(ad_ref_t), list(ad_alt_t), list(vaf_t)
    if plan.freebayes:
        triples = [biallelic_depths(parser.depth(plan, p)) for p in split_columns(tokens, nk)]
        return (
            gts,
            zyg,
            ac,
            an,
            dp,
            gq,
            ps,
            [t[0] for t in triples],
            [t[1] for t in triples],
            [t[2] for t in triples],
        )
    if plan.strelka:
        refs, alts, vafs = strelka_depths(parser, plan, split_columns(tokens, nk), ref, alt)
        return gts, zyg, ac, an, dp, gq, ps, refs, alts, vafs
    return gts, zyg, ac, an, dp, gq, ps, none, none[:], none[:]


class SampleBlock:
    """Per-sample values of a multi-allelic record: shared lists plus per-ALT dicts."""

    __slots__ = ("ac", "ad_alt", "ad_ref", "an", "dp", "gq", "gt", "ps", "vaf", "zyg")

    def __init__(
        self,
        gt: list[str | None],
        dp: list[int | None],
        gq: list[int | None],
        ps: list[int | None],
        an: int,
        ad_ref: list[int | None],
    ) -> None:
        self.gt, self.dp, self.gq, self.ps, self.an, self.ad_ref = gt, dp, gq, ps, an, ad_ref
        self.zyg: dict[int, list[int]] = {}
        self.ac: dict[int, int] = {}
        self.ad_alt: dict[int, list[int | None]] = {}
        self.vaf: dict[int, list[float | None]] = {}


def general_block(
    parser: SampleParser,
    plan: FormatPlan,
    tokens: list[str],
    ref: str,
    alts: list[str],
    kept: list[int],
    line: int,
) -> SampleBlock:
    """Multi-allelic records: each kept ALT gets its own zygosity, depth and VAF."""
    n_alleles, n, nk = len(alts) + 1, parser.n, plan.n_keys
    gts: list[str | None] = list(tokens[plan.gt :: nk]) if plan.gt != ABSENT else [None] * n
    calls = [parser.call(gt, n_alleles, line) for gt in gts]
    split_cols = split_columns(tokens, nk)
    ds = [parser.depth(plan, p) for p in split_cols]
    if plan.ad != ABSENT:
        ds = _checked_depths(parser, tokens[plan.ad :: nk], ds, n_alleles, line)
    block = SampleBlock(
        gts,
        parser.int_column(tokens, plan.dp, nk, "DP", line),
        parser.int_column(tokens, plan.gq, nk, "GQ", line),
        parser.int_column(tokens, plan.ps, nk, "PS", line),
        sum(c.an for c in calls if c is not None),
        [d[0][0] if d else None for d in ds],
    )
    for i in kept:
        block.zyg[i] = [c.zyg(i) if c is not None else MISSING for c in calls]
        block.ac[i] = sum(c.counts.get(i, 0) for c in calls if c is not None)
        if plan.strelka:
            block.ad_ref, block.ad_alt[i], block.vaf[i] = strelka_depths(
                parser, plan, split_cols, ref, alts[i - 1]
            )
        else:
            block.ad_alt[i] = [d[0][i] if d and i < len(d[0]) else None for d in ds]
            block.vaf[i] = [
                ratio(a, d[1]) if d else None for a, d in zip(block.ad_alt[i], ds, strict=True)
            ]
    return block


def _checked_depths(
    parser: SampleParser, raw: list[str], ds: list[Depths], n_alleles: int, line: int
) -> list[Depths]:
    """A multi-allelic record's AD: one not of one value per allele is missing (which read
    counts are which is unknown), and said; so is a value that is not an integer."""
    wrong = [x for x, d in zip(raw, ds, strict=True) if d is not None and len(d[0]) != n_alleles]
    if wrong:
        parser.odd_depths(wrong[0], n_alleles, line)
        return [d if d is None or len(d[0]) == n_alleles else None for d in ds]
    odd = parser.ints.odd
    if odd:
        bad = [x for x in raw if not odd.isdisjoint(x.split(","))]
        if bad:
            parser.odd_depths(bad[0], n_alleles, line)
    return ds


def format_values(
    parser: SampleParser, plan: FormatPlan, tokens: list[str], alt_index: int, n_alleles: int
) -> dict[str, list[object]]:
    """The FORMAT keys other than GT/AD/DP/GQ/PS, typed and cut for one ALT (computed lazily)."""
    out: dict[str, list[object]] = {}
    nk = plan.n_keys
    for at, fplan in plan.extras:
        raws = tokens[at::nk]
        if not fplan.per_allele or (n_alleles == 2 and fplan.kind != PER_A):
            out[fplan.key] = parser.values(fplan, raws)
        else:
            out[fplan.key] = [fplan.for_allele(raw, alt_index, n_alleles) for raw in raws]
    return out


def strelka_depths(
    parser: SampleParser, plan: FormatPlan, split_cols: list[list[str]], ref: str, alt: str
) -> tuple[list[int | None], list[int | None], list[float | None]]:
    """Strelka writes no AD: tier-1 base counts ({A,C,G,T}U) for SNVs, TAR/TIR for indels."""
    ref_at, alt_at = plan.strelka_snv.get(ref.upper()), plan.strelka_snv.get(alt.upper())
    if ref_at is None or alt_at is None or len(ref) != 1 or len(alt) != 1:
        ref_at, alt_at = plan.strelka_indel
    refs = [_tier1(parser, p, ref_at) for p in split_cols]
    alts = [_tier1(parser, p, alt_at) for p in split_cols]
    vafs = [
        ratio(a, r + a) if r is not None and a is not None else None
        for r, a in zip(refs, alts, strict=True)
    ]
    return refs, alts, vafs


def _tier1(parser: SampleParser, parts: list[str], at: int | None) -> int | None:
    if at is None:
        return None
    return parser.ints[parts[at].split(",", 1)[0]]

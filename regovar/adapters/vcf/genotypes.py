"""GT strings to zygosity codes and allele counts, relative to each split ALT.

A cohort file holds few distinct GT strings ('0/0', '0/1', './.', '1|0'...), so each is parsed
once and memoised with everything the split rows need: the zygosity seen from each ALT, the
copies of each ALT and the number of called alleles (AN counts a haploid call once).
"""

from __future__ import annotations

from regovar.adapters.vcf.model import Zygosity

HOM_REF = int(Zygosity.HOM_REF)
HET = int(Zygosity.HET)
HOM_ALT = int(Zygosity.HOM_ALT)
HEMI_REF = int(Zygosity.HEMI_REF)
HEMI_ALT = int(Zygosity.HEMI_ALT)
HET_ALT = int(Zygosity.HET_ALT)
OTHER_ALT = int(Zygosity.OTHER_ALT)
PARTIAL_ALT = int(Zygosity.PARTIAL_ALT)
PARTIAL = int(Zygosity.PARTIAL)
MISSING = int(Zygosity.MISSING)

_CACHE_LIMIT = 50_000


class GtCall:
    """One parsed GT string. ``zyg1``/``count1`` are the biallelic fast path (ALT index 1)."""

    __slots__ = (
        "alleles",
        "an",
        "bi",
        "count1",
        "counts",
        "max_allele",
        "phased",
        "zyg1",
        "zyg_absent",
        "zygs",
    )

    def __init__(self, alleles: tuple[int, ...], phased: bool) -> None:
        self.alleles = alleles
        self.phased = phased
        called = [a for a in alleles if a >= 0]
        self.an = len(called)
        self.max_allele = max(called, default=0)
        self.counts = {a: called.count(a) for a in set(called) if a > 0}
        self.zygs = {a: zygosity(alleles, a) for a in self.counts}
        self.zyg_absent = zygosity(alleles, self.max_allele + 1)
        self.count1 = self.counts.get(1, 0)
        self.zyg1 = self.zygs.get(1, self.zyg_absent)
        # (zygosity, copies, called alleles) for a biallelic record; None marks a GT that names
        # an allele a biallelic record does not have.
        self.bi = (self.zyg1 if self.max_allele <= 1 else None, self.count1, self.an)

    def zyg(self, alt_index: int) -> int:
        return self.zygs.get(alt_index, self.zyg_absent)


def zygosity(alleles: tuple[int, ...], alt_index: int) -> int:
    """Zygosity of a call seen from one ALT; -1 in ``alleles`` stands for a missing allele."""
    called = [a for a in alleles if a >= 0]
    if not called:
        return MISSING
    copies = called.count(alt_index)
    if len(alleles) == 1:
        return HEMI_ALT if copies else (HEMI_REF if called[0] == 0 else OTHER_ALT)
    if len(called) < len(alleles):
        return PARTIAL_ALT if copies else PARTIAL
    if copies == len(alleles):
        return HOM_ALT
    others = {a for a in called if a != alt_index}
    if copies:
        return HET if others == {0} else HET_ALT
    return HOM_REF if others == {0} else OTHER_ALT


def parse_gt(gt: str) -> GtCall | None:
    """Parse '0/1', '1|0', '1', './.', '0/0/1', '|0|1' (VCF 4.4 phase prefix); None if invalid."""
    text = gt[1:] if gt[:1] in ("/", "|") else gt
    phased = "|" in text or gt[:1] == "|"
    if "/" in text and "|" in text:
        parts = text.replace("|", "/").split("/")
        phased = False
    else:
        parts = text.split("|" if "|" in text else "/")
    alleles: list[int] = []
    for part in parts:
        if part == ".":
            alleles.append(-1)
        elif part.isascii() and part.isdigit():  # not '²' or other Unicode digits
            alleles.append(int(part))
        else:
            return None
    return GtCall(tuple(alleles), phased)


_INVALID = (None, 0, 0)


class BiallelicGtCache(dict[str, tuple[int | None, int, int]]):
    """GT string -> (zygosity of ALT 1, copies of ALT 1, called alleles) for biallelic rows."""

    def __missing__(self, gt: str) -> tuple[int | None, int, int]:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        call = parse_gt(gt)
        value = self[gt] = call.bi if call is not None else _INVALID
        return value


class GtCache(dict[str, GtCall | None]):
    """GT string -> parsed call, bounded so a pathological file cannot grow it forever."""

    def __missing__(self, gt: str) -> GtCall | None:
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        call = self[gt] = parse_gt(gt)
        return call

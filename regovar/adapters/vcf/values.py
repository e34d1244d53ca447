"""Typed INFO/FORMAT values, split per ALT allele according to their declared Number.

After multi-allelic decomposition each row must only carry its own allele's values: Number=A
gives this ALT's value, Number=R the (REF, this ALT) pair and Number=G the likelihoods of the
genotypes made of REF and this ALT, so that a split row reads like a biallelic record.
"""

from __future__ import annotations

from collections.abc import Callable

from regovar.adapters.vcf.meta import percent_decode
from regovar.adapters.vcf.model import FieldDef

ONE, FLAG, LIST, PER_A, PER_R, PER_G = range(6)
_KINDS = {"1": ONE, "0": FLAG, "A": PER_A, "R": PER_R, "G": PER_G}


def _to_int(v: str) -> object:
    """An integer; a number that is not one ('7.5', '1e2') is kept as written, as other text
    is (it was stored as 7.5 and 100.0 with no warning); NaN and infinities are missing."""
    if v == ".":
        return None
    if _plain(v):
        try:
            return int(v)
        except ValueError:
            pass
    return None if _to_float(v) is None else v


def _to_float(v: str) -> object:
    if not _plain(v):
        return v  # kept as written (a value of the wrong type is warned about)
    try:
        f = float(v)
    except ValueError:
        return None if v == "." else v
    return f if f - f == 0.0 else None


def _plain(v: str) -> bool:
    """Python reads '1_000' and non-ASCII digits (full-width, Arabic-Indic) as numbers; VCF
    does not."""
    return v.isascii() and "_" not in v


def finite(value: object) -> object:
    """None for NaN and infinities: they mean "no value" and are not valid JSON for jsonb."""
    if isinstance(value, float) and value - value != 0.0:
        return None
    return value


def _to_str(v: str) -> object:
    return None if v == "." else percent_decode(v)


_CONVERTERS: dict[str, Callable[[str], object]] = {
    "Integer": _to_int,
    "Float": _to_float,
    "String": _to_str,
    "Character": _to_str,
}


def _int(v: str) -> int:
    if v.isascii() and "_" not in v:
        return int(v)
    raise ValueError(v)


def _float(v: str) -> float:
    if v.isascii() and "_" not in v:
        return float(v)
    raise ValueError(v)


_FAST: dict[str, Callable[[str], object]] = {"Integer": _int, "Float": _float}


class FieldPlan:
    """How to type and split one INFO or FORMAT key; built once per key per file."""

    __slots__ = ("conv", "fast", "key", "kind", "typed")
    fast_text = staticmethod(_to_str)  # the converter of text values: nothing to check

    def __init__(self, key: str, definition: FieldDef | None) -> None:
        self.key = key
        self.conv: Callable[[str], object] = _to_str
        # Builtin converter tried first on the hot path (int/float); ``conv`` handles failures.
        self.fast: Callable[[str], object] = _to_str
        self.typed = (f"{'an' if definition.type == 'Integer' else 'a'} {definition.type}"
                      if definition else "declared")  # fmt: skip
        if definition is None:
            self.kind = ONE  # undeclared: kept as a string
            return
        self.conv = _CONVERTERS.get(definition.type, _to_str)
        self.fast = _FAST.get(definition.type, self.conv)
        if definition.type == "Flag":
            self.kind = FLAG
        else:
            self.kind = _KINDS.get(definition.number, LIST)

    @property
    def per_allele(self) -> bool:
        return self.kind >= PER_A

    def whole(self, raw: str) -> object:
        """The value of a key that is the same for every ALT (Number=1, fixed, '.', Flag)."""
        if self.kind == ONE:
            return self.conv(raw)
        if self.kind == FLAG:
            return True
        if raw == ".":
            return None
        try:
            values = list(map(self.fast, raw.split(",")))
        except ValueError:  # '.' items or values that do not match the declared type
            return [self.conv(x) for x in raw.split(",")]
        if self.fast is _float:
            return [v if v - v == 0.0 else None for v in values]  # type: ignore[operator]
        return values

    def not_finite(self, raw: str) -> bool:
        """Whether a number in ``raw`` (comma-separated) is NaN, infinite or beyond a double,
        which typing turns into a missing value; only text with n, N, e or E can be one."""
        if self.conv is _to_str or not any(c in raw for c in "nNeE"):
            return False
        items = raw.split(",")
        return sum(self.conv(x) is None for x in items) > items.count(".")

    def for_allele(self, raw: str, alt_index: int, n_alleles: int) -> object:
        """This ALT's share of a Number=A/R/G value (None when absent or '.')."""
        if raw == ".":
            return None
        items = raw.split(",")
        conv = self.conv
        if self.kind == PER_A:
            return conv(items[alt_index - 1]) if alt_index <= len(items) else None
        if self.kind == PER_R:
            alt = conv(items[alt_index]) if alt_index < len(items) else None
            return [conv(items[0]), alt]
        return [
            conv(items[k]) if k < len(items) else None
            for k in genotype_indexes(alt_index, n_alleles, len(items))
        ]


def genotype_indexes(alt_index: int, n_alleles: int, n_values: int) -> tuple[int, ...]:
    """Positions of (0/0, 0/i, i/i) in a Number=G vector, or (0, i) for a haploid vector.

    The VCF ordering puts genotype j/k (j <= k) at k*(k+1)/2 + j; a haploid call has one value
    per allele, which is recognised by the vector length.
    """
    if n_values == n_alleles:
        return (0, alt_index)
    base = alt_index * (alt_index + 1) // 2
    return (0, base, base + alt_index)

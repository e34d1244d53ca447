"""The INFO column: typed per the header, split per ALT, annotation keys set aside.

A record's INFO is read once; values that are the same for every ALT are typed once and shared,
and only Number=A/R/G keys are re-cut for each split row. Biallelic records (most of them) need
no cutting at all: their Number=A value is the whole value.
"""

from __future__ import annotations

from regovar.adapters.vcf.header import ANNOTATION_KEYS
from regovar.adapters.vcf.model import FieldDef
from regovar.adapters.vcf.values import FLAG, ONE, PER_A, FieldPlan

_ANNOTATION = -1


class RecordInfo:
    """One record's INFO: whole values, per-allele raw values, annotation raw values."""

    __slots__ = ("annotations", "per_allele", "whole")

    def __init__(self) -> None:
        self.whole: dict[str, object] = {}
        self.per_allele: list[tuple[FieldPlan, str]] = []
        self.annotations: dict[str, str] = {}

    def for_allele(self, alt_index: int, n_alleles: int, shared: bool) -> dict[str, object]:
        """INFO of one split row; ``shared`` lets a single-row record reuse the whole dict."""
        out = self.whole if shared else dict(self.whole)
        for plan, raw in self.per_allele:
            value = plan.for_allele(raw, alt_index, n_alleles)
            if value is not None:
                out[plan.key] = value
        return out


class InfoParser:
    def __init__(self, definitions: dict[str, FieldDef]) -> None:
        self.definitions = definitions
        self.plans: dict[str, FieldPlan] = {}
        for key in ANNOTATION_KEYS:
            plan = self.plans[key] = FieldPlan(key, None)
            plan.kind = _ANNOTATION

    def parse(self, text: str, n_alleles: int) -> RecordInfo:
        info = RecordInfo()
        if text == "." or not text:
            return info
        plans, whole = self.plans, info.whole
        biallelic = n_alleles == 2
        for item in text.split(";"):
            key, eq, raw = item.partition("=")
            plan = plans.get(key) or self._plan(key)
            kind = plan.kind
            if not eq or kind == FLAG:
                if key:
                    whole[key] = True
            elif raw == "." or not raw:
                continue
            elif kind == ONE or (kind == PER_A and biallelic and "," not in raw):
                try:
                    whole[key] = plan.fast(raw)
                except ValueError:
                    whole[key] = plan.conv(raw)
            elif kind == _ANNOTATION:
                info.annotations[key] = raw
            elif kind < PER_A or (biallelic and kind != PER_A):
                whole[key] = plan.whole(raw)  # lists; R/G of a biallelic record are whole
            else:
                info.per_allele.append((plan, raw))
        return info

    def _plan(self, key: str) -> FieldPlan:
        plan = self.plans[key] = FieldPlan(key, self.definitions.get(key))
        return plan

"""The INFO column: typed per the header, split per ALT, annotation keys set aside.

A record's INFO is read once; values that are the same for every ALT are typed once and shared,
and only Number=A/R/G keys are re-cut for each split row.
"""

from __future__ import annotations

from regovar.adapters.vcf.header import ANNOTATION_KEYS
from regovar.adapters.vcf.model import FieldDef
from regovar.adapters.vcf.values import PER_A, FieldPlan

_ANNOTATION_KEYS = frozenset(ANNOTATION_KEYS)


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

    def parse(self, text: str) -> RecordInfo:
        info = RecordInfo()
        if text == "." or not text:
            return info
        plans = self.plans
        whole = info.whole
        for item in text.split(";"):
            key, eq, raw = item.partition("=")
            if key in _ANNOTATION_KEYS:
                info.annotations[key] = raw
                continue
            plan = plans.get(key)
            if plan is None:
                if not key:
                    continue
                plan = plans[key] = FieldPlan(key, self.definitions.get(key))
            if not eq:
                whole[key] = True
            elif raw == "." or not raw:
                continue
            elif plan.kind >= PER_A:
                info.per_allele.append((plan, raw))
            else:
                value = plan.whole(raw)
                if value is not None:
                    whole[key] = value
        return info

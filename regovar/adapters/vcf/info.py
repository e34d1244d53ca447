"""The INFO column: typed per the header, split per ALT, annotation keys set aside.

A record's INFO is read once; values that are the same for every ALT are typed once and shared,
and only Number=A/R/G keys are re-cut for each split row. Biallelic records (most of them) need
no cutting at all: their Number=A value is the whole value.
"""

from __future__ import annotations

from regovar.adapters.vcf.header import ANNOTATION_KEYS
from regovar.adapters.vcf.model import FieldDef
from regovar.adapters.vcf.values import FLAG, ONE, PER_A, PER_G, PER_R, FieldPlan, finite

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
    """Parses INFO strings of one file.

    Most ``key=value`` items repeat from record to record (``AC=1``, ``MQ=60``, ``DB``), so the
    typed value of every scalar item is memoised by the item's text (bounded).
    """

    def __init__(self, definitions: dict[str, FieldDef]) -> None:
        self.definitions = definitions
        self.non_finite = 0  # NaN, infinite or out-of-range numbers met (stored as missing)
        self.odd: list[str] = []  # this record's values not of their declared type or count
        self.repeated: list[str] = []  # this record's keys given more than once
        self.plans: dict[str, FieldPlan] = {}
        self.items: dict[str, tuple[str, object]] = {}
        self.items_multi: dict[str, tuple[str, object]] = {}
        for key in ANNOTATION_KEYS:
            plan = self.plans[key] = FieldPlan(key, None)
            plan.kind = _ANNOTATION

    def parse(self, text: str, n_alleles: int) -> RecordInfo:
        info = RecordInfo()
        if text == "." or not text:
            return info
        # Number=A scalars are cached too, which is only right for one-ALT records.
        items = self.items if n_alleles == 2 else self.items_multi
        whole, plans = info.whole, self.plans
        for item in text.split(";"):
            hit = items.get(item)
            if hit is not None:
                if hit[0] in whole:
                    self.repeated.append(hit[0])
                whole[hit[0]] = hit[1]
                continue
            key, eq, raw = item.partition("=")
            plan = plans.get(key)
            if plan is not None and plan.kind == ONE and eq and raw != "." and raw:
                odd = False
                try:
                    value = plan.fast(raw)
                    if value.__class__ is float and value - value != 0.0:
                        self.non_finite += 1  # NaN, inf: no value
                        continue
                except ValueError:
                    value = plan.conv(raw)
                    if value is None:  # not '.' here: a number that is not finite
                        self.non_finite += 1
                        continue
                    odd = value.__class__ is str
                    if odd:  # kept as written, said for every record
                        self.odd.append(f"{key}={raw} is not {plan.typed}")
                if key in whole:
                    self.repeated.append(key)
                whole[key] = value
                if len(items) < 200_000 and not odd:
                    items[item] = (key, value)  # scalars only: safe to share between rows
            else:
                self._item(item, info, items, n_alleles)
        return info

    def _item(
        self, item: str, info: RecordInfo, items: dict[str, tuple[str, object]], n_alleles: int
    ) -> None:
        key, eq, raw = item.partition("=")
        if not key:  # '=5': a value without its name (';;' is nothing)
            if eq:
                self.odd.append(f"item {item!r} has no key: not stored")
            return
        plan = self.plans.get(key) or self._plan(key)
        kind = plan.kind
        biallelic = n_alleles == 2
        value: object
        if kind >= PER_A and eq and raw not in (".", ""):
            self._check_count(key, raw, kind, n_alleles)
        if not eq or kind == FLAG:
            if not key:
                return
            value = True
        elif raw == "." or not raw:
            return
        elif kind == ONE or (kind == PER_A and biallelic and "," not in raw):
            try:
                value = finite(plan.fast(raw))
            except ValueError:
                value = plan.conv(raw)
            if value is None:  # raw is not '.': a number that is not finite
                self.non_finite += 1
            elif value.__class__ is str and plan.conv is not plan.fast_text:
                self.odd.append(f"{key}={raw} is not {plan.typed}")
                return self._keep(key, value, info)  # not memoised: said for every record
        elif kind == _ANNOTATION:
            info.annotations[key] = raw
            return
        elif kind < PER_A or (biallelic and kind != PER_A):
            values = plan.whole(raw)  # lists; R/G values of a biallelic record
            if isinstance(values, list) and values.count(None) > raw.split(",").count("."):
                self.non_finite += 1
            if key in info.whole:
                self.repeated.append(key)
            info.whole[key] = values
            return
        else:
            # Cut for each ALT later, where a number that is not finite becomes missing: said
            # here, once for the record.
            if plan.not_finite(raw):
                self.non_finite += 1
            info.per_allele.append((plan, raw))
            return
        if value is None:
            return
        self._keep(key, value, info)
        if len(items) < 200_000:
            items[item] = (key, value)

    def _keep(self, key: str, value: object, info: RecordInfo) -> None:
        if key in info.whole:
            self.repeated.append(key)
        info.whole[key] = value

    def _check_count(self, key: str, raw: str, kind: int, n_alleles: int) -> None:
        """Number=A/R/G: one value per ALT, per allele, per genotype (or per allele when
        haploid); another count leaves some ALT without its value, or with another's."""
        found = raw.count(",") + 1
        if kind == PER_A:
            expected: tuple[int, ...] = (n_alleles - 1,)
        elif kind == PER_R:
            expected = (n_alleles,)
        elif kind == PER_G:
            expected = (n_alleles * (n_alleles + 1) // 2, n_alleles)
        else:
            return
        if found not in expected:
            number = {PER_A: "A", PER_R: "R", PER_G: "G"}[kind]
            alts = f"{n_alleles - 1} ALT{'s' * (n_alleles > 2)}"
            self.odd.append(f"{key} has {found} values where Number={number} means "
                            f"{expected[0]} for {alts}")  # fmt: skip

    def _plan(self, key: str) -> FieldPlan:
        plan = self.plans[key] = FieldPlan(key, self.definitions.get(key))
        return plan

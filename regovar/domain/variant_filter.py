"""Validation of variant filter trees; the tree types live in regovar.models.variant_filter."""

from __future__ import annotations

import math
from dataclasses import fields

from regovar.domain.errors import InvalidInput
from regovar.models.variant_filter import (
    IMPACTS,
    INFO_NAME,
    OPERATORS,
    PER_SAMPLE_SORT_KEYS,
    SAMPLE_FIELDS,
    SORT_KEYS,
    ZYGOSITY_CODES,
    ZYGOSITY_NAMES,
    And,
    AnnotationField,
    CompoundHet,
    Consequences,
    Filters,
    Genes,
    Genotype,
    Info,
    MinImpact,
    Node,
    Not,
    Or,
    Qual,
    Region,
    SampleValue,
    SortKey,
    VariantKey,
    VariantQuery,
)

__all__ = [
    "IMPACTS",
    "OPERATORS",
    "PER_SAMPLE_SORT_KEYS",
    "SAMPLE_FIELDS",
    "SORT_KEYS",
    "ZYGOSITY_CODES",
    "ZYGOSITY_NAMES",
    "And",
    "AnnotationField",
    "Consequences",
    "Filters",
    "Genes",
    "Genotype",
    "Info",
    "MinImpact",
    "Node",
    "Not",
    "Or",
    "Qual",
    "Region",
    "SampleValue",
    "SortKey",
    "VariantKey",
    "VariantQuery",
    "validate",
]


MAX_TERMS = 2000  # conditions, regions, genes, terms... in one filter
MAX_SAMPLES = 200


def validate(node: Node | None, sample_ids: tuple[int, ...]) -> None:
    """Rejects what the compiler would not know, with a message a user can act on."""
    if len(sample_ids) > MAX_SAMPLES:
        raise InvalidInput(f"at most {MAX_SAMPLES} samples in one query", field="samples")
    if node is None:
        return
    terms = _terms(node)
    if terms > MAX_TERMS:
        raise InvalidInput(
            f"this filter has {terms:,} conditions, regions and list items (at most "
            f"{MAX_TERMS:,}; a list of genes or consequences counts as one): merge "
            "overlapping or adjacent regions (bedtools merge), or split the filter"
        )  # fmt: skip
    _validate(node, sample_ids)


MAX_LIST = 50_000  # genes (HGNC has about 44,000 symbols) or terms in one list


def _terms(node: Node) -> int:
    """Conditions, counting each item of a list (regions, FILTER names...) as one; a list of
    genes or consequences is one array, so one condition (capped at MAX_LIST)."""
    if isinstance(node, And | Or):
        return 1 + sum(_terms(child) for child in node.children)
    if isinstance(node, Not):
        return 1 + _terms(node.child)
    if isinstance(node, CompoundHet):
        return 1 + (_terms(node.candidates) if node.candidates is not None else 0)
    if isinstance(node, Genes | Consequences):
        items = len(node.symbols) if isinstance(node, Genes) else len(node.terms)
        if items > MAX_LIST:
            raise InvalidInput(f"{items:,} items in one list of genes or consequences (at most "
                               f"{MAX_LIST:,})")  # fmt: skip
        return 1
    values = [getattr(node, f.name) for f in fields(node)]
    return max([1, *(len(v) for v in values if isinstance(v, tuple | list))])


def _validate(node: Node, sample_ids: tuple[int, ...]) -> None:
    if isinstance(node, And | Or):
        for child in node.children:
            _validate(child, sample_ids)
    elif isinstance(node, Not):
        _validate(node.child, sample_ids)
    elif isinstance(node, CompoundHet):
        for sid in (node.proband, node.mother, node.father, *node.unaffected):
            if sid is not None and sid not in sample_ids:
                raise InvalidInput(f"sample {sid} is not one of the queried samples")
        if node.candidates is not None:
            _validate(node.candidates, sample_ids)
    else:
        _validate_leaf(node, sample_ids)


def _validate_leaf(node: Node, sample_ids: tuple[int, ...]) -> None:
    sample_id = getattr(node, "sample_id", None)
    if sample_id is not None and sample_id not in sample_ids:
        raise InvalidInput(f"sample {sample_id} is not one of the queried samples")
    if isinstance(node, Genotype):
        unknown = [z for z in node.zygosity if z not in ZYGOSITY_CODES]
        if unknown or not node.zygosity:
            raise InvalidInput(
                f"unknown zygosity {unknown}; expected any of {sorted(ZYGOSITY_CODES)}"
            )
    elif isinstance(node, SampleValue) and (
        node.field not in SAMPLE_FIELDS or node.op not in OPERATORS
    ):
        raise InvalidInput(f"unknown sample field or operator: {node.field} {node.op}")
    elif isinstance(node, MinImpact) and node.impact not in IMPACTS:
        raise InvalidInput(f"unknown impact {node.impact}; expected one of {IMPACTS}")
    elif isinstance(node, Qual) and node.op not in OPERATORS:
        raise InvalidInput(f"unknown operator {node.op}; expected one of {OPERATORS}")
    elif isinstance(node, Info):
        if not INFO_NAME.match(node.name):
            raise InvalidInput(f"invalid INFO field name {node.name!r}")
        if node.op not in (*OPERATORS, "exists"):
            raise InvalidInput(
                f"unknown operator {node.op}; expected one of {', '.join(OPERATORS)} or exists"
            )
        if node.op == "exists" and node.value is not None:
            raise InvalidInput(f"INFO {node.name} exists: takes no value (it was ignored); "
                               "compare with eq, ne... instead", field="info")  # fmt: skip
        if isinstance(node.value, bool) and node.op not in ("eq", "ne"):
            raise InvalidInput(f"INFO {node.name} {node.op} {str(node.value).lower()}: a flag "
                               "is true or false; use eq or ne", field="info")  # fmt: skip
        if node.op != "exists" and node.value is None:  # 'DP ge' with no value matched nothing
            raise InvalidInput(f"INFO {node.name} {node.op}: no value to compare with; give a "
                               "number, a text or a flag, or use exists", field="info")  # fmt: skip
    elif isinstance(node, Region) and any(
        v is not None and not 0 < v < 2**31 for v in (node.start, node.end)
    ):
        raise InvalidInput(f"region bounds must be between 1 and {2**31 - 1}")
    elif (
        isinstance(node, Region)
        and node.start is not None
        and node.end is not None
        and node.start > node.end
    ):
        raise InvalidInput(f"region start {node.start} is after its end {node.end}")
    if isinstance(node, SampleValue | Qual | Info) and _not_finite(node.value):
        # NaN matches nothing and 1e999 everything or nothing: a typo, said as one
        what = getattr(node, "field", None) or getattr(node, "name", None) or "QUAL"
        raise InvalidInput(f"{what} {node.op} {node.value}: the value is not a finite number")
    if (isinstance(node, Qual) or (isinstance(node, SampleValue) and node.field == "vaf")) and (
            abs(node.value) > _REAL_MAX):  # fmt: skip
        # stored as 4-byte floats: the database refused the comparison (an internal error)
        what = "QUAL" if isinstance(node, Qual) else "VAF"
        raise InvalidInput(f"{what} {node.op} {node.value:g}: beyond the values a {what} can "
                           "have (at most 3.4e38)")  # fmt: skip
    if isinstance(node, Info) and node.op in _ORDERING and isinstance(node.value, str):
        # 'DP>=abc' compared text with numbers and silently matched nothing
        raise InvalidInput(f"INFO {node.name} {node.op} {node.value!r}: greater or less than "
                           "compares numbers; text can only be equal or not", field="info")


_ORDERING = ("gt", "ge", "lt", "le")
_REAL_MAX = 3.4028234663852886e38  # the largest 4-byte float


def _not_finite(value: object) -> bool:
    return isinstance(value, float) and not math.isfinite(value)

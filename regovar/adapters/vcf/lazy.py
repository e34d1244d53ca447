"""CallRows whose INFO, annotations and extra FORMAT values are parsed on first access.

Typing every INFO key and splitting hundreds of VEP transcripts costs more than the rest of a
record put together, and a loader that already holds a variant (or its annotations for this
release) has no use for them. A :class:`LazyCallRow` is a real :class:`CallRow`: reading
``row.info``, ``row.annotations`` or ``row.format_values`` parses them once and stores the result
in the ordinary dataclass slot, so equality, ``repr``, pickling and ``dataclasses.asdict`` all see
normal values.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from regovar.adapters.vcf.info import RecordInfo
from regovar.adapters.vcf.model import Annotation, CallRow
from regovar.adapters.vcf.samples import ABSENT, FormatPlan, format_values

_FIELDS = tuple(f.name for f in fields(CallRow))


# What the lazy fields of the rows of one record are computed from, shared by its rows. A plain
# tuple because one is built per record on the hot path:
# (parser, fields, line, ref, alts, kept, plan, tokens, cache=[RecordInfo, annotations by ALT])
RecordContext = tuple[
    Any, list[str], int, str, list[str], list[int], FormatPlan | None, list[str] | None, list[Any]
]


def record_info(ctx: RecordContext) -> RecordInfo:
    cache = ctx[8]
    if not cache:
        parser = ctx[0]
        met, odd, repeated = parser.info.non_finite, parser.info.odd, parser.info.repeated
        odd.clear()
        repeated.clear()
        cache.append(parser.info.parse(ctx[1][7], len(ctx[4]) + 1))
        if repeated:
            keys = ", ".join(dict.fromkeys(repeated))
            parser.warnings.add("repeated_key", ctx[2], f"INFO {keys} given more than once: "
                                "the last is read")  # fmt: skip
        if odd:
            parser.warnings.add("info_value", ctx[2], f"INFO {odd[0]}: kept as written (a "
                                "value of another type is text; a missing value per ALT is "
                                "null)")  # fmt: skip
        if parser.info.non_finite != met:
            parser.warnings.add(
                "info_not_finite", ctx[2],
                "an INFO number that is NaN, infinite or beyond a double (1e400) was stored "
                "as missing",
            )  # fmt: skip
    info: RecordInfo = cache[0]
    return info


def _info(ctx: RecordContext, alt_index: int) -> dict[str, object]:
    return record_info(ctx).for_allele(alt_index, len(ctx[4]) + 1, shared=len(ctx[5]) == 1)


def _annotations(ctx: RecordContext, alt_index: int) -> list[Annotation]:
    parser, _, line, ref, alts, kept, plan, _, cache = ctx
    if len(cache) < 2:
        raws = record_info(ctx).annotations
        if not raws:
            return []
        masks = None
        if "BCSQ" in raws and plan is not None and plan.bcsq != ABSENT:
            masks = parser.bcsq_masks(ctx)
        cache.append(parser.annotations.parse(raws, ref, alts, kept, line, masks, ctx[1][1]))
    by_alt: dict[int, list[Annotation]] = cache[1]
    return by_alt.get(alt_index, [])


def _format_values(ctx: RecordContext, alt_index: int) -> dict[str, list[object]]:
    parser, plan, tokens = ctx[0], ctx[6], ctx[7]
    if plan is None or tokens is None or not plan.extras:
        return {}
    return format_values(parser.samples, plan, tokens, alt_index, len(ctx[4]) + 1)


def sample_filters(row: CallRow) -> list[str | None] | None:
    """Each sample's FORMAT FT as written ("PASS", "q10;s50"; None when "." or absent), read
    straight from the record's tokens: not the typing of every other FORMAT key."""
    if not isinstance(row, LazyCallRow):
        values = row.format_values.get("FT")
        return None if values is None else [None if v is None else str(v) for v in values]
    ctx = object.__getattribute__(row, "_ctx")
    plan, tokens = ctx[6], ctx[7]
    if plan is None or tokens is None or plan.ft == ABSENT:
        return None
    return [None if t in (".", "") else t for t in tokens[plan.ft :: plan.n_keys]]


_COMPUTE = {"info": _info, "annotations": _annotations, "format_values": _format_values}


class LazyCallRow(CallRow):
    """A CallRow built without its three costly fields; they are filled in when first read."""

    __slots__ = ("_ctx",)
    _ctx: RecordContext

    def __getattr__(self, name: str) -> Any:
        # Only reached when a slot is still empty, i.e. a lazy field not computed yet.
        compute = _COMPUTE.get(name)
        if compute is None:
            raise AttributeError(name)
        value = compute(object.__getattribute__(self, "_ctx"), self.alt_index)
        object.__setattr__(self, name, value)
        return value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CallRow):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _FIELDS)

    __hash__ = None  # type: ignore[assignment]


_new = object.__new__


def new_row(
    ctx: RecordContext,
    line: int,
    chrom: str,
    pos: int,
    ref: str,
    alt: str,
    end: int,
    alt_index: int,
    n_alts: int,
    qual: float | None,
    filters: list[str] | None,
    ac: int,
    an: int,
    gt: list[str | None],
    zyg: list[int],
    ps: list[int | None],
    dp: list[int | None],
    ad_ref: list[int | None],
    ad_alt: list[int | None],
    gq: list[int | None],
    vaf: list[float | None],
) -> LazyCallRow:
    """A LazyCallRow with every eager field set (bypasses __init__, which would set all)."""
    row: LazyCallRow = _new(LazyCallRow)
    row._ctx = ctx
    row.line, row.chrom, row.pos, row.ref, row.alt, row.end = line, chrom, pos, ref, alt, end
    row.alt_index, row.n_alts, row.qual, row.filters = alt_index, n_alts, qual, filters
    row.ac, row.an, row.gt, row.zyg, row.ps, row.dp = ac, an, gt, zyg, ps, dp
    row.ad_ref, row.ad_alt, row.gq, row.vaf = ad_ref, ad_alt, gq, vaf
    return row

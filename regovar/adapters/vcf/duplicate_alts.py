"""Records that list one ALT allele more than once (``G A,A``, or ``A,a``).

The VCF specification does not allow it, but merging tools write such records. Read as they
are, the copies split into two rows of the same variant, of which the second is dropped as a
duplicate, and a sample whose GT names the second copy (``0/2``) reads as carrying another
ALT. The record is rewritten first: one allele per distinct ALT, GT allele numbers moved to it,
and the per-ALT values merged: integer counts (AD, AC, F1R2...) are added (missing when a copy's
is, or is not a plain non-negative integer: a partial sum would pass for the whole), other
Number=A/R values keep the first copy's,
Number=G values (likelihoods per genotype) become missing. A Number=A/R value without one item
per listed allele cannot be merged: it becomes missing, and is said.
"""

from __future__ import annotations

import re

from regovar.adapters.vcf.model import FieldDef

_ALLELE = re.compile(r"[0-9]+")  # ASCII only: '0/٢' stays as written, and is refused


def merged_alleles(alt: str, ref: str) -> list[int] | None:
    """The new number of each listed ALT (1-based; 0 for an ALT that is the REF, ``A A,G``),
    or None when every ALT is listed once and differs from the REF."""
    alts, same = alt.split(","), ref.upper()
    first: dict[str, int] = {}
    numbers = [0 if a.upper() == same else first.setdefault(a.upper(), len(first) + 1)
               for a in alts]  # fmt: skip
    return None if len(first) == len(alts) else numbers


def merge_record(
    fields: list[str],
    numbers: list[int],
    info: dict[str, FieldDef],
    formats: dict[str, FieldDef],
) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    """(the record's fields with one allele per distinct ALT, the ALTs that were repeated, those
    that were the REF, the keys whose values were miscounted and dropped, the keys whose counts
    could not be added (a copy not a plain non-negative integer: missing); INFO keys as ``INFO
    X``). An ALT that is the REF is read as the REF: GT allele numbers moved to 0, its counts
    added to the REF's (Number=R) or dropped (Number=A).

    ``fields`` are the first nine columns and the sample columns joined by tabs."""
    alts = fields[4].split(",")
    distinct: dict[int, str] = {}
    for a, n in zip(alts, numbers, strict=True):
        if n:
            distinct.setdefault(n, a)
    kept = [distinct[n] for n in sorted(distinct)]
    repeated = [distinct[n] for n in sorted(distinct) if numbers.count(n) > 1]
    as_ref = list(dict.fromkeys(a for a, n in zip(alts, numbers, strict=True) if n == 0))
    out = list(fields)
    out[4] = ",".join(kept) or "."  # only the REF listed: no ALT left
    odd: dict[str, None] = {}
    unread: dict[str, None] = {}
    if len(out) > 7 and out[7] not in (".", ""):
        out[7] = ";".join(_info_item(item, numbers, info, odd, unread)
                          for item in out[7].split(";"))  # fmt: skip
    if len(out) > 9:
        keys = out[8].split(":")
        out[9] = "\t".join(
            _sample(column, keys, numbers, formats, odd, unread) for column in out[9].split("\t")
        )
    return out, repeated, as_ref, list(odd), list(unread)


def _info_item(
    item: str, numbers: list[int], info: dict[str, FieldDef], odd: dict[str, None],
    unread: dict[str, None],
) -> str:  # fmt: skip
    key, eq, raw = item.partition("=")
    definition = info.get(key)
    if not eq or definition is None:
        return item
    value = _values(raw, definition, numbers, unread, f"INFO {key}")
    if value is None:
        odd[f"INFO {key}"] = None
        return f"{key}=."
    return f"{key}={value}"


def _sample(
    column: str, keys: list[str], numbers: list[int], formats: dict[str, FieldDef],
    odd: dict[str, None], unread: dict[str, None],
) -> str:  # fmt: skip
    values = column.split(":")
    for i, (key, value) in enumerate(zip(keys, values, strict=False)):
        if key == "GT":
            values[i] = _ALLELE.sub(lambda m: _renumber(int(m.group()), numbers), value)
        elif (definition := formats.get(key)) is not None:
            merged = _values(value, definition, numbers, unread, key)
            if merged is None:
                odd[key] = None
                merged = "."
            values[i] = merged
    return ":".join(values)


def _renumber(allele: int, numbers: list[int]) -> str:
    # 0 is REF; a number beyond the ALTs stays as it is (and is refused as before)
    return str(numbers[allele - 1]) if 0 < allele <= len(numbers) else str(allele)


def _values(
    raw: str, definition: FieldDef, numbers: list[int], unread: dict[str, None], name: str
) -> str | None:
    """One Number=A/R/G value list, merged (None for a list without one item per listed
    allele: which item is which copy's is unknown; ``name`` goes into ``unread`` when counts
    could not be added); other values are left as they are."""
    number = definition.number
    if number not in ("A", "R", "G") or raw in (".", ""):
        return raw
    if number == "G":
        return "."
    items = raw.split(",")
    alts = items[1:] if number == "R" else items
    if len(alts) != len(numbers):
        return None
    merged: dict[int, list[str]] = {0: items[:1]} if number == "R" else {}
    for n, value in zip(numbers, alts, strict=True):
        merged.setdefault(n, []).append(value)
    if number == "A":
        merged.pop(0, None)  # an ALT that is the REF has no per-ALT value of its own
    combined = [_combine(merged[n], definition.type) for n in sorted(merged)]
    if None in combined:
        unread[name] = None
    return ",".join(c or "." for c in combined) or "."


def _combine(values: list[str], kind: str) -> str | None:
    """The copies' values of one allele: their sum for integer counts ('.' when a copy's is
    unknown; None, read as unknown and said, when one is not a plain non-negative integer:
    '-1', '1.5', non-ASCII digits), the first copy's otherwise."""
    if kind != "Integer" or len(values) == 1:
        return values[0]
    if "." in values:  # a copy's count unknown: so is the allele's
        return "."
    if not all(v.isascii() and v.isdigit() for v in values):
        return None
    return str(sum(int(v) for v in values))

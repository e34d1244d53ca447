"""bcftools csq annotations (``INFO/BCSQ``, optionally with the ``FORMAT/BCSQ`` bitmask).

bcftools is haplotype-aware: the per-sample bitmask says which haplotype of which sample carries
each consequence (bit 2k for the first haplotype of consequence k, bit 2k+1 for the second), and
the sample's GT on that haplotype tells which ALT it is. Without the bitmask (``--local-csq`` or
stripped files), or where no haplotype carries an entry, an entry whose dna_change is a plain
substitution at the record's position is tied to the ALT it names; any other is attached to
every ALT.
"""

from __future__ import annotations

import re
from functools import lru_cache

from regovar.adapters.vcf.consequences import BCSQ_TO_SO, impact_of_terms
from regovar.adapters.vcf.meta import percent_decode
from regovar.adapters.vcf.model import Annotation

ByAlt = dict[int, list[Annotation]]
Masks = list[tuple[int, tuple[int, ...]]]  # per sample: (FORMAT/BCSQ bitmask, GT alleles)
_MASK_BITS = 32


def parse_bcsq(
    raw: str,
    layout: list[str],
    kept: list[int],
    masks: Masks | None,
    out: ByAlt,
    consequences: dict[str, Consequences],
    site: tuple[str, str, list[str]] | None = None,
) -> int:
    """Attach BCSQ entries; '@pos' back-references point to another record and are skipped;
    returns how many entries named an allele the record does not have (dropped).

    ``consequences`` memoises the SO translation of each distinct consequence text (a few
    dozen per file), the only costly part of an entry. Without the bitmask, ``site`` (POS as
    written, REF, ALTs) ties an entry whose dna_change is a plain substitution at this position
    to the ALT it names (``1000C>T``); other entries go to every ALT.
    """
    at = _positions(tuple(layout))
    change_at = layout.index("dna_change") if "dna_change" in layout else None
    dropped = 0
    need = max(4, max(at) + 1)  # an entry may stop before its last fields
    names = layout[4:]
    for k, entry in enumerate(raw.split(",")):
        if not entry or entry[0] == "@":
            continue
        star = entry[0] == "*"
        values = (entry[1:] if star else entry).split("|")
        values.extend([""] * (need - len(values)))
        terms, impact = consequences.get(values[at[0]]) or _translate(values[at[0]], consequences)
        gene, feature, biotype = values[at[1]], values[at[2]], values[at[3]]
        extra = {
            name: percent_decode(v) if "%" in v else v
            for name, v in zip(names, values[4:], strict=False)
            if v
        }
        if star:
            extra["downstream_of_stop"] = "true"
        # The bitmask says which ALT, when a haplotype carries the consequence (none may: a
        # sample without its bitmask, a consequence beyond bit 32, samples removed since).
        targets = None if masks is None else _targets(k, masks)
        if targets is None and site is not None and change_at is not None:
            named = named_alt(values[change_at] if change_at < len(values) else "", *site)
            if named == 0:
                dropped += 1  # another record's allele (a file split after bcftools csq)
                continue
            targets = [named] if named is not None and named in kept else None
        for alt_index in kept if targets is None else targets:
            target = out.get(alt_index)
            if target is not None:
                target.append(
                    Annotation(
                        "BCSQ",
                        (percent_decode(gene) if "%" in gene else gene) or None,
                        None,
                        feature or None,
                        biotype or None,
                        list(terms),
                        impact,
                        None,
                        None,
                        [],
                        extra.copy(),
                    )
                )
    return dropped


_CHANGE = re.compile(r"([0-9]+)([ACGTN]+)>([ACGTN]+)")  # the columnar parser reads it too


def named_alt(change: str, pos: str, ref: str, alts: list[str]) -> int | None:
    """The ALT (1-based) that a dna_change names when it is a plain substitution at this
    position with this REF (``1000C>T``); 0 when it names an ALT the record does not have;
    None when it cannot say (indels, compound changes, another position or REF)."""
    m = _CHANGE.fullmatch(change)
    if m is None or m[1] != pos or len(m[2]) != len(m[3]) or m[2] != ref.upper():
        return None
    for index, alt in enumerate(alts, start=1):
        if alt.upper() == m[3]:
            return index
    return 0


Consequences = tuple[tuple[str, ...], str | None]  # SO terms, impact


@lru_cache(maxsize=8)
def _positions(layout: tuple[str, ...]) -> tuple[int, int, int, int]:
    """Where consequence, gene, transcript and biotype are (bcftools' order by default)."""
    found = [
        layout.index(n) if n in layout else d
        for d, n in enumerate(("consequence", "gene", "transcript", "biotype"))
    ]
    return found[0], found[1], found[2], found[3]


def _translate(text: str, cache: dict[str, Consequences]) -> Consequences:
    terms = [t.lstrip("*") for part in text.split("&") for t in part.split("+") if t.lstrip("*")]
    so_terms = tuple(BCSQ_TO_SO.get(t, t) for t in terms)
    value = so_terms, impact_of_terms(so_terms)
    if len(cache) < 10_000:
        cache[text] = value
    return value


def _targets(k: int, masks: Masks) -> list[int] | None:
    """The ALTs whose haplotypes carry consequence ``k``; None when no haplotype says."""
    if 2 * k + 1 >= _MASK_BITS:
        return None
    found: set[int] = set()
    for mask, alleles in masks:
        if not mask:
            continue
        for haplotype, allele in enumerate(alleles[:2]):
            if allele > 0 and mask >> (2 * k + haplotype) & 1:
                found.add(allele)
    return sorted(found) if found else None

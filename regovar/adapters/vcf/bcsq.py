"""bcftools csq annotations (``INFO/BCSQ``, optionally with the ``FORMAT/BCSQ`` bitmask).

bcftools is haplotype-aware: the per-sample bitmask says which haplotype of which sample carries
each consequence (bit 2k for the first haplotype of consequence k, bit 2k+1 for the second), and
the sample's GT on that haplotype tells which ALT it is. Without the bitmask (``--local-csq`` or
stripped files) the consequence cannot be tied to one ALT and is attached to every ALT.
"""

from __future__ import annotations

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
) -> int:
    """Attach BCSQ entries; '@pos' back-references point to another record and are skipped.

    ``consequences`` memoises the SO translation of each distinct consequence text (a few
    dozen per file), the only costly part of an entry.
    """
    at = _positions(tuple(layout))
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
        for alt_index in kept if masks is None else _targets(k, kept, masks):
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


def _targets(k: int, kept: list[int], masks: Masks) -> list[int]:
    if 2 * k + 1 >= _MASK_BITS:
        return kept
    found: set[int] = set()
    for mask, alleles in masks:
        if not mask:
            continue
        for haplotype, allele in enumerate(alleles[:2]):
            if allele > 0 and mask >> (2 * k + haplotype) & 1:
                found.add(allele)
    return sorted(found) if found else kept

"""bcftools csq annotations (``INFO/BCSQ``, optionally with the ``FORMAT/BCSQ`` bitmask).

bcftools is haplotype-aware: the per-sample bitmask says which haplotype of which sample carries
each consequence (bit 2k for the first haplotype of consequence k, bit 2k+1 for the second), and
the sample's GT on that haplotype tells which ALT it is. Without the bitmask (``--local-csq`` or
stripped files) the consequence cannot be tied to one ALT and is attached to every ALT.
"""

from __future__ import annotations

from regovar.adapters.vcf.consequences import BCSQ_TO_SO, impact_of_terms
from regovar.adapters.vcf.meta import percent_decode
from regovar.adapters.vcf.model import Annotation

ByAlt = dict[int, list[Annotation]]
Masks = list[tuple[int, tuple[int, ...]]]  # per sample: (FORMAT/BCSQ bitmask, GT alleles)
_MASK_BITS = 32


def parse_bcsq(raw: str, layout: list[str], kept: list[int], masks: Masks | None,
               out: ByAlt, templates: dict[str, Template]) -> int:
    """Attach BCSQ entries; '@pos' back-references point to another record and are skipped.

    ``templates`` memoises parsed entries for one file (one layout): neighbouring records
    repeat the same entries (same transcript, same consequence).
    """
    for k, entry in enumerate(raw.split(",")):
        if not entry or entry[0] == "@":
            continue
        star = entry[0] == "*"
        values = (entry[1:] if star else entry).split("|")
        head = "|".join(values[:4])
        core = templates.get(head) or _template(head, layout, templates)
        gene, feature, biotype, terms, impact = core
        extra = {name: percent_decode(v) for name, v in zip(layout[4:], values[4:], strict=False)
                 if v}
        if star:
            extra["downstream_of_stop"] = "true"
        for alt_index in kept if masks is None else _targets(k, kept, masks):
            target = out.get(alt_index)
            if target is not None:
                target.append(Annotation("BCSQ", gene, None, feature, biotype, list(terms),
                                         impact, None, None, [], extra.copy()))
    return 0


# consequence|gene|transcript|biotype -> (gene, transcript, biotype, SO terms, impact); the
# remaining sub-fields (strand, amino acid and DNA change) vary per variant and are not cached.
Template = tuple[str | None, str | None, str | None, tuple[str, ...], str | None]


def _template(head: str, layout: list[str], templates: dict[str, Template]) -> Template:
    fields = dict(zip(layout[:4], head.split("|"), strict=False))
    terms = [t.lstrip("*") for part in fields.get("consequence", "").split("&")
             for t in part.split("+") if t.lstrip("*")]
    consequences = tuple(BCSQ_TO_SO.get(t, t) for t in terms)
    template = (percent_decode(fields.get("gene", "")) or None,
                fields.get("transcript") or None, fields.get("biotype") or None, consequences,
                impact_of_terms(consequences))
    if len(templates) >= 50_000:
        templates.clear()
    templates[head] = template
    return template


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

"""Records written at the same position: a multi-allelic site already split into several lines
(``bcftools norm -m -``, ``vt decompose``), or several callers' events at one locus.

In a split file each line only knows its own ALT: a sample with genotype 1/2 appears as 1/0 and
0/1, and a parent who is 2/2 appears as 0/0, "hom-ref", in the line of allele 1. Taken as
written, that parent would pass as hom-ref in a de novo search while carrying another allele at
the very base. So, as for an unsplit record, a sample that carries the ALT of another line at
the same position is never hom-ref in this line: 0/0 becomes other-ALT, 0/1 becomes
het-ALT (this ALT and another one), haploid REF becomes other-ALT. A line that repeats an
allele of an earlier line (a duplicate record, dropped at the end of the load) counts for
nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from regovar.adapters.vcf.model import CallRow, Zygosity

# Plain ints, as the parser writes them (the codes are stored as smallint).
CARRIES = frozenset(
    int(z) for z in
    (Zygosity.HET, Zygosity.HOM_ALT, Zygosity.HEMI_ALT, Zygosity.HET_ALT, Zygosity.PARTIAL_ALT)
)  # fmt: skip
_WITH_ANOTHER_ALT = {
    int(Zygosity.HOM_REF): int(Zygosity.OTHER_ALT),
    int(Zygosity.HEMI_REF): int(Zygosity.OTHER_ALT),
    int(Zygosity.HET): int(Zygosity.HET_ALT),
}


def locus(record: str | list[str]) -> object:
    """CHROM and POS as written, cheaply (only compared where a chunk could end)."""
    if isinstance(record, list):
        return record[0], record[1]
    return record[: record.find("\t", record.find("\t") + 1)]


def with_siblings(rows: list[CallRow]) -> Iterator[CallRow]:
    """The rows of the records of one position, zygosities seen across their lines."""
    first = rows[0].line
    if all(r.line == first for r in rows):
        yield from rows
        return
    n_samples = len(rows[0].zyg)
    # allele -> (its first line, the samples carrying it there). A later line with the same
    # allele is a duplicate record, dropped at the end of the load: its calls do not count.
    carriers: dict[tuple[int, str, str, int], tuple[int, set[int]]] = {}
    for r in rows:
        allele = (r.pos, r.ref, r.alt, r.end)
        line, found = carriers.setdefault(allele, (r.line, set()))
        if line == r.line:
            found.update(i for i, z in enumerate(r.zyg) if z in CARRIES)
    for r in rows:
        mine = (r.pos, r.ref, r.alt, r.end)
        elsewhere = set().union(*(
            s for allele, (line, s) in carriers.items() if line != r.line and allele != mine
        ))  # fmt: skip
        if elsewhere and n_samples:
            # A new list: zygosity lists may be shared between rows of one record.
            r.zyg = [
                _WITH_ANOTHER_ALT.get(z, z) if i in elsewhere else z
                for i, z in enumerate(r.zyg)
            ]
        yield r

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
from dataclasses import dataclass

from regovar.adapters.vcf.model import CallRow, ImportWarnings, Zygosity

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


Locus = tuple[str, int]


@dataclass(frozen=True)
class ChunkOrder:
    """Where a chunk's records lie, to tell an unsorted file: its first and last (CHROM,
    POS), its contigs in order, and the first line placed before the line above it."""

    first: Locus | None
    first_line: int
    last: Locus | None
    contigs: tuple[str, ...]
    unsorted: tuple[int, Locus, Locus] | None  # (line, its locus, the locus above it)


def chunk_order(chunk: list[tuple[int, str | list[str]]]) -> ChunkOrder:
    first: Locus | None = None
    last: Locus | None = None
    first_line = 0
    contigs: list[str] = []
    unsorted = None
    for line, record in chunk:
        if isinstance(record, list):
            chrom, text = record[0], record[1]
        else:
            a = record.find("\t")
            chrom, text = record[:a], record[a + 1 : record.find("\t", a + 1)]
        if not (text.isascii() and text.isdigit()):
            continue  # refused by the parser
        here = (chrom, int(text))
        if last is not None and unsorted is None and (
            (chrom == last[0] and here[1] < last[1]) or (chrom != last[0] and chrom in contigs)
        ):
            unsorted = (line, here, last)
        if not contigs or contigs[-1] != chrom:
            contigs.append(chrom)
        if first is None:
            first, first_line = here, line
        last = here
    return ChunkOrder(first, first_line, last, tuple(dict.fromkeys(contigs)), unsorted)


class OrderWatch:
    """Follows the chunks in file order; says once where the file is first out of order."""

    def __init__(self) -> None:
        self.last: Locus | None = None
        self.done: set[str] = set()  # contigs left behind
        self.said = False

    def see(self, order: ChunkOrder, warnings: ImportWarnings) -> None:
        if self.said or order.first is None:
            return
        broken = order.unsorted
        head, last = order.first, self.last
        if last is not None and (
            (head[0] == last[0] and head[1] < last[1])
            or (head[0] != last[0] and head[0] in self.done)
        ):
            broken = (order.first_line, head, last)
        if broken is not None:
            line, here, above = broken
            self.said = True
            message = (f"records are not sorted ({here[0]}:{here[1]} after {above[0]}:"
                       f"{above[1]}): records of one position are read together only when next "
                       "to each other, so a sample carrying another ALT of a position may read "
                       "hom-ref there; sort the file (bcftools sort)")  # fmt: skip
            warnings.add("unsorted", line, message)
            return
        if last is not None and last[0] != head[0]:
            self.done.add(last[0])
        self.done.update(order.contigs[:-1])
        self.last = order.last


def with_siblings(
    rows: list[CallRow], others: frozenset[int] = frozenset(),
    rowless_depths: list[list[int | None]] | None = None,
) -> Iterator[CallRow]:
    """The rows of the records of one position, zygosities seen across their lines; ``others``
    are samples carrying an allele of a line of this position that gave no row ('*' or
    '<NON_REF>' alone: a spanning deletion), never hom-ref here either, and ``rowless_depths``
    those lines' ALT depths per sample (they count in the VAFs here)."""
    first = rows[0].line
    if not others and not rowless_depths and all(r.line == first for r in rows):
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
    depths = _alt_depths(rows, carriers, n_samples)
    for r in rows:
        mine = (r.pos, r.ref, r.alt, r.end)
        elsewhere = set(others).union(*(
            s for allele, (line, s) in carriers.items() if line != r.line and allele != mine
        ))  # fmt: skip
        _with_other_depths(
            r, [d for line, d in depths.items() if line != r.line] + (rowless_depths or [])
        )
        if elsewhere and n_samples:
            # A new list: zygosity lists may be shared between rows of one record.
            r.zyg = [
                _WITH_ANOTHER_ALT.get(z, z) if i in elsewhere else z
                for i, z in enumerate(r.zyg)
            ]
        yield r


def _alt_depths(
    rows: list[CallRow], carriers: dict[tuple[int, str, str, int], tuple[int, set[int]]],
    n_samples: int,
) -> dict[int, list[int | None]]:
    """Per line, each sample's depth of the line's ALTs (None where one is unknown); a repeated
    allele (a duplicate record) counts for nothing."""
    depths: dict[int, list[int | None]] = {}
    for r in rows:
        if carriers[(r.pos, r.ref, r.alt, r.end)][0] != r.line:
            continue
        known = depths.setdefault(r.line, [0] * n_samples)
        for i, depth in enumerate(r.ad_alt):
            total = known[i]
            known[i] = None if depth is None or total is None else total + depth
    return depths


def _with_other_depths(row: CallRow, others: list[list[int | None]]) -> None:
    """The VAF of a split line over all the position's allele depths, as for an unsplit record:
    a 1/2 sample written 1/0 (AD 0,45) and 0/1 (AD 0,34) has VAFs 45/79 and 34/79, not 1 and 1
    (a VAF filter dropped the call). Where another line's depth is unknown, the VAF is left."""
    if not others or not row.vaf:
        return
    vafs = list(row.vaf)  # a new list: value lists may be shared between rows of one record
    for i, alt in enumerate(row.ad_alt):
        more = [d for d in (line[i] for line in others) if d is not None]
        if alt is None or len(more) < len(others) or not sum(more):
            continue
        vaf = vafs[i]
        own = round(alt / vaf) if vaf else alt + (row.ad_ref[i] or 0)  # this line's total
        vafs[i] = alt / (own + sum(more))
    row.vaf = vafs

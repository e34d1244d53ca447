"""Genome assembly detection and contig naming.

The variant store keys variants by (assembly, chrom, pos, ref, alt), so ``chr1`` and ``1`` must
become one name per assembly: GRCh37 without prefix (Ensembl/1000 Genomes style, the majority of
GRCh37 data) and GRCh38 with it (the GRC/UCSC analysis sets). Mitochondria need care: GRCh37's
``MT`` is the rCRS (16569 bp) while hg19's ``chrM`` is NC_001807 (16571 bp), a different sequence
whose positions do not match, so it is only renamed when its declared length proves it is rCRS.
"""

from __future__ import annotations

import re

from regovar.adapters.vcf.model import ImportWarnings

GRCH37 = "GRCh37"
GRCH38 = "GRCh38"
RCRS_LENGTH = 16569

_CHR1_LENGTHS = {249250621: GRCH37, 248956422: GRCH38}
_PATTERNS = [
    (GRCH38, re.compile(r"grch38|hg38|\bb38\b|hs38", re.I)),
    (GRCH37, re.compile(r"grch37|hg19|b37|hs37|g1k_v37|build ?37", re.I)),
]
_ALIASES = {"grch37": GRCH37, "hg19": GRCH37, "b37": GRCH37, "grch38": GRCH38, "hg38": GRCH38}
_PRIMARY = {str(i) for i in range(1, 23)} | {"X", "Y"}
_MITO = {"M", "MT"}


def canonical_assembly(name: str) -> str:
    """Accept the usual spellings of the two supported assemblies."""
    try:
        return _ALIASES[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unsupported assembly {name!r}: expected GRCh37 or GRCh38") from None


def assembly_from_text(text: str) -> str | None:
    """Assembly named in a ``##reference=`` / ``##assembly=`` value or a contig attribute."""
    found = {name for name, pattern in _PATTERNS if pattern.search(text)}
    return found.pop() if len(found) == 1 else None


def assembly_from_contigs(contigs: dict[str, int | None]) -> str | None:
    for name in ("1", "chr1"):
        length = contigs.get(name)
        if length in _CHR1_LENGTHS:
            return _CHR1_LENGTHS[length]
    return None


def detect_assembly(
    texts: list[str], contigs: dict[str, int | None], warnings: ImportWarnings
) -> str | None:
    """Contig lengths are hard evidence; reference/assembly text is used when they are absent."""
    by_length = assembly_from_contigs(contigs)
    named = {a for a in (assembly_from_text(t) for t in texts) if a}
    if by_length:
        if named and named != {by_length}:
            warnings.add(
                "assembly_conflict",
                None,
                f"header names {', '.join(sorted(named))} but chr1's length is that of "
                f"{by_length}; using {by_length}",
            )
        return by_length
    return named.pop() if len(named) == 1 else None


class ContigNamer:
    """Maps contig names as written to the store's convention, memoised per name."""

    def __init__(
        self, assembly: str, declared: dict[str, int | None], warnings: ImportWarnings
    ) -> None:
        self.assembly = assembly
        self.declared = declared
        self.warnings = warnings
        self.cache: dict[str, str] = {}

    def __call__(self, name: str, line: int | None = None) -> str:
        mapped = self.cache.get(name)
        if mapped is None:
            if self.declared and name not in self.declared:  # accepted, and said once
                self.warnings.add("contig_not_in_header", line, f"contig {name!r} is not "
                                  "declared in the header (##contig)", once=True)  # fmt: skip
            mapped = self.cache[name] = self._map(name, line)
        return mapped

    def _map(self, name: str, line: int | None = None) -> str:
        bare = name[3:] if name[:3].lower() == "chr" else name
        if bare in _PRIMARY or bare.upper() in _PRIMARY:
            bare = bare.upper()
            return bare if self.assembly == GRCH37 else "chr" + bare
        if bare.upper() not in _MITO:
            return name
        if self.assembly == GRCH38:
            return "chrM"
        if bare.upper() == "MT":
            return "MT"
        length = self.declared.get(name)
        if length == RCRS_LENGTH:
            return "MT"
        self.warnings.add(
            "chrM_not_rcrs",
            line,
            f"contig {name!r} kept as written: in GRCh37 only a {RCRS_LENGTH} bp "
            f"(rCRS) mitochondrion is MT; declared length is {length}",
            once=True,
        )
        return name

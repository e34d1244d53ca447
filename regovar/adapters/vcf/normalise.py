"""Allele validation and normalisation.

The same variant must always get the same key (chrom, pos, ref, alt) whichever caller wrote it,
so alleles are upper-cased and trimmed (shared suffix first, then shared prefix, keeping one base)
the way ``bcftools norm`` and vt do. Left-alignment of indels in repeats needs the reference
sequence; :func:`left_align` is the hook for it and is a no-op without a reference.
"""

from __future__ import annotations

from typing import Protocol

_BASES = "ACGTNacgtn"

# Kinds of ALT allele.
BASES = 0  # nucleotides: a normal variant
SYMBOLIC = 1  # <DEL>, <DUP:TANDEM>, breakends: kept as written
STAR = 2  # '*', allele missing due to an upstream deletion: no row, still an allele index
REF_BLOCK = 3  # <NON_REF>, <*>, <X>: gVCF "any other allele": no row
MISSING = 4  # '.': no ALT at all

_REF_PLACEHOLDERS = {"<NON_REF>", "<*>", "<X>"}


class ReferenceGenome(Protocol):
    """What :func:`left_align` needs from a FASTA: 1-based, inclusive coordinates."""

    def fetch(self, chrom: str, start: int, end: int) -> str: ...


def ref_error(ref: str) -> str | None:
    """Why a REF allele is invalid (IUPAC ambiguity codes other than N included), or None."""
    if ref and not ref.strip(_BASES):
        return None
    return f"invalid REF allele {ref!r}: only A, C, G, T and N are allowed"


def alt_kind(alt: str) -> int | str:
    """The kind of an ALT allele, or the error message when it is invalid."""
    if alt and not alt.strip(_BASES):
        return BASES
    if alt == "*":
        return STAR
    if alt == ".":
        return MISSING
    if alt.startswith("<") and alt.endswith(">") and len(alt) > 2:
        return REF_BLOCK if alt in _REF_PLACEHOLDERS else SYMBOLIC
    if ("[" in alt or "]" in alt) and ":" in alt:
        return SYMBOLIC
    if len(alt) > 1 and (alt[0] == "." or alt[-1] == ".") and not alt.strip(_BASES + "."):
        return SYMBOLIC  # single breakend, e.g. 'G.' or '.A'
    return f"invalid ALT allele {alt!r}"


def trim_alleles(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Remove the shared suffix, then the shared prefix, keeping at least one base each."""
    lr, la = len(ref), len(alt)
    n = 0
    limit = min(lr, la) - 1
    while n < limit and ref[lr - 1 - n] == alt[la - 1 - n]:
        n += 1
    if n:
        ref, alt = ref[: lr - n], alt[: la - n]
        limit -= n
    p = 0
    while p < limit and ref[p] == alt[p]:
        p += 1
    if p:
        ref, alt, pos = ref[p:], alt[p:], pos + p
    return pos, ref, alt


def left_align(
    chrom: str, pos: int, ref: str, alt: str, reference: ReferenceGenome | None = None
) -> tuple[int, str, str]:
    """Shift an indel to its leftmost equivalent position; unchanged when no reference is given.

    Expects trimmed alleles. The importer has no FASTA today, so calls are only trimmed; when one
    is configured, pass it here so indels in repeats also get a single representation.
    """
    if reference is None or len(ref) == len(alt):
        return pos, ref, alt
    while pos > 1:
        if ref[-1] != alt[-1]:
            break
        ref, alt = ref[:-1], alt[:-1]
        if not ref or not alt:
            pos -= 1
            base = reference.fetch(chrom, pos, pos).upper()
            ref, alt = base + ref, base + alt
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return pos, ref, alt

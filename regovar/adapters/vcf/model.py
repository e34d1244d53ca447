"""The contract between the VCF reader and the importer.

The reader streams a file and yields one :class:`CallRow` per (record, ALT allele) after
multi-allelic decomposition and normalisation. Everything the database needs is already computed
here (zygosity codes, VAF, AC/AN, split Number=A/R/G values, parsed annotations), so the loader
only has to COPY rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import IntEnum


class VcfMalformed(Exception):
    """A problem in the input file, located by physical (1-based) line number."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}, line {line}" if line else path
        super().__init__(f"{where}: {message}")

    def __reduce__(self) -> tuple[type[VcfMalformed], tuple[str, int | None, str]]:
        return type(self), (self.path, self.line, self.message)  # raised in a parser process


class Zygosity(IntEnum):
    """Genotype of one sample relative to the ALT allele of one split row.

    Codes are stored as smallint; their numeric values are part of the database format.
    """

    HOM_REF = 0  # every called allele is REF (ploidy >= 2)
    HET = 1  # this ALT and REF (0/1, 1|0, 0/0/1...)
    HOM_ALT = 2  # every allele is this ALT (ploidy >= 2)
    HEMI_REF = 3  # haploid REF
    HEMI_ALT = 4  # haploid, this ALT
    HET_ALT = 5  # this ALT and another ALT (1/2 seen from the row of allele 1)
    OTHER_ALT = 6  # no copy of this ALT, but another ALT is present (0/2, 2/2 in the row of 1)
    PARTIAL_ALT = 7  # this ALT and a missing allele (./1)
    PARTIAL = 8  # no copy of this ALT, some allele missing (./0, ./2)
    MISSING = 9  # no call at all (./., ., absent GT)


@dataclass(frozen=True, slots=True)
class FieldDef:
    """An INFO or FORMAT header declaration."""

    id: str
    number: str  # "1", "A", "R", "G", ".", "0"...
    type: str  # Integer, Float, Flag, Character, String
    description: str = ""


@dataclass(slots=True)
class Annotation:
    """One transcript (or intergenic) consequence entry attached to one ALT allele."""

    source: str  # "CSQ" (VEP), "ANN" (SnpEff), "BCSQ" (bcftools csq), "EFF" (old SnpEff)
    gene: str | None  # gene symbol
    gene_id: str | None  # Ensembl/Entrez id when given
    feature: str | None  # transcript id
    biotype: str | None
    consequences: list[str]  # SO terms, split on '&' (and '+' for BCSQ)
    impact: str | None  # HIGH, MODERATE, LOW, MODIFIER (from the annotator or the SO table)
    hgvsc: str | None = None
    hgvsp: str | None = None
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)  # every other declared sub-field, non-empty


@dataclass(slots=True)
class VcfHeader:
    path: str
    samples: list[str]
    fileformat: str | None
    header_lines: int  # physical lines of the header, #CHROM line included
    contigs: dict[str, int | None]  # name as written -> declared length
    info: dict[str, FieldDef]
    formats: dict[str, FieldDef]
    filters: dict[str, str]
    assembly: str | None  # "GRCh37" / "GRCh38" when the header says so (reference, contigs)
    annotation_release: str | None  # e.g. "VEP 113 (cache 113, GRCh38)", "SnpEff 4.1g ..."
    annotation_fields: dict[str, list[str]]  # "CSQ"/"ANN"/"BCSQ"/"EFF" -> declared sub-fields
    compression: str  # "plain", "gzip", "bgzf", "bcf"


@dataclass(slots=True)
class CallRow:
    """One ALT allele of one VCF record, with every sample's values for that allele.

    Per-sample lists are aligned with ``VcfHeader.samples``; an empty file-level value is None.
    """

    line: int  # physical line of the record (1-based)
    chrom: str  # contig name mapped to the assembly's convention
    pos: int  # 1-based, after trimming
    ref: str  # upper case, trimmed
    alt: str  # upper case, trimmed; symbolic alleles (<DEL>, breakends) kept as written
    end: int  # last reference base covered (INFO END for symbolic alleles)
    alt_index: int  # 1-based index of this ALT in the original record
    n_alts: int  # number of ALT alleles of the original record (excluding dropped ones)
    qual: float | None
    filters: list[str] | None  # None = FILTER '.', ["PASS"] = passed
    info: dict[str, object]  # INFO for this allele: Number=A/R split, Flag -> True; no annotations
    ac: int  # copies of this ALT among called alleles
    an: int  # called alleles (haploid calls count 1)
    gt: list[str | None]  # GT as written (None when absent)
    zyg: list[int]  # Zygosity codes
    ps: list[int | None]  # phase set
    dp: list[int | None]
    ad_ref: list[int | None]
    ad_alt: list[int | None]
    gq: list[int | None]
    vaf: list[float | None]  # this ALT's depth / total allele depth; None when unknown or 0
    annotations: list[Annotation]  # entries for this ALT only
    # Other FORMAT keys (PL, GL, SB, AO...), typed and split per ALT like ``info``; lists aligned
    # with ``VcfHeader.samples``. Added by the reader: README edge case 04 wants PL per split row.
    format_values: dict[str, list[object]] = field(default_factory=dict)


@dataclass(slots=True)
class _WarningKind:
    count: int = 0
    lines: list[int] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # distinct, the first few
    more: bool = False  # other messages than these were left out

    def say(self, message: str, most: int) -> None:
        if message not in self.messages:
            if len(self.messages) < most:
                self.messages.append(message)
            else:
                self.more = True

    @property
    def message(self) -> str:
        more = "; and other problems of this kind" if self.more else ""
        tail = _shared_tail(self.messages)
        if not tail:
            return "; ".join(self.messages) + more
        # The explanation they share said once: 'INFO A=x; INFO B=y: kept as written (...)'
        heads = [m[: len(m) - len(tail)] for m in self.messages]
        return "; ".join(heads) + more + tail


def _shared_tail(messages: list[str]) -> str:
    """The end that several messages share, from a ': ' on (their common explanation)."""
    if len(messages) < 2:
        return ""
    size = min(len(m) for m in messages)
    while size and len({m[len(m) - size :] for m in messages}) > 1:
        size -= 1
    common = messages[0][len(messages[0]) - size :] if size else ""
    at = common.find(": ")
    return common[at:] if at >= 0 and len(common) - at > 20 else ""


class ImportWarnings:
    """Warnings grouped by kind, with a count and the first few lines of each kind."""

    KEEP_LINES = 5
    KEEP_MESSAGES = 4  # one kind's different messages (each header line says its own problem)

    def __init__(self) -> None:
        self._kinds: dict[str, _WarningKind] = {}
        self._once: set[tuple[str, str]] = set()
        self._once_new: set[tuple[str, str]] = set()  # since the last drain

    def add(self, kind: str, line: int | None, message: str, *, once: bool = False) -> None:
        """Count one warning; with ``once``, the same kind and message count only once."""
        if once:
            if (kind, message) in self._once:
                return
            self._once.add((kind, message))
            self._once_new.add((kind, message))
        entry = self._kinds.setdefault(kind, _WarningKind())
        # A NUL quoted from the file: the database refuses it in the stored warnings (the
        # import once failed on the warning about a value holding one).
        entry.say(message.replace("\x00", "\ufffd"), self.KEEP_MESSAGES)
        entry.count += 1
        if line is not None and len(entry.lines) < self.KEEP_LINES:
            entry.lines.append(line)

    def drain(self) -> ImportWarnings:
        """The warnings counted so far, leaving this collection empty (``once`` keys stay
        here; the drained part carries those first counted in it)."""
        taken = ImportWarnings()
        taken._kinds, taken._once = self._kinds, self._once_new
        self._kinds, self._once_new = {}, set()
        return taken

    def merge(self, other: ImportWarnings) -> None:
        """Add warnings counted elsewhere (another parser process) after the ones here: a
        ``once`` warning that another process counted first is not counted again."""
        repeated = Counter(kind for kind, message in other._once if (kind, message) in self._once)
        self._once |= other._once
        self._once_new |= other._once
        for kind, theirs in other._kinds.items():
            count = theirs.count - repeated[kind]
            if count <= 0:
                continue
            entry = self._kinds.setdefault(kind, _WarningKind())
            for message in theirs.messages:
                entry.say(message, self.KEEP_MESSAGES)
            entry.more = entry.more or theirs.more
            entry.count += count
            entry.lines.extend(theirs.lines[: self.KEEP_LINES - len(entry.lines)])

    def count(self, kind: str) -> int:
        entry = self._kinds.get(kind)
        return entry.count if entry else 0

    def as_list(self) -> list[dict[str, object]]:
        return [
            {"kind": kind, "count": e.count, "lines": list(e.lines), "message": e.message}
            for kind, e in sorted(self._kinds.items())
        ]

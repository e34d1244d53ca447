"""Reading the VCF header (``##`` lines and the ``#CHROM`` line) into a :class:`VcfHeader`.

Everything that would make a record ambiguous (missing ``#CHROM`` line, unexpected fixed
columns, duplicate sample names that would shift genotypes between patients) is rejected here,
before a single row reaches the database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from regovar.adapters.vcf.contigs import detect_assembly
from regovar.adapters.vcf.meta import LAYOUT_PARSERS, annotation_release, parse_structured
from regovar.adapters.vcf.model import FieldDef, ImportWarnings, VcfHeader, VcfMalformed

FIXED_COLUMNS = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]
ANNOTATION_KEYS = ("CSQ", "ANN", "EFF", "BCSQ")
DEFAULT_LAYOUTS = {
    "ANN": [
        "Allele",
        "Annotation",
        "Annotation_Impact",
        "Gene_Name",
        "Gene_ID",
        "Feature_Type",
        "Feature_ID",
        "Transcript_BioType",
        "Rank",
        "HGVS.c",
        "HGVS.p",
        "cDNA.pos / cDNA.length",
        "CDS.pos / CDS.length",
        "AA.pos / AA.length",
        "Distance",
        "ERRORS / WARNINGS / INFO",
    ],
    "EFF": [
        "Effect",
        "Effect_Impact",
        "Functional_Class",
        "Codon_Change",
        "Amino_Acid_Change",
        "Amino_Acid_Length",
        "Gene_Name",
        "Transcript_BioType",
        "Gene_Coding",
        "Transcript_ID",
        "Exon_Rank",
        "Genotype_Number",
        "ERRORS",
        "WARNINGS",
    ],
    "BCSQ": [
        "consequence",
        "gene",
        "transcript",
        "biotype",
        "strand",
        "amino_acid_change",
        "dna_change",
    ],
}


_META_KEY = re.compile(r"[^\s=]+")  # real keys hold "+" and "/" (GERP++_RS, bcftools/csq)
_NUMBER = re.compile(r"[0-9]+|[ARG.]")
_TYPES = ("Integer", "Float", "Flag", "Character", "String")


class _HeaderBuilder:
    def __init__(self, path: str, warnings: ImportWarnings) -> None:
        self.path = path
        self.warnings = warnings
        self.meta: dict[str, list[str]] = {}
        self.info: dict[str, FieldDef] = {}
        self.formats: dict[str, FieldDef] = {}
        self.filters: dict[str, str] = {}
        self.contigs: dict[str, int | None] = {}
        self.assembly_texts: list[str] = []
        self.fileformat: str | None = None

    def add(self, line: str, lineno: int | None = None) -> None:
        key, eq, value = line[2:].partition("=")
        self.meta.setdefault(key, []).append(value)
        if key == "fileformat":
            self.fileformat = self.fileformat or value.strip()
        elif key in ("reference", "assembly"):
            self.assembly_texts.append(value)
        elif key in ("INFO", "FORMAT", "FILTER", "contig"):
            attrs = parse_structured(value)
            if attrs is None or not attrs.get("ID"):
                self.warnings.add("bad_meta_line", lineno, f"unreadable ##{key} line ignored")
                return
            self._add_structured(key, attrs, lineno)
        elif not eq or not _META_KEY.fullmatch(key):
            self.warnings.add("bad_meta_line", lineno, "a '##' line that is not KEY=VALUE ignored")

    def _add_structured(self, key: str, attrs: dict[str, str], lineno: int | None) -> None:
        ident = attrs["ID"]
        if key == "contig":
            length = attrs.get("length", "")
            known = int(length) if length.isascii() and length.isdigit() else None
            if length and known is None:
                self.warnings.add("bad_meta_line", lineno, f"##contig {ident}: length {length!r} "
                                  "is not a number of bases; ignored")  # fmt: skip
            before = self.contigs.get(ident)
            if ident in self.contigs and before != known and None not in (before, known):
                self.warnings.add("bad_meta_line", lineno, f"##contig {ident} declared again "
                                  f"with length {known} (was {before}); the first kept",
                                  )  # fmt: skip
                return
            if before is None:
                self.contigs[ident] = known
            if "assembly" in attrs:
                self.assembly_texts.append(attrs["assembly"])
        elif key == "FILTER":
            self.filters[ident] = attrs.get("Description", "")
        else:
            number, kind = attrs.get("Number", "."), attrs.get("Type", "String")
            if not _NUMBER.fullmatch(number):
                self.warnings.add("bad_meta_line", lineno, f"##{key} {ident}: Number={number} "
                                  "is not a count, A, R, G or '.'; read as '.'")  # fmt: skip
                number = "."
            if kind not in _TYPES:
                self.warnings.add("bad_meta_line", lineno, f"##{key} {ident}: Type={kind} is "
                                  "not Integer, Float, Flag, Character or String; read as "
                                  "String")  # fmt: skip
                kind = "String"
            fd = FieldDef(ident, number, kind, attrs.get("Description", ""))
            (self.info if key == "INFO" else self.formats)[ident] = fd

    def annotation_fields(self) -> dict[str, list[str]]:
        layouts: dict[str, list[str]] = {}
        for key in ANNOTATION_KEYS:
            fd = self.info.get(key)
            if fd is None:
                continue
            layout = LAYOUT_PARSERS[key](fd.description) or DEFAULT_LAYOUTS.get(key)
            if layout:
                layouts[key] = layout
            else:
                self.warnings.add(
                    "annotation_layout",
                    None,
                    f"INFO/{key} declares no sub-field layout; it is not parsed",
                )
        return layouts


def read_header(
    path: str, lines: Iterable[str], compression: str, warnings: ImportWarnings
) -> VcfHeader:
    """Consume header lines up to and including ``#CHROM`` (records are left in ``lines``)."""
    builder = _HeaderBuilder(path, warnings)
    lineno = 0
    samples: list[str] | None = None
    for line in lines:
        lineno += 1
        if lineno == 1 and line.startswith("\ufeff"):
            line = line[1:]
        if lineno == 1 and "\r" in line:  # CR-only endings: the whole file reads as one line
            raise VcfMalformed(path, 1, "lines end with a carriage return alone (old Mac "
                               "line endings), not a line feed: convert the file, e.g. "
                               "tr '\\r' '\\n' < in.vcf > out.vcf")  # fmt: skip
        if lineno == 1 and line.count("\x00") > len(line) // 3:  # every other byte: UTF-16
            raise VcfMalformed(path, 1, "the file is UTF-16 (or UTF-32) text, not UTF-8 nor "
                               "ASCII: convert it, e.g. iconv -f UTF-16 -t UTF-8 in.vcf > "
                               "out.vcf")  # fmt: skip
        if "\x00" in line:  # as in records; the database takes no NUL in text or JSON
            line = line.replace("\x00", "\ufffd")
        if "\ufffd" in line:
            warnings.add("not_utf8", lineno, "bytes that are not UTF-8 (Latin-1?) or NUL "
                         "were read as \ufffd (U+FFFD)")  # fmt: skip
        if line.startswith("##"):
            builder.add(line, lineno)
        elif line.startswith("#"):
            samples = sample_names(path, line, lineno)
            break
        elif line.strip():
            raise VcfMalformed(path, lineno, "data line before the #CHROM header line")
    if samples is None:
        raise VcfMalformed(path, lineno or None, "no #CHROM header line (is this a VCF file?)")
    if builder.fileformat is None:
        warnings.add("no_fileformat", 1, "no ##fileformat line; read as VCF 4.2")
    end = builder.info.get("END")
    if end is not None and (end.number, end.type) != ("1", "Integer"):
        warnings.add("reserved_field", None, f"INFO END is declared Number={end.number} "
                     f"Type={end.type}; its value is read as the VCF specification reserves "
                     "it, one integer")  # fmt: skip
    return VcfHeader(
        path=path,
        samples=samples,
        fileformat=builder.fileformat,
        header_lines=lineno,
        contigs=builder.contigs,
        info=builder.info,
        formats=builder.formats,
        filters=builder.filters,
        assembly=detect_assembly(builder.assembly_texts, builder.contigs, warnings),
        annotation_release=annotation_release(builder.meta),
        annotation_fields=builder.annotation_fields(),
        compression=compression,
    )


def sample_names(path: str, line: str, lineno: int) -> list[str]:
    """Check the ``#CHROM`` line and return the sample names."""
    columns = line.rstrip("\t").split("\t")  # a stray trailing tab is not a sample
    if columns[:8] != FIXED_COLUMNS:
        hint = " (columns must be separated by tabs)" if len(columns) < 8 else ""
        raise VcfMalformed(
            path,
            lineno,
            "wrong fixed columns in the #CHROM line: expected "
            f"{' '.join(FIXED_COLUMNS)}, found {' '.join(columns[:9])}{hint}",
        )
    if len(columns) > 8 and columns[8] != "FORMAT":
        raise VcfMalformed(
            path, lineno, f"column 9 of the #CHROM line must be FORMAT, found {columns[8]!r}"
        )
    samples = columns[9:]
    seen: dict[str, tuple[int, str]] = {}
    for col, name in enumerate(samples, start=10):
        if not name.strip():
            raise VcfMalformed(path, lineno, f"empty sample name in column {col}")
        key = looks(name)
        if key in seen:
            first, other = seen[key]
            how = f"{name!r}" if other == name else (
                f"{other!a} and {name!a} look the same ({LOOK_ALIKE})")  # fmt: skip
            raise VcfMalformed(path, lineno, f"duplicate sample name {how} in columns "
                               f"{first} and {col}")  # fmt: skip
        seen[key] = (col, name)
    return samples


LOOK_ALIKE = "they differ only by spaces, invisible characters or the Unicode form of a letter"


def looks(name: str) -> str:
    """How a sample name reads on screen: two that read alike name one patient twice. Unicode
    compatibility forms fold (NFKC: a no-break space is a space), characters that show nothing
    go (Unicode's default-ignorable ones: zero-width spaces, joiners, variation selectors,
    Hangul fillers...; format characters; the blank braille pattern), and runs of spaces count
    as one."""
    shown = unicodedata.normalize("NFKC", name)
    kept = "".join(c for c in shown if not _invisible(c))
    return " ".join(kept.split())


# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties), and U+2800 BRAILLE PATTERN BLANK
_INVISIBLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x2800, 0x2800),
    (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)


def _invisible(c: str) -> bool:
    if c.isascii():
        return False
    code = ord(c)
    return unicodedata.category(c) == "Cf" or any(lo <= code <= hi for lo, hi in _INVISIBLE)

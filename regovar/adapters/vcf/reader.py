"""Public entry point: ``open_vcf(path)`` -> :class:`VcfReader` streaming :class:`CallRow`.

The header is read (and validated) when the file is opened, so a malformed header is reported
before the importer starts writing; records are then streamed with bounded memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from regovar.adapters.vcf.bcf import BcfDecoder
from regovar.adapters.vcf.contigs import canonical_assembly
from regovar.adapters.vcf.header import read_header
from regovar.adapters.vcf.io import ByteStream, iter_text_lines
from regovar.adapters.vcf.model import CallRow, ImportWarnings, VcfHeader, VcfMalformed
from regovar.adapters.vcf.normalise import ReferenceGenome
from regovar.adapters.vcf.records import RecordParser
from regovar.adapters.vcf.siblings import locus, with_siblings

if TYPE_CHECKING:
    from regovar.adapters.vcf.columnar import ColumnarParser

Record = tuple[int, "str | list[str]"]  # (line number, text line or BCF columns)


_OTHER_COMPRESSIONS = ((b"BZh", "bzip2"), (b"\xfd7zX", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"))


@dataclass(frozen=True)
class ColumnarPlan:
    """What the columnar parser of one file is made of: sent to the parser processes, which
    build the parser (and load polars); the reading process never loads polars."""

    header: VcfHeader
    assembly: str
    sample_filters: bool = False  # FORMAT FT is stored: records with FT go to the general parser
    snvs_only: bool = False  # indels are left-aligned with a reference (general parser)

    def build(self) -> ColumnarParser:
        from regovar.adapters.vcf.columnar import ColumnarParser

        return ColumnarParser(
            self.header, self.assembly, sample_filters=self.sample_filters,
            snvs_only=self.snvs_only,
        )  # fmt: skip


class ChunkParser:
    """Parses chunks of records of one file into rows, with its own warnings.

    Built in the reading process and sent to parser processes: it carries only the header and
    the assembly; the parsing state is made where it runs.
    """

    def __init__(
        self,
        header: VcfHeader,
        assembly: str,
        warnings: ImportWarnings | None = None,
        reference: ReferenceGenome | None = None,
    ) -> None:
        self.header, self.assembly, self.reference = header, assembly, reference
        self.warnings = warnings if warnings is not None else ImportWarnings()
        self._parser: RecordParser | None = None
        self._max_split = 9 if header.samples else -1  # samples stay one string (see parse)

    def __getstate__(self) -> dict[str, object]:
        return {"header": self.header, "assembly": self.assembly, "reference": self.reference}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["header"], state["assembly"], reference=state["reference"])  # type: ignore[misc]

    def parse(self, chunk: Iterable[Record]) -> Iterator[CallRow]:
        """The rows of the records, in order (a record gives zero, one or several rows).

        Records of one position are parsed together (see siblings.py); a chunk never ends
        inside such a run (``VcfReader.record_chunks``)."""
        if self._parser is None:
            self._parser = RecordParser(self.header, self.assembly, self.warnings, self.reference)
        parse, max_split = self._parser.parse, self._max_split
        rowless, depths = self._parser.rowless_carriers, self._parser.rowless_depths
        group: list[CallRow] = []
        at: object = None
        for line, record in chunk:
            if isinstance(record, str) and "\x00" in record:  # (the columnar parser leaves these)
                self.warnings.add("nul_byte", line, "a NUL byte was read as U+FFFD")
            fields = record if isinstance(record, list) else record.split("\t", max_split)
            here = (fields[0], fields[1]) if len(fields) > 1 else None
            if here != at:
                if group:
                    yield from with_siblings(group, frozenset(rowless), depths)
                    group = []
                rowless.clear()
                depths.clear()
            at = here
            group.extend(parse(fields, line))
        if group:
            yield from with_siblings(group, frozenset(rowless), depths)
        rowless.clear()
        depths.clear()


def open_vcf(
    path: str | Path,
    *,
    assembly: str | None = None,
    default_assembly: str = "GRCh37",
    warnings: ImportWarnings | None = None,
    require_samples: bool = False,
    reference: ReferenceGenome | None = None,
) -> VcfReader:
    """Open a VCF (plain, gzip, BGZF) or BCF file and read its header.

    ``assembly`` forces the genome build; otherwise the header decides and ``default_assembly``
    is the fallback (recorded as warning ``assembly_assumed``). ``require_samples`` rejects
    sites-only files for per-sample imports. ``reference`` enables indel left-alignment.
    """
    return VcfReader(
        path,
        assembly=assembly,
        default_assembly=default_assembly,
        warnings=warnings,
        require_samples=require_samples,
        reference=reference,
    )


class VcfReader:
    """A VCF/BCF being read; use as a context manager so the file is always closed."""

    header: VcfHeader
    assembly: str
    warnings: ImportWarnings
    total_bytes: int

    def __init__(
        self,
        path: str | Path,
        *,
        assembly: str | None = None,
        default_assembly: str = "GRCh37",
        warnings: ImportWarnings | None = None,
        require_samples: bool = False,
        reference: ReferenceGenome | None = None,
    ) -> None:
        self.path = str(path)
        self.warnings = warnings if warnings is not None else ImportWarnings()
        self._stream = ByteStream(path)
        self.total_bytes = self._stream.total_bytes
        self._bcf: BcfDecoder | None = None
        self._lines: Iterator[str] = iter(())
        self._started = False
        try:
            self._open(require_samples)
            if self.may_be_cut_short:
                self.warnings.add("bgzf_no_eof", None, "the BGZF end-of-file block is missing: "
                                  "the file may be cut short (compressed again, or copied "
                                  "whole, it would have one)")  # fmt: skip
            self.assembly = self._resolve_assembly(assembly, default_assembly)
            self._records = ChunkParser(self.header, self.assembly, self.warnings, reference)
        except BaseException:
            self.close()
            raise

    @property
    def may_be_cut_short(self) -> bool:
        """A BGZF file without its end-of-file block (said; errors mention it)."""
        return self._stream.eof_missing

    def _open(self, require_samples: bool) -> None:
        magic = self._stream.peek(4)
        if magic in (b"BAM\x01", b"CRAM"):
            kind = "BAM" if magic.startswith(b"BAM") else "CRAM"
            raise VcfMalformed(self.path, None, f"this is a {kind} alignment file, not a VCF")
        for prefix, kind in _OTHER_COMPRESSIONS:
            if magic.startswith(prefix):
                raise VcfMalformed(self.path, None, f"this file is compressed with {kind}, which "
                                   "Regovar does not read: decompress it, or compress it with "
                                   "bgzip or gzip")  # fmt: skip
        if magic[:3] == b"BCF":
            self._bcf = BcfDecoder(self._stream, self.path)
            header_lines = iter(self._bcf.header_text.split("\n"))
            self.header = read_header(self.path, header_lines, "bcf", self.warnings)
            self._bcf.set_header(self.header, self._bcf.header_text)
        else:
            self._lines = iter_text_lines(self._stream.chunks())
            self.header = read_header(
                self.path, self._lines, self._stream.compression, self.warnings
            )
        if require_samples and not self.header.samples:
            raise VcfMalformed(
                self.path,
                self.header.header_lines,
                "VCF has no sample columns (sites-only file): nothing to import "
                "for a per-sample case",
            )

    def _resolve_assembly(self, explicit: str | None, default: str) -> str:
        declared = self.header.assembly
        if explicit:
            chosen = canonical_assembly(explicit)
            if declared and declared != chosen:
                self.warnings.add(
                    "assembly_mismatch", None, f"header says {declared} but {chosen} was requested"
                )
            return chosen
        if declared:
            return declared
        chosen = canonical_assembly(default)
        self.warnings.add(
            "assembly_assumed", None, f"header does not name the assembly; assumed {chosen}"
        )
        return chosen

    def rows(self) -> Iterator[CallRow]:
        """Every CallRow of the file, in file order; can be iterated once."""
        return self._records.parse(self.records())

    def records(self) -> Iterator[Record]:
        """(line number, record) in file order, not parsed yet: a text line, or the columns of
        a BCF record. :class:`ChunkParser` turns them into rows, in this process or another."""
        if self._started:
            raise RuntimeError("a VcfReader can only be iterated once")
        self._started = True
        if self._bcf is not None:
            for fields, number in self._bcf.records():
                yield number, fields
            return
        line = self.header.header_lines
        for text in self._lines:
            line += 1
            if text and text[0] != "#":
                if "\ufffd" in text:  # (free for ASCII lines: no such character can be there)
                    self.warnings.add("not_utf8", line, "bytes that are not UTF-8 (Latin-1?) "
                                      "were read as \ufffd (U+FFFD)")  # fmt: skip
                yield line, text
            elif text.startswith("#CHROM"):  # another file's header: its columns may differ
                raise VcfMalformed(self.path, line, "a second #CHROM header line: two VCF files "
                                   "joined together? Their samples may be in another order: "
                                   "import each file on its own")  # fmt: skip
            elif text:
                self.warnings.add("comment_in_body", line, "'#' line after the header ignored")

    def record_chunks(
        self, size: int, ramp: int = 0, max_bytes: int = 0
    ) -> Iterator[list[Record]]:
        """The records in lists of about ``size``, for parsing in parallel; records of one
        position stay in one list (they are read together). With ``ramp``, the first ``ramp``
        lists are smaller (a quarter, a half...): the database gets its first rows sooner.
        With ``max_bytes``, a list also ends once its records hold that much text: parsing
        takes memory in proportion to the text, and a VEP record with every transcript and
        field can be a hundred times as long as a plain one."""
        chunk: list[Record] = []
        wanted, held = max(size >> ramp, 1), 0
        for record in self.records():
            full = len(chunk) >= wanted or (max_bytes and held >= max_bytes)
            if full and locus(record[1]) != locus(chunk[-1][1]):
                yield chunk
                chunk, held = [], 0
                wanted = min(wanted * 2, size)
            chunk.append(record)
            text = record[1]
            held += len(text) if isinstance(text, str) else sum(map(len, text))
        if chunk:
            yield chunk

    def chunk_parser(self) -> ChunkParser:
        """A parser of this file's record chunks with warnings of its own; picklable, so that
        it can run in another process."""
        return ChunkParser(self.header, self.assembly, reference=self._records.reference)

    def columnar_plan(self, sample_filters: bool) -> ColumnarPlan | None:
        """The vectorised parser of this file's ordinary records (text VCF only), to build
        where it runs; with ``sample_filters``, records with FORMAT FT are left to the general
        parser."""
        if self._bcf is not None or not self.header.samples:
            return None
        return ColumnarPlan(
            self.header,
            self.assembly,
            sample_filters=sample_filters,
            snvs_only=self._records.reference is not None,
        )

    def bytes_read(self) -> int:
        """Compressed bytes consumed so far (compare with ``total_bytes`` for progress)."""
        return self._stream.bytes_read

    def sha256(self) -> str:
        """The SHA-256 of the bytes read so far (of the whole file once it is read)."""
        return self._stream.sha256()

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> VcfReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

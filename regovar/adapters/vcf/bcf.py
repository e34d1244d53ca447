"""BCF 2.x decoding in pure Python (no htslib on a hospital server by default).

Each binary record is rendered back to the ten-plus VCF column strings that ``bcftools view``
would print, then goes through the same record parser as text VCF: one code path for
normalisation, splitting and genotype logic, hence identical rows for the two encodings.
Floats are printed as the shortest decimal that maps back to the same float32, which is the
text the VCF held before it was converted to BCF.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator

from regovar.adapters.vcf.io import ByteStream
from regovar.adapters.vcf.meta import parse_structured
from regovar.adapters.vcf.model import VcfHeader, VcfMalformed

_INT8, _INT16, _INT32, _FLOAT, _CHAR = 1, 2, 3, 5, 7
_WIDTH = {0: 0, _INT8: 1, _INT16: 2, _INT32: 4, _FLOAT: 4, _CHAR: 1}
_CODE = {_INT8: "b", _INT16: "h", _INT32: "i", _FLOAT: "I"}  # floats decoded from their bits
_MISSING = {_INT8: -128, _INT16: -32768, _INT32: -(2**31)}
_END = {_INT8: -127, _INT16: -32767, _INT32: -(2**31) + 1}
_FLOAT_MISSING, _FLOAT_END = 0x7F800001, 0x7F800002
_FLOAT_CACHE: dict[int, str] = {}


def float_text(bits: int) -> str:
    """Shortest decimal text that reads back as the same float32 ('.' for the missing value)."""
    cached = _FLOAT_CACHE.get(bits)
    if cached is not None:
        return cached
    if bits == _FLOAT_MISSING:
        return "."
    value = struct.unpack("<f", struct.pack("<I", bits))[0]
    if math.isnan(value) or math.isinf(value):
        text = str(value)
    else:
        for digits in range(1, 10):
            text = f"{value:.{digits}g}"
            if struct.unpack("<f", struct.pack("<f", float(text)))[0] == value:
                break
    if len(_FLOAT_CACHE) < 100_000:
        _FLOAT_CACHE[bits] = text
    return text


class BcfDecoder:
    def __init__(self, stream: ByteStream, path: str) -> None:
        self.stream = stream
        self.path = path
        magic = stream.read(5)
        if magic[:3] != b"BCF" or magic[3:4] != b"\x02":
            raise VcfMalformed(path, None, f"unsupported BCF version {magic[3:5]!r}")
        (l_text,) = struct.unpack("<I", self._exact(4))
        self.header_text = self._exact(l_text).rstrip(b"\x00").decode("utf-8", "replace")
        self.strings: dict[int, str] = {}
        self.contigs: dict[int, str] = {}
        self.flags: set[str] = set()
        self.header_lines = 0
        self.n_samples = 0

    def _exact(self, size: int) -> bytes:
        data = self.stream.read(size)
        if len(data) != size:
            raise VcfMalformed(self.path, None, "truncated BCF file")
        return data

    def set_header(self, header: VcfHeader, text: str) -> None:
        """Rebuild the IDX dictionaries (BCF 2.2: explicit IDX= wins, else order of appearance)."""
        self.header_lines = header.header_lines
        self.n_samples = len(header.samples)
        self.flags = {k for k, fd in header.info.items() if fd.type == "Flag"}
        self.strings = {0: "PASS"}
        index_of = {"PASS": 0}
        next_string = 1
        next_contig = 0
        for line in text.split("\n"):
            key, _, value = line[2:].partition("=")
            if not line.startswith("##") or key not in ("FILTER", "INFO", "FORMAT", "contig"):
                continue
            attrs = parse_structured(value) or {}
            ident, idx = attrs.get("ID"), attrs.get("IDX", "")
            if not ident:
                continue
            if key == "contig":
                at = int(idx) if idx.isdigit() else next_contig
                self.contigs[at] = ident
                next_contig = max(next_contig, at + 1)
                continue
            if idx.isdigit():
                at = int(idx)
            elif ident in index_of:
                continue
            else:
                at = next_string
            self.strings[at] = ident
            index_of[ident] = at
            next_string = max(next_string, at + 1)

    def records(self) -> Iterator[tuple[list[str], int]]:
        """(VCF columns, line number as ``bcftools view`` would print it) for each record."""
        line = self.header_lines
        while True:
            head = self.stream.read(8)
            if not head:
                return
            if len(head) < 8:
                raise VcfMalformed(self.path, line + 1, "truncated BCF record")
            l_shared, l_indiv = struct.unpack("<II", head)
            body = self._exact(l_shared + l_indiv)
            line += 1
            try:
                yield self._record(memoryview(body), l_shared), line
            except (struct.error, KeyError, IndexError) as exc:
                raise VcfMalformed(self.path, line, "corrupt BCF record: its values do not fit "
                                   "its length or the header's entries") from exc  # fmt: skip

    def _record(self, buf: memoryview, l_shared: int) -> list[str]:
        chrom, pos, _rlen, qual_bits, n_ai, n_fs = struct.unpack_from("<iiiIII", buf, 0)
        n_info, n_allele = n_ai & 0xFFFF, n_ai >> 16
        n_sample, n_fmt = n_fs & 0xFFFFFF, n_fs >> 24
        off = 24
        ident, off = self._string(buf, off)
        alleles = []
        for _ in range(n_allele):
            allele, off = self._string(buf, off)
            alleles.append(allele)
        filters, off = self._values(buf, off)
        info_items = []
        for _ in range(n_info):
            keys, off = self._values(buf, off)
            key = self.strings[int(keys[0])]
            kind, count, off = self._type(buf, off)
            text, off = self._info_value(key, buf, off, kind, count)
            info_items.append(text)
        fields = [
            self.contigs[chrom],
            str(pos + 1),
            ident or ".",
            alleles[0] if alleles else ".",
            ",".join(alleles[1:]) or ".",
            float_text(qual_bits),
            ";".join(self.strings[int(f)] for f in filters) if filters else ".",
            ";".join(info_items) or ".",
        ]
        if self.n_samples:
            fields.extend(self._samples(buf, l_shared, n_fmt, n_sample))
        return fields

    def _samples(self, buf: memoryview, off: int, n_fmt: int, n_sample: int) -> list[str]:
        keys: list[str] = []
        columns: list[list[str]] = []
        for _ in range(n_fmt):
            key_vals, off = self._values(buf, off)
            key = self.strings[int(key_vals[0])]
            kind, count, off = self._type(buf, off)
            keys.append(key)
            columns.append(_sample_texts(key, buf, off, kind, count, n_sample))
            off += _WIDTH[kind] * count * n_sample
        fmt = ":".join(keys) or "."
        samples = [":".join(col[s] for col in columns) or "." for s in range(n_sample)]
        return [fmt, "\t".join(samples)]  # the record parser takes the samples tab-joined

    def _info_value(
        self, key: str, buf: memoryview, off: int, kind: int, count: int
    ) -> tuple[str, int]:
        if key in self.flags or count == 0 or kind == 0:
            return key, off + _WIDTH[kind] * count
        if kind == _CHAR:
            raw = bytes(buf[off : off + count]).rstrip(b"\x00").decode("utf-8", "replace")
            return f"{key}={raw or '.'}", off + count
        values = _unpacker(kind, count).unpack_from(buf, off)
        return f"{key}={_join(values, kind)}", off + _WIDTH[kind] * count

    def _type(self, buf: memoryview, off: int) -> tuple[int, int, int]:
        byte = buf[off]
        kind, count = byte & 0x0F, byte >> 4
        off += 1
        if count == 15:
            counts, off = self._values(buf, off)
            count = int(counts[0])
        return kind, count, off

    def _values(self, buf: memoryview, off: int) -> tuple[tuple[int, ...], int]:
        kind, count, off = self._type(buf, off)
        if kind == 0 or count == 0:
            return (), off
        values = _unpacker(kind, count).unpack_from(buf, off)
        return values, off + _WIDTH[kind] * count

    def _string(self, buf: memoryview, off: int) -> tuple[str, int]:
        kind, count, off = self._type(buf, off)
        text = bytes(buf[off : off + count * _WIDTH[kind]]).rstrip(b"\x00")
        return text.decode("utf-8", "replace"), off + count * _WIDTH[kind]


def _sample_texts(
    key: str, buf: memoryview, off: int, kind: int, count: int, n_sample: int
) -> list[str]:
    """One FORMAT key for all samples: one unpack for the whole block, then per-sample text."""
    if kind == 0 or count == 0:
        return ["."] * n_sample
    if kind == _CHAR:
        return [
            bytes(buf[off + s * count : off + (s + 1) * count])
            .rstrip(b"\x00")
            .decode("utf-8", "replace")
            or "."
            for s in range(n_sample)
        ]
    values = _unpacker(kind, count * n_sample).unpack_from(buf, off)
    if count == 1 and kind != _FLOAT and key != "GT":
        missing = _MISSING[kind]
        return ["." if v == missing else str(v) for v in values]
    chunks = [values[i : i + count] for i in range(0, len(values), count)]
    if key == "GT":
        return [_GENOTYPES.get(c) or _genotype(c, kind) for c in chunks]
    return [_join(c, kind) for c in chunks]


_UNPACKERS: dict[tuple[int, int], struct.Struct] = {}


def _unpacker(kind: int, count: int) -> struct.Struct:
    unpacker = _UNPACKERS.get((kind, count))
    if unpacker is None:
        unpacker = struct.Struct(f"<{count}{_CODE[kind]}")
        if len(_UNPACKERS) < 4096:
            _UNPACKERS[kind, count] = unpacker
    return unpacker


def _join(values: tuple[int, ...], kind: int) -> str:
    if kind == _FLOAT:
        items = [float_text(v) for v in values if v != _FLOAT_END]
    else:
        end, missing = _END[kind], _MISSING[kind]
        if values and min(values) > end:  # no missing value, no end-of-vector padding
            return ",".join(map(str, values))
        items = ["." if v == missing else str(v) for v in values if v != end]
    return ",".join(items) if items else "."


_GENOTYPES: dict[tuple[int, ...], str] = {}


def _genotype(values: tuple[int, ...], kind: int) -> str:
    """BCF GT: (allele + 1) << 1 | phased, 0 for a missing allele; memoised per value tuple."""
    end = _END[kind]
    parts: list[str] = []
    for i, v in enumerate(values):
        if v == end:
            break
        allele = "." if v >> 1 == 0 else str((v >> 1) - 1)
        if i:
            parts.append("|" if v & 1 else "/")
        parts.append(allele)
    text = "".join(parts) or "."
    if len(_GENOTYPES) < 10_000:
        _GENOTYPES[values] = text
    return text

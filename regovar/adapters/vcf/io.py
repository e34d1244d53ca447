"""Byte-level input: compression sniffing and streaming decompression.

Sequencer drop folders contain ``.vcf.gz`` files written by bgzip, by plain ``gzip`` and by tools
that name files arbitrarily, so the format is decided from the magic bytes, never the name. Input
may be a pipe or a network share, hence nothing here seeks: the raw file is read forward in
chunks and every gzip member (a BGZF block is one) is inflated in turn with a bounded output size.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from regovar.adapters.vcf.model import VcfMalformed

RAW_CHUNK = 1 << 18  # compressed bytes read at a time
MAX_INFLATE = 4 << 20  # decompressed bytes produced per zlib call, bounds memory
_GZIP_MAGIC = b"\x1f\x8b"
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


class ByteStream:
    """Decompressed content of a file, readable as chunks or as exact-size reads (for BCF)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._raw: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by close()
        try:
            self.total_bytes = os.fstat(self._raw.fileno()).st_size
        except OSError:
            self.total_bytes = 0
        self.bytes_read = 0
        self._digest = hashlib.sha256()  # of the bytes read: the file registered, unchanged?
        head = self._read_raw(RAW_CHUNK)
        self.compression = _sniff_compression(head)
        # BGZF ends with an empty block: without it the file may be cut between two blocks,
        # which inflates cleanly (a partial file imported without a word).
        self.eof_missing = self.compression == "bgzf" and self._tail(len(BGZF_EOF)) != BGZF_EOF
        self._chunks = self._plain(head) if self.compression == "plain" else self._inflate(head)
        self._buf = b""
        self._off = 0

    def _tail(self, size: int) -> bytes:
        try:
            return os.pread(self._raw.fileno(), size, max(self.total_bytes - size, 0))
        except OSError:
            return b""

    def _read_raw(self, size: int) -> bytes:
        data = self._raw.read(size)
        self.bytes_read += len(data)
        self._digest.update(data)
        return data

    def sha256(self) -> str:
        """The SHA-256 of the (compressed) bytes read so far: of the whole file at its end."""
        return self._digest.hexdigest()

    def _plain(self, head: bytes) -> Iterator[bytes]:
        data = head
        while data:
            yield data
            data = self._read_raw(RAW_CHUNK)

    def _inflate(self, head: bytes) -> Iterator[bytes]:
        """Inflate gzip members one after the other (BGZF = many members, gzip = usually one)."""
        data = head
        while data:
            inflater = zlib.decompressobj(wbits=31)
            while not inflater.eof:
                if not data:
                    data = self._read_raw(RAW_CHUNK)
                    if not data:
                        yield from self._finish(inflater)
                        break
                try:
                    out = inflater.decompress(data, MAX_INFLATE)
                except zlib.error as exc:
                    raise VcfMalformed(self.path, None, f"corrupt gzip data: {exc}") from exc
                data = inflater.unconsumed_tail
                if out:
                    yield out
            data = inflater.unused_data or self._read_raw(RAW_CHUNK)
            if data and not data.startswith(_GZIP_MAGIC[: len(data)]):
                if data.strip(b"\x00"):
                    raise VcfMalformed(self.path, None, "unexpected bytes after the gzip data")
                return

    def _finish(self, inflater: zlib._Decompress) -> Iterator[bytes]:
        """Drain output held back by MAX_INFLATE once the raw input is exhausted."""
        out = inflater.flush()
        if out:
            yield out
        if not inflater.eof:
            raise VcfMalformed(self.path, None, "truncated gzip stream (file cut short?)")

    def chunks(self) -> Iterator[bytes]:
        """Remaining decompressed content, in chunks of arbitrary size."""
        if self._off < len(self._buf):
            rest, self._buf, self._off = self._buf[self._off :], b"", 0
            yield rest
        yield from self._chunks

    def read(self, size: int) -> bytes:
        """Exactly ``size`` bytes, or fewer only at end of input."""
        end = self._off + size
        if end <= len(self._buf):
            data = self._buf[self._off : end]
            self._off = end
            return data
        parts = [self._buf[self._off :]]
        have = len(parts[0])
        while have < size:
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            parts.append(chunk)
            have += len(chunk)
        self._buf = b"".join(parts)
        self._off = min(size, len(self._buf))
        return self._buf[: self._off]

    def peek(self, size: int) -> bytes:
        """The next ``size`` bytes (fewer at end of input) without consuming them."""
        data = self.read(size)
        self._off -= len(data)
        return data

    def close(self) -> None:
        self._raw.close()


def _sniff_compression(head: bytes) -> str:
    if not head.startswith(_GZIP_MAGIC):
        return "plain"
    # BGZF = gzip with FEXTRA carrying a 'BC' subfield (SAM/BAM specification, section 4.1).
    if len(head) >= 18 and head[3] & 4:
        xlen = head[10] | (head[11] << 8)
        extra = head[12 : 12 + xlen]
        i = 0
        while i + 4 <= len(extra):
            slen = extra[i + 2] | (extra[i + 3] << 8)
            if extra[i : i + 2] == b"BC":
                return "bgzf"
            i += 4 + slen
    return "gzip"


MAX_LINE_BYTES = 64 << 20  # far above any real record (a 1,500-transcript CSQ is 200 kB)


class LineTooLong(ValueError):
    """A line without end: a decompression bomb or not a text file at all."""


def iter_text_lines(chunks: Iterator[bytes]) -> Iterator[str]:
    """Decoded lines without their terminator (``\\n`` or ``\\r\\n``), however long they are.

    Lines are cut in bytes before decoding so a multi-byte UTF-8 character split across chunks
    is never damaged; a line longer than a chunk is assembled from pieces (no fixed buffer).
    """
    pieces: list[bytes] = []
    pending = 0
    for chunk in chunks:
        cut = chunk.rfind(b"\n")
        if cut < 0:
            pieces.append(chunk)
            pending += len(chunk)
            if pending > MAX_LINE_BYTES:
                raise LineTooLong(f"a line is longer than {MAX_LINE_BYTES >> 20} MiB")
            continue
        pending = len(chunk) - cut - 1
        if pieces:
            pieces.append(chunk[: cut + 1])
            block = b"".join(pieces)
            pieces = []
        else:
            block = chunk[: cut + 1]
        if cut + 1 < len(chunk):
            pieces.append(chunk[cut + 1 :])
        text = block.decode("utf-8", "replace")
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        lines = text.split("\n")
        lines.pop()
        yield from lines
    if pieces:
        tail = b"".join(pieces).decode("utf-8", "replace")
        yield tail[:-1] if tail.endswith("\r") else tail

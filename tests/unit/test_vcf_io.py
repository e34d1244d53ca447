"""Input handling: compression sniffing, streaming, long lines, CRLF, progress, contigs."""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import pytest

from regovar.adapters.vcf import ImportWarnings, VcfMalformed, open_vcf
from regovar.adapters.vcf.io import ByteStream, iter_text_lines
from tests.unit.test_vcf_helpers import HEADER, read, tabs, write_vcf

BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def bgzf(data: bytes, block: int = 997) -> bytes:
    """BGZF as bgzip writes it: one gzip member per block, 'BC' extra field, empty EOF block."""
    out = []
    for i in range(0, len(data), block):
        chunk = data[i : i + block]
        deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = deflate.compress(chunk) + deflate.flush()
        header = (b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00"
                  + struct.pack("<H", 18 + len(body) + 8 - 1))
        out.append(header + body + struct.pack("<II", zlib.crc32(chunk), len(chunk)))
    return b"".join(out) + BGZF_EOF


def _body(n: int) -> str:
    return tabs(*(f"1 {1000 + i} . A G {i} PASS DP={i} GT:DP 0/1:{i} 1/1:{i} 0/0:{i}"
                  for i in range(n)))


@pytest.mark.parametrize("kind", ["plain", "gzip", "bgzf"])
def test_compression_is_detected_from_magic_bytes(tmp_path: Path, kind: str) -> None:
    data = (HEADER + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\tS3\n"
            + _body(500)).encode()
    raw = {"plain": data, "gzip": gzip.compress(data), "bgzf": bgzf(data)}[kind]
    path = tmp_path / "misnamed.txt"  # the name says nothing
    path.write_bytes(raw)
    reader, rows = read(path)
    assert reader.header.compression == kind
    assert len(rows) == 500 and rows[-1].pos == 1499 and rows[-1].dp == [499] * 3
    assert rows[0].line == 9 and rows[-1].line == 508


def test_multi_member_plain_gzip(tmp_path: Path) -> None:
    text = HEADER + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\tS3\n"
    path = tmp_path / "cat.vcf.gz"
    path.write_bytes(gzip.compress(text.encode()) + gzip.compress(_body(3).encode()))
    _, rows = read(path)
    assert [r.pos for r in rows] == [1000, 1001, 1002]


def test_truncated_gzip_is_an_error_not_a_short_import(tmp_path: Path) -> None:
    path = write_vcf(tmp_path, _body(2000), compress=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(VcfMalformed, match="truncated gzip"):
        read(path)


def test_long_lines_crlf_and_utf8_across_chunks(tmp_path: Path) -> None:
    long_value = "é" * 3_000_000  # 6 MB of 2-byte characters: crosses every buffer size
    header = HEADER + '##INFO=<ID=BIG,Number=1,Type=String,Description="Big">\n'
    body = f"1\t10\t.\tA\tG\t1\tPASS\tBIG={long_value};X=1\tGT:DP\t0/1:5\t0/1:6\t0/1:7\n"
    body += "1\t11\t.\tA\tC\t1\tPASS\t.\tGT:DP\t0/1:5\t0/1:6\t0/1:8\n"
    text = (header + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\tS3\n"
            + body).replace("\n", "\r\n")
    path = tmp_path / "long.vcf.gz"
    path.write_bytes(gzip.compress(text.encode()))
    reader, rows = read(path)
    assert reader.header.samples == ["S1", "S2", "S3"]
    assert rows[0].info["BIG"] == long_value and rows[0].info["X"] == "1"
    assert rows[1].dp == [5, 6, 8] and rows[1].line == 11


def test_iter_text_lines_keeps_lines_whole() -> None:
    chunks = [b"ab", b"c\r\nd", b"\xc3", b"\xa9\n", b"", b"last"]
    assert list(iter_text_lines(iter(chunks))) == ["abc", "d\u00e9", "last"]


def test_progress_and_close(tmp_path: Path) -> None:
    path = write_vcf(tmp_path, _body(3000), compress=True)
    reader = open_vcf(path)
    assert reader.total_bytes == path.stat().st_size
    with reader:
        count = sum(1 for _ in reader.rows())
        assert 0 < reader.bytes_read() <= reader.total_bytes
        assert reader.bytes_read() == reader.total_bytes
    assert count == 3000
    with pytest.raises(RuntimeError):
        list(reader.rows())


def test_byte_stream_exact_reads(tmp_path: Path) -> None:
    path = tmp_path / "b.gz"
    path.write_bytes(bgzf(bytes(range(256)) * 100, block=300))
    stream = ByteStream(path)
    assert stream.compression == "bgzf"
    assert stream.peek(3) == b"\x00\x01\x02"
    assert stream.read(258) == bytes(range(256)) + b"\x00\x01"
    assert len(stream.read(100_000)) == 25600 - 258
    assert stream.read(10) == b""
    stream.close()


CONTIGS = """##fileformat=VCFv4.2
##contig=<ID={one},length={length}>
##contig=<ID={m},length={mlen}>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
"""


def _contig_file(tmp_path: Path, one: str, length: int, m: str, mlen: int, ref: str = "") -> Path:
    header = CONTIGS.format(one=one, length=length, m=m, mlen=mlen) + ref
    body = tabs(f"{one} 100 . A G 1 PASS . GT 0/1", f"{m} 200 . C T 1 PASS . GT 1",
                "chrUn_gl000220 5 . A T 1 PASS . GT 0/1", "GL000192.1 6 . A T 1 PASS . GT 0/1")
    return write_vcf(tmp_path, body, header=header, samples=("S1",), name=f"{one}{m}{mlen}.vcf")


def test_contig_naming_per_assembly(tmp_path: Path) -> None:
    cases = [
        ("chr1", 249250621, "chrM", 16569, "GRCh37", ["1", "MT"]),
        ("chr1", 249250621, "chrM", 16571, "GRCh37", ["1", "chrM"]),  # hg19 chrM != rCRS
        ("1", 249250621, "MT", 16569, "GRCh37", ["1", "MT"]),
        ("1", 248956422, "MT", 16569, "GRCh38", ["chr1", "chrM"]),
        ("chr1", 248956422, "chrM", 16569, "GRCh38", ["chr1", "chrM"]),
    ]
    for one, length, m, mlen, assembly, expected in cases:
        reader, rows = read(_contig_file(tmp_path, one, length, m, mlen))
        assert reader.assembly == assembly
        assert [r.chrom for r in rows] == [*expected, "chrUn_gl000220", "GL000192.1"]
        assert reader.warnings.count("chrM_not_rcrs") == (1 if expected[1] == "chrM" and
                                                          assembly == "GRCh37" else 0)


def test_assembly_from_header_text_argument_or_default(tmp_path: Path) -> None:
    bare = HEADER.replace("##contig=<ID=1,length=249250621>", "##contig=<ID=1>")
    plain = write_vcf(tmp_path, tabs("chrX 5 . A G 1 PASS . GT 0/1 0/1 0/1"), header=bare)
    reader, rows = read(plain)
    assert (reader.header.assembly, reader.assembly, rows[0].chrom) == (None, "GRCh37", "X")
    assert reader.warnings.count("assembly_assumed") == 1
    reader, rows = read(plain, default_assembly="GRCh38")
    assert (reader.assembly, rows[0].chrom) == ("GRCh38", "chrX")
    reader, rows = read(plain, assembly="hg38")
    assert (reader.assembly, rows[0].chrom, reader.warnings.count("assembly_assumed")) == (
        "GRCh38", "chrX", 0)
    for text, expected in [("##reference=file:///ref/hs37d5.fa\n", "GRCh37"),
                           ("##reference=hg19\n", "GRCh37"),
                           ("##assembly=GRCh38\n", "GRCh38"),
                           ("##reference=/data/Homo_sapiens_assembly38.fasta\n", None)]:
        path = write_vcf(tmp_path, "", header=bare + text, name="r.vcf")
        assert read(path)[0].header.assembly == expected, text
    with pytest.raises(ValueError):
        open_vcf(plain, assembly="hg17")


def test_assembly_mismatch_warns(tmp_path: Path) -> None:
    path = _contig_file(tmp_path, "1", 249250621, "MT", 16569)
    warnings = ImportWarnings()
    reader, rows = read(path, assembly="GRCh38", warnings=warnings)
    assert reader.warnings is warnings and warnings.count("assembly_mismatch") == 1
    assert rows[0].chrom == "chr1"


def test_info_typing(tmp_path: Path) -> None:
    header = HEADER + (
        '##INFO=<ID=I,Number=1,Type=Integer,Description="i">\n'
        '##INFO=<ID=F,Number=1,Type=Float,Description="f">\n'
        '##INFO=<ID=L,Number=.,Type=Integer,Description="l">\n'
        '##INFO=<ID=T,Number=2,Type=Float,Description="t">\n'
        '##INFO=<ID=FL,Number=0,Type=Flag,Description="flag">\n'
        '##INFO=<ID=S,Number=1,Type=String,Description="s">\n'
        '##INFO=<ID=C,Number=1,Type=Character,Description="c">\n')
    info = "I=3;F=0.5;L=1,.,3;T=1e-3,2;FL;S=a%3Bb%3Dc;C=x;U=undeclared;UF;M=.;I2=7"
    _, rows = read(write_vcf(tmp_path, tabs(f"1 5 . A G 1 PASS {info} GT 0/1 0/1 0/1"),
                             header=header))
    assert rows[0].info == {"I": 3, "F": 0.5, "L": [1, None, 3], "T": [0.001, 2.0], "FL": True,
                            "S": "a;b=c", "C": "x", "U": "undeclared", "UF": True, "I2": "7"}
    _, empty = read(write_vcf(tmp_path, tabs("1 5 . A G 1 PASS . GT 0/1 0/1 0/1"), name="e.vcf"))
    assert empty[0].info == {}


def test_trailing_tab_and_blank_lines_are_tolerated(tmp_path: Path) -> None:
    body = "1\t5\t.\tA\tG\t1\tPASS\t.\tGT\t0/1\t0/1\t0/1\t\n\n1\t6\t.\tA\tG\t1\tPASS\t.\n"
    _, rows = read(write_vcf(tmp_path, body.replace("PASS\t.\n", "PASS\t.\tGT\t0/0\t0/0\t1/1\n")))
    assert [(r.line, r.pos) for r in rows] == [(9, 5), (11, 6)]


def test_non_finite_floats_are_missing_values(tmp_path: Path) -> None:
    header = HEADER + (
        '##INFO=<ID=F,Number=1,Type=Float,Description="f">\n'
        '##INFO=<ID=G,Number=.,Type=Float,Description="g">\n'
        '##INFO=<ID=H,Number=A,Type=Float,Description="h">\n')
    body = tabs("1 5 . A G 1 PASS F=nan;G=1.5,inf,-Infinity;H=NaN GT 0/1 0/1 0/1",
                "1 6 . A G,T 1 PASS F=inf;H=0.5,nan GT 0/1 0/1 0/1")
    _, rows = read(write_vcf(tmp_path, body, header=header))
    assert rows[0].info == {"G": [1.5, None, None]}
    assert rows[1].info == {"H": 0.5} and rows[2].info == {}


def test_a_bgzf_file_without_its_end_block_may_be_cut_short(tmp_path: Path) -> None:
    # Cut between two blocks, a BGZF file inflates cleanly: 143 of 200 records were imported
    # without a word. Its missing end-of-file block is said, as htslib does.
    text = (HEADER + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\tS3\n"
            + _body(200))  # fmt: skip
    lines = text.encode().splitlines(keepends=True)
    blocks = [bgzf(b"".join(lines[i : i + 50]), block=1 << 16)[: -len(BGZF_EOF)]
              for i in range(0, len(lines), 50)]  # fmt: skip
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(b"".join(blocks[:3]))  # whole lines, no end block
    reader, rows = read(cut)
    warned = {w["kind"]: w for w in reader.warnings.as_list()}
    assert reader.may_be_cut_short and "may be cut short" in warned["bgzf_no_eof"]["message"]
    assert len(rows) < 200
    whole = tmp_path / "whole.vcf.gz"
    whole.write_bytes(b"".join(blocks) + BGZF_EOF)
    reader, rows = read(whole)
    assert not reader.may_be_cut_short and len(rows) == 200
    assert "bgzf_no_eof" not in {w["kind"] for w in reader.warnings.as_list()}


def test_carriage_return_only_line_endings_are_named(tmp_path: Path) -> None:
    # Old Mac endings: the whole file read as one '##' line, refused as 'no #CHROM header'.
    text = (HEADER + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
            "1\t10\t.\tA\tG\t1\tPASS\t.\tGT\t0/1\n").replace("\n", "\r")  # fmt: skip
    path = tmp_path / "mac.vcf"
    path.write_bytes(text.encode())
    with pytest.raises(VcfMalformed, match=r"mac\.vcf, line 1: lines end with a carriage return"):
        read(path)


def test_a_utf16_file_is_named_as_such(tmp_path: Path) -> None:
    # Saved as "Unicode" by a spreadsheet: "data line before the #CHROM header line".
    text = (HEADER + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
            "1\t10\t.\tA\tG\t1\tPASS\t.\tGT\t0/1\n")  # fmt: skip
    for encoding in ("utf-16", "utf-16-be", "utf-32"):
        path = tmp_path / "wide.vcf"
        path.write_bytes(text.encode(encoding))
        with pytest.raises(VcfMalformed, match=r"wide\.vcf, line 1: the file is UTF-16 \(or "
                           r"UTF-32\) text"):  # fmt: skip
            read(path)


def test_two_files_joined_and_other_compressions_are_named(tmp_path: Path) -> None:
    # A second file's #CHROM (samples in another order) was skipped as a comment: its
    # genotypes went to the first file's samples. bzip2, xz, zstd read as 'data line before
    # the #CHROM header line'.
    import bz2
    import lzma

    first = HEADER + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\n"
    second = first.replace("S1\tS2", "S2\tS1")
    body = "1\t10\t.\tA\tG\t1\tPASS\t.\tGT\t0/1\t1/1\n"
    path = tmp_path / "joined.vcf"
    path.write_text(first + body + second + body.replace("10", "20"))
    lines = len((first + body).splitlines()) + len(second.splitlines())
    with pytest.raises(VcfMalformed, match=rf"joined\.vcf, line {lines}: a second #CHROM"):
        read(path)
    for kind, data in (("bzip2", bz2.compress((first + body).encode())),
                       ("xz", lzma.compress((first + body).encode())),
                       ("zstd", b"\x28\xb5\x2f\xfd" + b"\0" * 20)):  # fmt: skip
        packed = tmp_path / f"{kind}.vcf.gz"
        packed.write_bytes(data)
        with pytest.raises(VcfMalformed, match=f"compressed with {kind}"):
            read(packed)


def test_a_record_with_too_many_alts_is_refused_naming_it(tmp_path: Path) -> None:
    # A million ALTs in one record took gigabytes: its rows are built at once.
    alts = "C,G,TA"  # a few: read
    many = ",".join("A" + format(i, "b").replace("0", "C").replace("1", "G") for i in range(1001))
    body = (f"1\t10\t.\tT\t{alts}\t1\tPASS\t.\tGT\t0/1\t0/1\t0/1\n"
            f"1\t20\t.\tT\t{many}\t1\tPASS\t.\tGT\t0/1\t0/1\t0/1\n")  # fmt: skip
    with pytest.raises(VcfMalformed, match=r"line \d+: 1,001 ALT alleles in one record"):
        read(write_vcf(tmp_path, body))


def test_a_record_with_too_many_genotypes_says_how_many(tmp_path: Path) -> None:
    # 500 ALTs x 4,001 samples was told as "500 ALT alleles in one record (at most 1,000...)".
    many = ",".join("A" + format(i, "b").replace("0", "C").replace("1", "G") for i in range(500))
    samples = tuple(f"S{i}" for i in range(4001))
    body = f"1\t20\t.\tT\t{many}\t1\tPASS\t.\tGT\t" + "\t".join(["0/1"] * 4001) + "\n"
    with pytest.raises(VcfMalformed, match=r"line \d+: 500 ALT alleles x 4,001 samples = "
                       r"2,000,500 genotypes in one record \(at most 2,000,000\)"):  # fmt: skip
        read(write_vcf(tmp_path, body, samples=samples))

"""BCF 2.2 decoding: the same CallRows as the equivalent VCF (fixture made with bcftools)."""

from __future__ import annotations

import dataclasses
import gzip
import struct
from pathlib import Path

import pytest

from regovar.adapters.vcf import VcfMalformed, Zygosity
from regovar.adapters.vcf.bcf import float_text
from tests.unit.test_vcf_helpers import DATA, read

BCF = DATA / "bcf"


def test_bcf_rows_equal_vcf_rows() -> None:
    reader, bcf_rows = read(BCF / "edge.bcf")
    _, vcf_rows = read(BCF / "edge.from_bcf.vcf")
    assert reader.header.compression == "bcf"
    assert reader.header.samples == ["S1", "S2", "S3"]
    assert len(bcf_rows) == 9
    assert bcf_rows == vcf_rows  # every field, lazy ones included, and line numbers


def test_bcf_rows_equal_the_source_vcf_but_for_line_numbers() -> None:
    _, bcf_rows = read(BCF / "edge.bcf")
    _, src_rows = read(BCF / "edge.vcf")
    strip = [{k: v for k, v in dataclasses.asdict(r).items() if k != "line"} for r in bcf_rows]
    assert strip == [{k: v for k, v in dataclasses.asdict(r).items() if k != "line"}
                     for r in src_rows]


def test_bcf_values() -> None:
    _, rows = read(BCF / "edge.bcf")
    first = rows[0]
    assert (first.chrom, first.pos, first.qual, first.filters) == ("1", 1000, 50.5, ["PASS"])
    assert first.info == {"AC": 3, "AF": 0.5, "AN": 6, "DB": True, "NOTE": "seen in two runs",
                          "MQ": 60.0}
    assert first.gt == ["0|1", "1|1", "0/0"] and first.ps == [1000, 1000, None]
    assert first.format_values["FT"] == ["PASS", "PASS", "LowGQ"]
    g, t = rows[1], rows[2]
    assert g.zyg == [Zygosity.HET_ALT, Zygosity.OTHER_ALT, Zygosity.OTHER_ALT]
    assert t.zyg == [Zygosity.HET_ALT, Zygosity.OTHER_ALT, Zygosity.HOM_ALT]
    assert t.info["RD"] == [10, 30] and t.format_values["PL"][0] == [900, 280, 500]
    sv = next(r for r in rows if r.alt == "<DEL>")
    assert (sv.end, sv.filters) == (5000, ["LowQual", "LowDP"])
    lower = next(r for r in rows if r.pos == 7001)
    assert (lower.ref, lower.alt, lower.gt) == ("T", "C", ["0/1", "1/1", "."])
    assert lower.format_values["GL"] == [[-0.5, -0.1, -3.25], [-9.5, -2.5, 0.0], None]


def test_uncompressed_bcf(tmp_path: Path) -> None:
    path = tmp_path / "edge.ubcf"
    path.write_bytes(gzip.decompress((BCF / "edge.bcf").read_bytes()))
    reader, rows = read(path)
    assert reader.header.compression == "bcf"
    assert rows == read(BCF / "edge.bcf")[1]


def test_truncated_bcf(tmp_path: Path) -> None:
    raw = gzip.decompress((BCF / "edge.bcf").read_bytes())
    path = tmp_path / "cut.bcf"
    path.write_bytes(raw[:-10])
    with pytest.raises(VcfMalformed, match="truncated BCF"):
        read(path)


def test_float_text_is_the_shortest_float32_round_trip() -> None:
    def bits(value: float) -> int:
        return int(struct.unpack("<I", struct.pack("<f", value))[0])

    assert float_text(bits(0.333)) == "0.333"
    assert float_text(bits(10091.01)) == "10091.01"
    assert float_text(bits(-3.25)) == "-3.25"
    assert float_text(0x7F800001) == "."


def test_a_corrupt_bcf_record_is_said_in_words(tmp_path: Path) -> None:
    # "error('unpack_from requires a buffer of at least 294 bytes...')" reached the user.
    import struct

    raw = bytearray(gzip.decompress((BCF / "edge.bcf").read_bytes()))
    first = 9 + struct.unpack_from("<I", raw, 5)[0]  # magic, header length, header text
    l_shared, l_indiv = struct.unpack_from("<II", raw, first)
    struct.pack_into("<II", raw, first, 4, l_shared + l_indiv - 4)  # its fields overrun
    path = tmp_path / "corrupt.bcf"
    path.write_bytes(bytes(raw))
    with pytest.raises(VcfMalformed) as caught:
        read(path)
    assert caught.value.message == (
        "corrupt BCF record: its values do not fit its length or the header's entries")
    assert caught.value.line == read(BCF / "edge.bcf")[1][0].line  # the first record's

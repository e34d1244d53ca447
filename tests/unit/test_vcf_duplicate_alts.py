"""A record that lists one ALT twice (``G A,A``) is read as if it listed it once."""

from __future__ import annotations

from pathlib import Path

import pytest

from regovar.adapters.vcf import ImportWarnings, VcfMalformed, open_vcf
from regovar.adapters.vcf.model import Zygosity

HEADER = """##fileformat=VCFv4.2
##reference=GRCh37
##contig=<ID=1,length=1000000>
##INFO=<ID=AC,Number=A,Type=Integer,Description="c">
##INFO=<ID=AF,Number=A,Type=Float,Description="f">
##INFO=<ID=GL,Number=G,Type=Float,Description="l">
##FORMAT=<ID=GT,Number=1,Type=String,Description="g">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="a">
##FORMAT=<ID=PL,Number=G,Type=Integer,Description="p">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tmum\tdad\tkid
"""


def _rows(tmp_path: Path, *records: str):
    path = tmp_path / "dup-alt.vcf"
    path.write_text(HEADER + "".join(r + "\n" for r in records))
    warnings = ImportWarnings()
    rows = list(open_vcf(path, warnings=warnings).rows())
    return rows, {w["kind"]: w for w in warnings.as_list()}


def test_a_repeated_alt_is_one_allele(tmp_path: Path) -> None:
    rows, warned = _rows(
        tmp_path,
        "1\t100\t.\tG\tA,A\t50\tPASS\tAC=1,2;AF=0.1,0.2;GL=1,2,3,4,5,6\tGT:AD:PL"
        "\t0/2:10,0,5:0,1,2,3,4,5\t1|2:0,4,6:.\t0/1:7,3,0:.",
    )
    (row,) = rows
    assert (row.alt, row.alt_index) == ("A", 1)
    assert row.gt == ["0/1", "1|1", "0/1"]  # allele 2 renumbered to 1, phase kept
    assert row.zyg == [Zygosity.HET, Zygosity.HOM_ALT, Zygosity.HET]
    assert (row.ad_ref, row.ad_alt) == ([10, 0, 7], [5, 10, 3])  # reads of both copies
    assert row.vaf == [5 / 15, 1.0, 0.3]
    assert row.ac == 4 and row.an == 6
    assert row.info == {"AC": 3, "AF": 0.1}  # counts added, others the first copy's, G gone
    assert warned["duplicate_alt"]["lines"] == [len(HEADER.splitlines()) + 1]
    assert "duplicate_record" not in warned  # not a second variant row dropped


def test_repeats_differing_in_case_among_other_alts(tmp_path: Path) -> None:
    rows, warned = _rows(tmp_path, "1\t200\t.\tG\tA,T,a\t50\tPASS\t.\tGT:AD"
                                   "\t0/3:10,0,0,5\t2/3:0,0,4,6\t1/1:0,7,0,0")  # fmt: skip
    a, t = rows
    assert (a.alt, a.alt_index, t.alt, t.alt_index) == ("A", 1, "T", 2)
    assert a.zyg == [Zygosity.HET, Zygosity.HET_ALT, Zygosity.HOM_ALT]
    assert a.ad_alt == [5, 6, 7] and t.ad_alt == [0, 4, 0]
    assert "ALT A listed more than once" in warned["duplicate_alt"]["message"]


def test_an_allele_number_beyond_the_alts_is_still_refused(tmp_path: Path) -> None:
    import pytest

    from regovar.adapters.vcf import VcfMalformed

    with pytest.raises(VcfMalformed) as caught:
        _rows(tmp_path, "1\t300\t.\tG\tA,A\t50\tPASS\t.\tGT\t0/3\t0/1\t0/0")
    assert caught.value.line == len(HEADER.splitlines()) + 1


def test_a_copy_s_unknown_depth_makes_the_allele_s_unknown(tmp_path: Path) -> None:
    # 5 + unknown is not 5: the merged depth is unknown, and so is the VAF (as for G,T).
    rows, warned = _rows(tmp_path, "1\t400\t.\tG\tA,A\t50\tPASS\t.\tGT:AD"
                                   "\t0/1:5,.,3\t0/1:5,0,.\t0/2:5,2,2")  # fmt: skip
    (row,) = rows
    assert row.ad_alt == [None, None, 4] and row.vaf == [None, None, 4 / 9]
    assert "ad_count" not in warned


def test_values_without_one_item_per_listed_allele_are_missing_and_said(tmp_path: Path) -> None:
    # AD 5,2 has two values for three listed alleles (REF, A, A): which copy's is the 2?
    rows, warned = _rows(tmp_path, "1\t500\t.\tG\tA,A\t50\tPASS\tAC=1;AF=0.1,0.2\tGT:AD"
                                   "\t0/1:5,2\t0/1:5,1,1\t0/0:9,0,0")  # fmt: skip
    (row,) = rows
    assert row.ad_alt == [None, 2, 0] and row.vaf == [None, 2 / 7, 0.0]
    assert row.info == {"AF": 0.1}  # AC had one value for two listed ALTs: dropped
    line = len(HEADER.splitlines()) + 1
    assert warned["ad_count"]["lines"] == [line]
    assert warned["info_value"]["lines"] == [line]
    assert warned["info_value"]["message"].startswith("INFO AC has not one value per listed")


def test_an_alt_that_is_the_ref_is_read_as_the_ref(tmp_path: Path) -> None:
    # 'A A,G': allele 1 is the REF; a 0/1 sample is REF/REF, not a carrier of another ALT.
    rows, warned = _rows(tmp_path, "1\t600\t.\tA\ta,G\t50\tPASS\tAC=1,2;AF=0.1,0.2\tGT:AD"
                                   "\t0/1:5,4,0\t1/2:0,3,6\t2/2:0,0,9")  # fmt: skip
    (row,) = rows
    assert (row.alt, row.alt_index) == ("G", 1)
    assert row.gt == ["0/0", "0/1", "1/1"]
    assert row.zyg == [Zygosity.HOM_REF, Zygosity.HET, Zygosity.HOM_ALT]
    assert (row.ad_ref, row.ad_alt) == ([9, 3, 0], [0, 6, 9])  # its reads are the REF's
    assert row.info == {"AC": 2, "AF": 0.2}  # the REF has no per-ALT value
    assert warned["alt_is_ref"]["lines"] == [len(HEADER.splitlines()) + 1]
    assert "duplicate_alt" not in warned


def test_counts_of_a_repeated_alt_that_are_not_plain_integers_are_unknown(tmp_path: Path) -> None:
    # '-1' and an Arabic-Indic digit were added as numbers (AD 2, 6: VAFs from nothing), and a
    # GT with a non-ASCII digit was renumbered and accepted; in any other record it is refused.
    head = ("##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n"
            '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
            '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="a">\n'
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\tS3\n")  # fmt: skip
    vcf = tmp_path / "odd.vcf"
    vcf.write_text(head + "1\t200\t.\tG\tA,A\t50\tPASS\t.\tGT:AD\t0/1:10,-1,3\t0/2:10,3,1.5\t"
                   "0/1:10,\u0663,3\n1\t300\t.\tG\tA,A\t50\tPASS\t.\tGT:AD\t0/1:10,2,3\t"
                   "0/2:10,.,1\t0/1:10,0,0\n")  # fmt: skip
    with open_vcf(vcf) as reader:
        rows = {r.pos: r for r in reader.rows()}
        warned = {w["kind"]: w for w in reader.warnings.as_list()}
    assert rows[200].ad_alt == [None, None, None] and rows[200].vaf == [None, None, None]
    assert rows[200].ad_ref == [10, 10, 10]
    assert rows[300].ad_alt == [5, None, 0]  # plain counts added; '.' unknown
    assert warned["format_not_integer"]["lines"] == [6]
    assert "AD counts cannot be added (ALT A listed more than once)" in (
        warned["format_not_integer"]["message"])  # fmt: skip
    gt = tmp_path / "gt.vcf"
    gt.write_text(head + "1\t100\t.\tG\tA,A\t50\tPASS\t.\tGT\t0/\u0662\t0/1\t0/0\n")
    with open_vcf(gt) as reader, pytest.raises(VcfMalformed, match="invalid GT"):
        list(reader.rows())


def test_keys_miscounted_in_one_record_are_one_warning_naming_them(tmp_path: Path) -> None:
    # Three keys gave "info_value x3: INFO AC has not one value ... (lines 7, 7, 7)".
    vcf = tmp_path / "keys.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n"
        '##INFO=<ID=AC,Number=A,Type=Integer,Description="c">\n'
        '##INFO=<ID=AF,Number=A,Type=Float,Description="f">\n'
        '##INFO=<ID=RC,Number=R,Type=Integer,Description="r">\n'
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
        "1\t100\t.\tG\tA,A\t50\tPASS\tAC=1;AF=0.1,0.2,0.3;RC=10,3\tGT\t0/1\n"
    )
    with open_vcf(vcf) as reader:
        list(reader.rows())
        warned = {w["kind"]: w for w in reader.warnings.as_list()}
    assert warned["info_value"]["count"] == 1 and warned["info_value"]["lines"] == [8]
    assert warned["info_value"]["message"].startswith(
        "INFO AC, AF, RC has not one value per listed allele (ALT A listed more than once)"
    )

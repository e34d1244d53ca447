"""Inputs of the same kinds as the edge cases, but not the same bytes: split, genotypes, depths."""

from __future__ import annotations

from pathlib import Path

from regovar.adapters.vcf import Zygosity
from regovar.adapters.vcf.normalise import left_align, trim_alleles
from tests.unit.test_vcf_helpers import HEADER, read, tabs, vaf3, write_vcf

Z = Zygosity
HDR_R = HEADER + (
    '##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count">\n'
    '##INFO=<ID=RD,Number=R,Type=Integer,Description="Depth per allele">\n'
    '##INFO=<ID=GLI,Number=G,Type=Integer,Description="Site likelihoods">\n'
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions">\n'
)


def test_het_alt_with_number_r_a_g_in_a_three_alt_site(tmp_path: Path) -> None:
    body = tabs(
        "1 500 . A C,G,T 99 PASS AC=1,1,2;RD=9,8,7,6;GLI=0,1,2,3,4,5,6,7,8,9 GT:AD:PL:AF "
        "1/3:2,10,0,8:90,80,70,60,50,40,30,20,10,0:0.5,0,0.4 "
        "3/3:0,0,0,20:9,9,9,9,9,9,1,2,3,4:0,0,1 "
        "./2:1,0,6,0:.:0,0.8,0")
    _, rows = read(write_vcf(tmp_path, body, header=HDR_R))
    c, g, t = rows
    assert [r.alt for r in rows] == ["C", "G", "T"] and {r.n_alts for r in rows} == {3}
    assert c.zyg == [Z.HET_ALT, Z.OTHER_ALT, Z.PARTIAL]
    assert g.zyg == [Z.OTHER_ALT, Z.OTHER_ALT, Z.PARTIAL_ALT]
    assert t.zyg == [Z.HET_ALT, Z.HOM_ALT, Z.PARTIAL]
    assert [(r.ac, r.an) for r in rows] == [(1, 5), (1, 5), (3, 5)]
    assert (t.ad_ref, t.ad_alt, vaf3(t.vaf)) == ([2, 0, 1], [8, 20, 0], [0.4, 1.0, 0.0])
    assert vaf3(g.vaf) == [0.0, 0.0, 0.857]
    assert (c.info["AC"], t.info["AC"], t.info["RD"], g.info["RD"]) == (1, 2, [9, 6], [9, 7])
    assert t.info["GLI"] == [0, 6, 9]  # genotypes 0/0, 0/3, 3/3
    assert t.format_values["PL"] == [[90, 30, 0], [9, 1, 4], None]
    assert c.format_values["AF"] == [0.5, 0.0, 0.0] and t.format_values["AF"] == [0.4, 1.0, 0.0]
    assert c.gt is not t.gt and c.gt == t.gt  # rows never share mutable lists


def test_haploid_y_call_and_haploid_number_g(tmp_path: Path) -> None:
    header = HEADER + "##contig=<ID=Y,length=59373566>\n"
    body = tabs("Y 2800100 . G A,C 50 PASS . GT:AD:PL 1:0,9,0:90,0,80 0:8,0,0:0,70,60 .:.:.",
                "Y 2800200 . T G 50 PASS . GT 0 1 .")
    _, rows = read(write_vcf(tmp_path, body, header=header))
    a, c, second = rows
    assert a.zyg == [Z.HEMI_ALT, Z.HEMI_REF, Z.MISSING]
    assert c.zyg == [Z.OTHER_ALT, Z.HEMI_REF, Z.MISSING]
    assert (a.ac, a.an, c.ac) == (1, 2, 0)
    assert a.format_values["PL"] == [[90, 0], [0, 70], None]
    assert c.format_values["PL"] == [[90, 80], [0, 60], None]
    assert second.zyg == [Z.HEMI_REF, Z.HEMI_ALT, Z.MISSING] and (second.ac, second.an) == (1, 2)


def test_star_allele_first_and_partial_calls(tmp_path: Path) -> None:
    body = tabs("1 700 . C *,T 80 PASS . GT:AD 1/2:10,5,5 0/1:9,9,0 ./2:. 2/2:0,0,20")
    _, rows = read(write_vcf(tmp_path, body, samples=("S1", "S2", "S3", "S4")))
    (t,) = rows
    assert (t.alt, t.alt_index, t.n_alts) == ("T", 2, 1)
    assert t.zyg == [Z.HET_ALT, Z.OTHER_ALT, Z.PARTIAL_ALT, Z.HOM_ALT]
    assert (t.ac, t.an) == (4, 7)
    assert vaf3(t.vaf) == [0.25, 0.0, None, 1.0]  # the '*' depth is in the denominator


def test_genotype_codes_for_every_kind_of_call(tmp_path: Path) -> None:
    gts = ["0/0", "0/1", "1/0", "0|1", "1|0", "1/1", "./.", ".", "./1", "./0", "1", "0",
           "0/0/1", "1/1/1"]
    samples = tuple(f"S{i}" for i in range(len(gts)))
    _, rows = read(write_vcf(tmp_path, tabs("1 800 . A G 1 PASS . GT " + " ".join(gts)),
                             samples=samples))
    (row,) = rows
    assert row.zyg == [Z.HOM_REF, Z.HET, Z.HET, Z.HET, Z.HET, Z.HOM_ALT, Z.MISSING, Z.MISSING,
                       Z.PARTIAL_ALT, Z.PARTIAL, Z.HEMI_ALT, Z.HEMI_REF, Z.HET, Z.HOM_ALT]
    assert row.gt == gts
    assert (row.ac, row.an) == (1 + 1 + 1 + 1 + 2 + 1 + 1 + 1 + 3, 2 * 6 + 1 + 1 + 1 + 1 + 3 + 3)


def test_missing_format_fields_and_dropped_trailing_values(tmp_path: Path) -> None:
    body = tabs("1 900 . A G 1 PASS . GT:AD:DP:GQ:PL ./. 0/1:3,4 0/1:5,5:10:.:.")
    _, rows = read(write_vcf(tmp_path, body))
    (row,) = rows
    assert row.zyg == [Z.MISSING, Z.HET, Z.HET]
    assert (row.ad_ref, row.ad_alt, row.dp, row.gq) == (
        [None, 3, 5], [None, 4, 5], [None, None, 10], [None, None, None])
    assert vaf3(row.vaf) == [None, 0.571, 0.5]
    assert row.format_values["PL"] == [None, None, None]


def test_no_gt_in_format_gives_missing_zygosity(tmp_path: Path) -> None:
    _, rows = read(write_vcf(tmp_path, tabs("1 950 . A G 1 PASS . DP:AD 12:6,6 8:8,0 .:.")))
    (row,) = rows
    assert row.zyg == [Z.MISSING] * 3 and row.gt == [None] * 3 and (row.ac, row.an) == (0, 0)
    assert vaf3(row.vaf) == [0.5, 0.0, None]


def test_freebayes_multiallelic_without_ad(tmp_path: Path) -> None:
    header = HEADER + (
        '##FORMAT=<ID=RO,Number=1,Type=Integer,Description="Ref count">\n'
        '##FORMAT=<ID=AO,Number=A,Type=Integer,Description="Alt counts">\n')
    body = tabs("1 1000 . G A,T 9 . DP=40 GT:DP:RO:AO 1/2:40:0:15,5 0/1:30:20:10,. 0/0:9:9:0,0")
    _, rows = read(write_vcf(tmp_path, body, header=header))
    a, t = rows
    assert (a.ad_ref, a.ad_alt, t.ad_alt) == ([0, 20, 9], [15, 10, 0], [5, None, 0])
    # S2's T count is unknown, so its total is unknown: no VAF for either ALT (not 10/30)
    assert vaf3(a.vaf) == [0.75, None, 0.0]
    assert vaf3(t.vaf) == [0.25, None, 0.0]


def test_strelka_snv_with_another_base_pair(tmp_path: Path) -> None:
    header = HEADER + "".join(
        f'##FORMAT=<ID={b}U,Number=2,Type=Integer,Description="{b} tiers">\n' for b in "ACGT")
    body = tabs("1 1100 . G A . PASS SOMATIC DP:AU:CU:GU:TU "
                "40:0,0:0,0:40,41:0,0 60:15,16:0,0:45,47:0,1")
    _, rows = read(write_vcf(tmp_path, body, header=header, samples=("N", "T")))
    (row,) = rows
    assert (row.ad_ref, row.ad_alt, vaf3(row.vaf)) == ([40, 45], [0, 15], [0.0, 0.25])
    assert row.zyg == [Z.MISSING, Z.MISSING]


def test_normalisation_trims_suffix_then_prefix_and_uppercases(tmp_path: Path) -> None:
    body = tabs("1 100 . GCACA GCA 1 PASS . GT 0/1 0/1 0/1",
                "1 200 . atg acg 1 PASS . GT 0/1 0/1 0/1",
                "1 300 . CAAA CAAAA,CA 1 PASS . GT 1/2 0/1 0/2",
                "1 400 . TCT TGT,TCC 1 PASS . GT 0/1 0/2 0/0")
    _, rows = read(write_vcf(tmp_path, body))
    assert [(r.pos, r.ref, r.alt, r.end) for r in rows] == [
        (100, "GCA", "G", 102), (201, "T", "C", 201), (300, "C", "CA", 300),
        (300, "CAA", "C", 302), (401, "C", "G", 401), (402, "T", "C", 402)]


class _Reference:
    def __init__(self, seq: str) -> None:
        self.seq = seq

    def fetch(self, chrom: str, start: int, end: int) -> str:
        return self.seq[start - 1 : end]


def test_left_align_hook() -> None:
    # ACAGCAGCAGT: deleting one CAG anywhere in the repeat is the same variant.
    ref = _Reference("ACAGCAGCAGT")
    assert left_align("1", 7, "GCAG", "G", ref) == (1, "ACAG", "A")
    assert left_align("1", 7, "GCAG", "G", None) == (7, "GCAG", "G")
    assert trim_alleles(5, "ACGT", "ACGT") == (5, "A", "A")


def test_left_align_is_applied_when_a_reference_is_given(tmp_path: Path) -> None:
    path = write_vcf(tmp_path, tabs("1 7 . GCAG G 1 PASS . GT 0/1 0/1 0/1"))
    _, rows = read(path, reference=_Reference("ACAGCAGCAGT"))
    assert (rows[0].pos, rows[0].ref, rows[0].alt) == (1, "ACAG", "A")


def test_symbolic_and_breakend_alleles_produce_rows(tmp_path: Path) -> None:
    header = HEADER + (
        '##INFO=<ID=END,Number=1,Type=Integer,Description="End">\n'
        '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type">\n')
    body = tabs("1 1000 sv1 N <DEL> . PASS SVTYPE=DEL;END=2500 GT 0/1 1/1 0/0",
                "1 3000 bnd1 G G]17:198982] . PASS SVTYPE=BND GT 0/1 0/0 0/0",
                "1 4000 sv2 T <INS> 10 PASS SVTYPE=INS GT 0/1 0/0 ./.",
                "1 5000 sv3 A <DUP:TANDEM>,<NON_REF> 10 PASS END=5100 GT 0/1 0/2 0/0")
    _, rows = read(write_vcf(tmp_path, body, header=header))
    assert [(r.pos, r.ref, r.alt, r.end, r.n_alts) for r in rows] == [
        (1000, "N", "<DEL>", 2500, 1), (3000, "G", "G]17:198982]", 3000, 1),
        (4000, "T", "<INS>", 4000, 1), (5000, "A", "<DUP:TANDEM>", 5100, 1)]
    assert rows[0].zyg == [Z.HET, Z.HOM_ALT, Z.HOM_REF]
    assert rows[3].zyg == [Z.HET, Z.OTHER_ALT, Z.HOM_REF]


def test_gvcf_blocks_and_reference_sites_give_no_rows(tmp_path: Path) -> None:
    body = tabs("1 10 . A <*> . . END=20 GT:DP 0/0:10 0/0:12 0/0:9",
                "1 21 . C <NON_REF> . . END=30 GT 0/0 0/0 0/0",
                "1 31 . G . . . . GT 0/0 0/0 0/0",
                "1 32 . T *,<NON_REF> . . . GT 0/1 0/0 0/0",
                "1 33 . A C,<*> 50 . . GT:AD 0/1:5,5,0 0/0:9,0,1 0/2:3,0,3")
    reader, rows = read(write_vcf(tmp_path, body))
    (row,) = rows
    (skipped,) = [w for w in reader.warnings.as_list() if w["kind"] == "no_variant_allele"]
    assert skipped["count"] == 4 and skipped["lines"] == [9, 10, 11, 12]  # the first four records
    assert (row.pos, row.alt, row.n_alts, vaf3(row.vaf)) == (33, "C", 1, [0.5, 0.0, 0.0])
    assert row.zyg == [Z.HET, Z.HOM_REF, Z.OTHER_ALT]


def test_large_cohort_genotypes(tmp_path: Path) -> None:
    gts = ["0/0", "0/1", "1/1", "./.", "1", "0|1"] * 10
    samples = tuple(f"P{i}" for i in range(len(gts)))
    _, rows = read(write_vcf(tmp_path, tabs("1 10 . A G 1 PASS . GT " + " ".join(gts)),
                             samples=samples))
    (row,) = rows
    assert row.zyg[:6] == [Z.HOM_REF, Z.HET, Z.HOM_ALT, Z.MISSING, Z.HEMI_ALT, Z.HET]
    assert (row.ac, row.an) == (5 * 10, 9 * 10)

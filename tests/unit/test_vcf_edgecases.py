"""One test per edge-case kind of tests/data/vcf/edgecases (values from its README)."""

from __future__ import annotations

import pytest

from regovar.adapters.vcf import VcfMalformed, Zygosity
from regovar.adapters.vcf.consequences import worst_impact
from tests.unit.test_vcf_helpers import EDGE, read, vaf3

Z = Zygosity


def test_01_star_spanning_deletion_is_not_a_variant_but_counts_as_allele() -> None:
    _, rows = read(EDGE / "01-star-spanning-deletion.vcf")
    assert [(r.pos, r.ref, r.alt) for r in rows] == [(2100100, "ATCAG", "A"), (2100102, "C", "G")]
    deletion, snv = rows
    assert deletion.zyg == [Z.HET, Z.HOM_REF, Z.HOM_REF]  # S1 carries the deletion
    assert snv.zyg == [Z.OTHER_ALT, Z.HET, Z.HOM_ALT]  # S1 (0/2) is not a C>G carrier
    assert (snv.ac, snv.an, snv.n_alts, snv.alt_index) == (3, 6, 1, 1)
    assert snv.info["AC"] == 3  # the '*' count (1) stays with the dropped allele
    assert vaf3(snv.vaf) == [0.0, 0.52, 1.0]  # '*' depth counts in the denominator


def test_02_haploid_calls_and_mixed_ploidy() -> None:
    _, rows = read(EDGE / "02-haploid-chrX-mixed-ploidy.vcf")
    by = {(r.chrom, r.pos): r for r in rows}
    par = by["X", 60100]
    assert par.zyg == [Z.HET, Z.HOM_REF, Z.HET]
    x1 = by["X", 31200500]
    assert x1.zyg == [Z.HEMI_REF, Z.HET, Z.HEMI_ALT]
    assert (x1.ac, x1.an) == (2, 4)
    x2 = by["X", 31200800]
    assert x2.zyg == [Z.MISSING, Z.HET, Z.HEMI_REF]
    assert (x2.ac, x2.an) == (1, 3)
    assert x2.gt == [".", "0/1", "0"]
    assert by["Y", 2800000].zyg == [Z.HEMI_ALT, Z.MISSING, Z.HEMI_ALT]
    mt = by["MT", 7028]
    assert mt.zyg == [Z.HEMI_REF, Z.HEMI_ALT, Z.HEMI_ALT]
    assert (mt.ac, mt.an) == (2, 3)
    assert x1.format_values["PL"] == [[0, 255], [180, 0, 190], [240, 0]]


def test_04_multiallelic_split_number_r_a_g() -> None:
    _, rows = read(EDGE / "04-multiallelic-split-numberR.vcf")
    g, t = rows
    assert (g.alt, g.alt_index, g.n_alts, t.alt, t.alt_index) == ("G", 1, 2, "T", 2)
    assert (g.ad_ref, g.ad_alt) == ([5, 30, 28], [24, 15, 0])
    assert vaf3(g.vaf) == [0.49, 0.333, 0.0]
    assert (t.ad_ref, t.ad_alt) == ([5, 30, 28], [20, 0, 12])
    assert vaf3(t.vaf) == [0.408, 0.0, 0.3]
    assert (g.ac, t.ac, g.an) == (2, 2, 6)
    assert g.info["AF"] == t.info["AF"] == 0.333
    assert g.zyg == [Z.HET_ALT, Z.HET, Z.OTHER_ALT]  # S3 is REF + other ALT, not hom-ref
    assert t.zyg == [Z.HET_ALT, Z.OTHER_ALT, Z.HET]
    assert g.format_values["PL"] == [[900, 300, 420], [300, 0, 600], [200, 284, 1100]]
    assert t.format_values["PL"] == [[900, 280, 500], [300, 390, 1035], [200, 0, 1160]]
    assert g.gt == t.gt == ["1/2", "0/1", "0/2"]


def test_06_duplicate_sample_names_rejected_with_line_and_columns() -> None:
    with pytest.raises(VcfMalformed) as err:
        read(EDGE / "06-duplicate-sample-names.vcf")
    assert err.value.line == 7
    assert err.value.message == "duplicate sample name 'S1' in columns 10 and 11"


def test_07_header_only_file_gives_no_rows() -> None:
    reader, rows = read(EDGE / "07-header-only-no-records.vcf")
    assert rows == []
    assert reader.header.samples == ["S1", "S2"]


def test_08_sites_only_file() -> None:
    reader, rows = read(EDGE / "08-sites-only-no-samples.vcf")
    assert reader.header.samples == []
    assert [(r.pos, r.ref, r.alt) for r in rows] == [(1750100, "C", "T"), (1750500, "G", "GA")]
    assert all(r.gt == [] and r.zyg == [] and r.vaf == [] and r.ac == 0 for r in rows)
    with pytest.raises(VcfMalformed) as err:
        read(EDGE / "08-sites-only-no-samples.vcf", require_samples=True)
    assert err.value.line == 8
    assert err.value.message.startswith("VCF has no sample columns")


def test_09_spaces_inside_info_values() -> None:
    _, rows = read(EDGE / "09-info-spaces-vcf43.vcf")
    (row,) = rows
    assert row.info["NOTE"] == "seen in two runs"
    assert [a.gene for a in row.annotations] == ["GENEX (2 of 3)"]
    assert (row.gt, row.dp) == (["1/1", "0/1"], [9, 14])


def test_14_crlf_line_endings() -> None:
    reader, rows = read(EDGE / "14-crlf-line-endings.vcf")
    assert reader.header.samples == ["S1", "S2"]
    assert [r.gt for r in rows] == [["0/0", "0/1"], ["1/1", "0/1"]]
    assert [r.dp for r in rows] == [[15, 12], [20, 12]]
    assert [r.line for r in rows] == [9, 10]


def test_15_plain_gzip_detected_from_magic_bytes() -> None:
    reader, rows = read(EDGE / "15-plain-gzip-not-bgzip.vcf.gz")
    assert reader.header.compression == "gzip"
    assert [(r.chrom, r.pos, r.ref, r.alt, r.gt) for r in rows] == [
        ("1", 2200300, "C", "T", ["0/1"]), ("1", 2200400, "A", "G", ["1/1"])]


def test_17_very_long_info_line() -> None:
    _, rows = read(EDGE / "17-very-long-line-csq.vcf")
    long, short = rows
    assert len(long.annotations) == 1500
    assert long.info["TAILTAG"] == "end"
    assert (long.gt, long.dp) == (["0/1"], [19])
    assert (short.pos, short.ref, short.alt, short.info["TAILTAG"]) == (2400800, "C", "T", "short")


def test_18_vep_csq_parsed_with_the_declared_layout() -> None:
    found = []
    for name in ("18a-vep-csq-format-order.vcf", "18b-vep-csq-format-order.vcf"):
        _, rows = read(EDGE / name)
        (a,) = rows[0].annotations
        found.append((a.gene, a.consequences, a.impact, a.feature, a.hgvsp, a.hgvsc, a.biotype))
    assert found[0] == found[1] == ("GENEC", ["missense_variant"], "MODERATE", "ENST00000000003",
                                    "ENSP00000000003.2:p.Ala171Val",
                                    "ENST00000000003.2:c.512C>T", "protein_coding")


def test_20_snpeff_ann_attached_per_allele() -> None:
    reader, rows = read(EDGE / "20-snpeff-ann-per-allele.vcf")
    g, t, split = rows
    assert [(a.consequences, a.impact) for a in g.annotations] == [
        (["missense_variant"], "MODERATE"), (["splice_region_variant", "intron_variant"], "LOW")]
    assert g.annotations[1].warnings == ["WARNING_TRANSCRIPT_INCOMPLETE"]
    assert [(a.consequences, a.impact) for a in t.annotations] == [
        (["stop_gained"], "HIGH"), (["intron_variant"], "MODIFIER")]
    assert worst_impact(a.impact for a in g.annotations) == "MODERATE"
    assert worst_impact(a.impact for a in t.annotations) == "HIGH"
    assert (g.zyg[0], t.zyg[1]) == (Z.HET, Z.HET)
    assert [a.hgvsp for a in split.annotations] == ["p.Asp50Glu"]  # the G entry is dropped
    assert reader.warnings.count("ann_allele_unmatched") == 1


def test_22_vaf_is_none_when_depth_is_zero_or_missing() -> None:
    _, rows = read(EDGE / "22-dp-zero-vaf.vcf")
    (row,) = rows
    assert vaf3(row.vaf) == [None, None, 0.4]
    assert (row.ad_ref, row.ad_alt, row.dp) == ([0, None, 3], [0, None, 2], [0, None, 5])


def test_24_missing_qual_filter_and_alt() -> None:
    _, rows = read(EDGE / "24-qual-filter-missing.vcf")
    assert [(r.line, r.qual, r.filters) for r in rows] == [
        (10, None, None), (11, 0.0, ["PASS"]), (12, 50.0, ["LowQual", "LowDP"])]


def test_25_duplicate_records_are_all_emitted_for_the_loader() -> None:
    _, rows = read(EDGE / "25-duplicate-records.vcf")
    assert [(r.line, r.pos, r.ref, r.alt, r.info["set"]) for r in rows] == [
        (9, 2900100, "G", "A", "callerA"), (10, 2900100, "G", "A", "callerB"),
        (11, 2900150, "T", "C", "callerB")]


def test_28_contig_names_follow_the_assembly() -> None:
    a37, rows37 = read(EDGE / "28a-chr-prefix-grch37.vcf")
    a38, rows38 = read(EDGE / "28b-no-prefix-grch38.vcf")
    assert (a37.assembly, a38.assembly) == ("GRCh37", "GRCh38")
    assert [(r.chrom, r.pos) for r in rows37] == [("1", 3000100), ("X", 153000000)]
    assert [(r.chrom, r.pos) for r in rows38] == [("chr1", 3000100), ("chrM", 7028)]
    assert (rows37[0].pos, rows37[0].ref, rows37[0].alt) == (rows38[0].pos, rows38[0].ref,
                                                            rows38[0].alt)


def test_31_gvcf_reference_blocks_give_no_rows() -> None:
    _, rows = read(EDGE / "31-gvcf-nonref-blocks.vcf")
    (row,) = rows
    assert (row.pos, row.ref, row.alt, row.n_alts) == (3100115, "A", "T", 1)
    assert (row.zyg, row.ad_ref, row.ad_alt, vaf3(row.vaf)) == ([Z.HET], [10], [8], [0.444])
    assert row.format_values["PL"] == [[239, 0, 300]]


def test_33_phased_genotypes_and_phase_sets() -> None:
    _, rows = read(EDGE / "33-phased-genotypes.vcf")
    first, second = rows
    assert first.zyg == [Z.HET, Z.HET, Z.HET, Z.HET, Z.HOM_ALT]
    assert first.gt == ["0|1", "1|0", "0/1", "1/0", "1|1"]
    assert first.ps == [1000000, 1000000, None, None, 1000000]
    assert second.gt[:2] == ["1|0", "1|0"]  # S1 in trans, S2 in cis: the GT strings tell
    assert second.ps[:2] == [1000000, 1000000]


def test_36_strelka_somatic_without_gt_or_ad() -> None:
    _, rows = read(EDGE / "36-strelka-somatic-no-gt.vcf")
    snv, indel = rows
    assert snv.zyg == indel.zyg == [Z.MISSING, Z.MISSING]
    assert snv.gt == [None, None] and (snv.ac, snv.an) == (0, 0)
    assert vaf3(snv.vaf) == [0.014, 0.432]
    assert (snv.ad_ref, snv.ad_alt) == ([69, 50], [1, 38])
    assert vaf3(indel.vaf) == [0.0, 0.424]
    assert (indel.ad_ref, indel.ad_alt) == ([140, 95], [0, 70])
    assert snv.info["SOMATIC"] is True


def test_37_freebayes_ro_ao_instead_of_ad() -> None:
    _, rows = read(EDGE / "37-freebayes-ro-ao-no-ad.vcf")
    alt1, alt2, hom = rows
    assert (alt1.ad_ref, alt1.ad_alt, alt2.ad_alt) == ([70], [12], [5])
    assert vaf3(alt1.vaf) == [0.138] and vaf3(alt2.vaf) == [0.057]
    assert vaf3(hom.vaf) == [1.0]
    assert (alt1.pos, alt1.ref, alt1.alt) == (3500100, "CT", "C")
    assert (alt2.pos, alt2.ref, alt2.alt) == (3500100, "C", "CT")
    assert alt1.format_values["GL"] == [[-30.0, 0.0, -40.0]]
    assert alt2.format_values["GL"] == [[-30.0, -35.0, -60.0]]

"""Real public VCFs from ../shared/data (skipped when that folder is absent)."""

from __future__ import annotations

import pytest

from regovar.adapters.vcf import Zygosity, open_vcf
from tests.unit.test_vcf_helpers import SHARED, read, vaf3

TRIO = SHARED / "slivar__ashk-trio.vcf.gz"


@pytest.mark.skipif(not TRIO.exists(), reason="shared/data not available")
def test_giab_trio_streams_with_exact_values() -> None:
    # Values checked by hand with: zcat slivar__ashk-trio.vcf.gz | grep -v '^#' | sed -n '3p;500p'
    with open_vcf(TRIO) as reader:
        assert reader.header.samples == ["HG002", "HG003", "HG004"]
        assert (reader.header.compression, reader.assembly) == ("bgzf", "GRCh37")
        assert reader.header.header_lines == 136
        records: set[int] = set()
        picked = {}
        count = 0
        for row in reader.rows():
            count += 1
            records.add(row.line)
            if row.line in (139, 636):
                picked[row.line] = row
        assert reader.bytes_read() == reader.total_bytes
    assert len(records) == 9940 and count >= 9940

    r = picked[139]  # 1 69511 A>G, HG002 and HG004 './.' with AD 0,0
    assert (r.chrom, r.pos, r.ref, r.alt, r.qual) == ("1", 69511, "A", "G", 3776.9)
    assert r.filters == ["VQSRTrancheSNP99.00to99.90"]
    assert r.zyg == [Zygosity.MISSING, Zygosity.HOM_ALT, Zygosity.MISSING]
    assert (r.ac, r.an, r.dp, r.gq) == (2, 2, [0, 128, 0], [None, 99, None])
    assert vaf3(r.vaf) == [None, 1.0, None]
    (bcsq,) = r.annotations
    assert (bcsq.gene, bcsq.feature, bcsq.consequences, bcsq.impact) == (
        "OR4F5", "ENST00000335137", ["missense_variant"], "MODERATE")

    r = picked[636]  # 1 3807388 G>A
    assert (r.pos, r.ref, r.alt, r.gt) == (3807388, "G", "A", ["0/1", "0/0", "1/1"])
    assert (r.ad_ref, r.ad_alt, vaf3(r.vaf)) == ([169, 150, 0], [152, 0, 254], [0.474, 0.0, 1.0])
    assert (r.ac, r.an, r.info["VQSLOD"], r.info["POSITIVE_TRAIN_SITE"]) == (3, 6, 18.09, True)
    assert r.format_values["PL"][2] == [8436, 761, 0]
    assert [(a.gene, a.consequences, a.impact) for a in r.annotations] == [
        ("C1orf174", ["synonymous_variant"], "LOW")]


FILES = {
    "bio2zarr__CEUTrio.20.21.gatk3.4.g.vcf.bgz": 1457,
    "cyvcf2__test.vcf.gz": 115,
    "debian-r-bioc-structuralvariantannotation__colo829_somatic_manta.vcf": 431,
    "ensembl-vep__clinvar-testset_input.vcf.gz": 50,
    "opencga__quartet.variants.annotated.partial.vcf.gz": 17292,
    "scout__manta_vep_94_annotated_sv_cancer_file.vcf.gz": 15,
    "scout__vep113_existing_variation.vcf": 1,
    "slivar__clinvar_20191007.vcf.gz": 72,
    "snpeff__test.chr22.ann.filter_missense_any.vcf": 20,
    "truvari__multi.vcf.gz": 3513,
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_real_files_do_not_crash(name: str) -> None:
    path = SHARED / name
    if not path.exists():
        pytest.skip("shared/data not available")
    reader, rows = read(path)
    assert len(rows) == FILES[name]
    for row in rows[:50]:
        assert isinstance(row.info, dict) and isinstance(row.annotations, list)
    if reader.header.annotation_fields:
        assert any(row.annotations for row in rows)

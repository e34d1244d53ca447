"""Acceptance: every VCF of ../shared/data through the whole import, with values a user checks.

Skipped when ../shared/data is absent (a clone without the shared folder beside it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from regovar.domain import variant_filter as vf
from tests.conftest import SHARED
from tests.helpers import import_file, rows

pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not available"),
]

# file, PED, assembly, records (data lines), samples, (chrom, pos, sample, gt, zygosity, dp)
CASES = [
    (
        "slivar__ashk-trio.vcf.gz",
        "slivar__ashk-trio.ped",
        None,
        9940,
        3,
        ("1", 65797, "HG002", "1/1", "hom_alt", 2),
    ),
    (
        "opencga__quartet.variants.annotated.partial.vcf.gz",
        "exomiser__Pfeiffer-quartet.ped",
        None,
        17243,
        4,
        ("6", 203397, "ISDBM322016", "0/0", "hom_ref", 28),
    ),
    (
        "cyvcf2__test.vcf.gz",
        None,
        None,
        115,
        189,
        ("1", 10172, "100920-100920", "./.", "missing", 40),
    ),
    ("scout__manta_vep_94_annotated_sv_cancer_file.vcf.gz", None, None, 15, 2, None),
    (
        "scout__vep113_existing_variation.vcf",
        None,
        None,
        1,
        1,
        ("chr15", 48409410, "sample1", "0/1", "het", 38),
    ),
    (
        "truvari__hg002_comp.vcf.gz",
        None,
        None,
        193047,
        1,
        ("chr20", 60002, "HG002", "1/1", "hom_alt", None),
    ),
    ("truvari__multi.vcf.gz", None, None, 3513, 3, ("chr20", 63971, "NA12878", "1|0", "het", 42)),
    ("bio2zarr__CEUTrio.20.21.gatk3.4.g.vcf.bgz", None, None, 19910, 1, None),  # 1,330 not blocks
    (
        "debian-r-bioc-structuralvariantannotation__colo829_somatic_manta.vcf",
        None,
        None,
        431,
        2,
        None,
    ),
    (
        "snpeff__genotypes.chr22.vcf.gz",
        None,
        None,
        14524,
        483,
        ("22", 16498387, "GS000003493-ASM", "0/0", "hom_ref", None),
    ),
]
SITES_ONLY = [
    "ensembl-vep__clinvar-testset_input.vcf.gz",
    "slivar__clinvar_20191007.vcf.gz",
    "snpeff__test.chr22.ann.filter_missense_any.vcf",
]


@pytest.mark.parametrize("case", CASES, ids=[c[0].split("__")[0] + "-" + c[0][-12:] for c in CASES])
async def test_shared_file_imports(container, case):
    name, ped, assembly, records, samples, check = case
    job = await import_file(
        container, SHARED / name, ped=SHARED / ped if ped else None, assembly=assembly
    )
    assert job.state == "done", job.error_message
    assert (job.records, job.samples) == (records, samples)
    dropped = sum(w["count"] for w in job.warnings
                  if w["kind"] in ("duplicate_record", "no_variant_allele"))  # fmt: skip
    assert job.variants >= records - dropped  # split ALTs add rows; duplicates, blocks none
    if check is None:
        return
    chrom, pos, sample, gt, zygosity, dp = check
    items, ids = await rows(container, job, vf.Region(chrom, pos, pos), names=[sample])
    assert items, f"{chrom}:{pos} not found"
    call = items[0].samples[ids[sample]]
    assert call["gt"] == gt
    assert vf.ZYGOSITY_NAMES[call["zyg"]] == zygosity
    assert call["dp"] == dp


@pytest.mark.parametrize("name", SITES_ONLY)
async def test_sites_only_files_are_refused_with_a_clear_message(container, name):
    job = await import_file(container, SHARED / name)
    assert (job.state, job.error_code) == ("failed", "VCF_NO_SAMPLES")
    assert "no sample columns" in job.error_message and name in job.error_message


def test_every_shared_vcf_is_covered():
    names = {p.name for p in Path(SHARED).iterdir() if ".vcf" in p.name or p.suffix == ".bgz"}
    assert names == {c[0] for c in CASES} | set(SITES_ONLY)

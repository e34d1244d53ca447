"""Filter conditions on real files: a BED panel, HGVS text and per-transcript VEP fields."""

from __future__ import annotations

import uuid

import pytest

from regovar.domain.analyses import CreateAnalysis, MemberSpec
from regovar.domain.errors import InvalidInput
from regovar.domain.principal import SYSTEM
from tests.conftest import SHARED
from tests.helpers import DEMO_PED, DEMO_VCF, import_file, new_project, samples_of

BED = SHARED / "mokabed__FHdata.bed"  # familial hypercholesterolaemia panel, GRCh37, chr-named
VEP = SHARED / "scout__vep113_existing_variation.vcf"


async def _analysis(container, vcf, ped=None, proband="HG002"):
    project = await new_project(container, "cond")
    job = await import_file(container, vcf, ped=ped, project=project)
    assert job.state == "done", job.error_message
    samples = await samples_of(container, job)
    view = await container.analyses.create(
        SYSTEM, CreateAnalysis(project.id, f"c-{uuid.uuid4().hex[:6]}",
                               (MemberSpec(samples[proband].id),))
    )
    return view.analysis.id


async def _keys(container, analysis_id, node) -> list[tuple[str, int]]:
    out, offset = [], 0
    while True:
        result = await container.analyses.results(
            SYSTEM, analysis_id, {"version": 1, "filter": node}, offset=offset, limit=1000
        )
        out += [(r.chrom, r.pos) for r in result.page.items]
        offset += 1000
        if offset >= result.page.total:
            return out


@pytest.mark.skipif(not BED.exists(), reason="../shared/data is absent")
async def test_a_bed_panel_keeps_the_variants_inside_its_regions(container):
    analysis_id = await _analysis(container, DEMO_VCF, DEMO_PED)
    text = BED.read_text()
    intervals = []  # chr-named, 0-based half-open: the demo file names chromosomes 1, 2...
    for line in text.splitlines():
        chrom, start, end = line.split("\t")[:3]
        if start.isdigit():
            intervals.append((chrom.removeprefix("chr"), int(start), int(end)))
    everything = await _keys(container, analysis_id, None)
    inside = {
        (c, p) for c, p in everything if any(c == ic and s < p <= e for ic, s, e in intervals)
    }
    got = await _keys(container, analysis_id, {"bed": text})
    assert set(got) == inside and len(got) == len(inside) > 0
    with pytest.raises(InvalidInput, match=r"filter.bed, line 2: expected CHROM START END"):
        await _keys(container, analysis_id, {"bed": "chr1\t10\t20\nchr1\tten\t20\n"})


@pytest.mark.skipif(not VEP.exists(), reason="../shared/data is absent")
async def test_hgvs_and_vep_fields_of_any_transcript(container):
    analysis_id = await _analysis(container, VEP, proband="sample1")
    cases = [
        ({"hgvs": "c.*1580G>A"}, 1),
        ({"hgvs": "ENST00000316623.10:c.*1580G>A"}, 1),
        ({"hgvs": "c.1580G>A"}, 0),
        ({"annotation": {"name": "HGNC_ID", "op": "eq", "value": "HGNC:3603"}}, 1),
        ({"annotation": {"name": "gene", "op": "eq", "value": "FBN1"}}, 1),
        ({"genes": ["HGNC:3603"]}, 1),  # FBN1 by its HGNC id
        ({"genes": ["hgnc:1100", "FBN1"]}, 1),
        ({"genes": ["HGNC:1100"]}, 0),
        ({"annotation": {"name": "STRAND", "op": "lt", "value": 0}}, 1),
        ({"annotation": {"name": "STRAND", "op": "gt", "value": 0}}, 0),
        ({"annotation": {"name": "CANONICAL", "op": "eq", "value": "YES"}}, 1),
        ({"annotation": {"name": "EXON", "op": "gt", "value": 1}}, 0),  # "66/66" is no number
        ({"not": {"annotation": {"name": "HGNC_ID", "op": "eq", "value": "HGNC:3603"}}}, 0),
    ]
    for node, count in cases:
        assert len(await _keys(container, analysis_id, node)) == count, node


TRUVARI = SHARED / "truvari__hg002_comp.vcf.gz"


@pytest.mark.skipif(not TRUVARI.exists(), reason="../shared/data is absent")
async def test_the_calls_own_filter(container):
    """truvari's HG002 comparison: FORMAT FT is PASS on 157,012 records and FAIL on 36,035."""
    analysis_id = await _analysis(container, TRUVARI, proband="HG002")

    async def total(node):
        result = await container.analyses.results(
            SYSTEM, analysis_id, {"version": 1, "filter": node}, limit=1
        )
        return result.page.total, result.page.items

    everything, _ = await total(None)
    passed, items = await total({"sample_filter": {"sample": "proband"}})
    failed, _ = await total({"sample_filter": {"sample": "proband", "pass": False,
                                               "any_of": ["FAIL"]}})  # fmt: skip
    assert passed + failed == everything and failed > 30_000 and passed > 150_000
    assert items[0].samples[next(iter(items[0].samples))]["ft"] == "PASS"

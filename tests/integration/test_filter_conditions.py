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


async def test_info_conditions_mean_what_a_user_means(container, tmp_path):
    # SCORE (declared String) holding numbers matched no number; 'DB=false' and 'ne true'
    # matched nothing (an absent flag is false); CLNSIG != Pathogenic kept a variant listing
    # Pathogenic; 'dp>=10' (for DP) and 'XX>1' gave an empty result without a word; 1000G was
    # refused as a name; 'exists' ignored a value given with it.
    from regovar.domain import variant_filter as vf
    from tests.helpers import rows

    head = (
        "##fileformat=VCFv4.2\n##reference=GRCh37\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
        '##INFO=<ID=DP,Number=1,Type=Integer,Description="d">\n'
        '##INFO=<ID=DB,Number=0,Type=Flag,Description="dbSNP">\n'
        '##INFO=<ID=1000G,Number=0,Type=Flag,Description="1000 Genomes">\n'
        '##INFO=<ID=SCORE,Number=1,Type=String,Description="a score written as text">\n'
        '##INFO=<ID=CLNSIG,Number=.,Type=String,Description="c">\n'
        '##INFO=<ID=LIST,Number=.,Type=String,Description="numbers as text">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
    )
    body = [
        "DP=12;DB;SCORE=5;CLNSIG=Pathogenic,Likely_pathogenic;LIST=1,7;1000G",
        "DP=3;SCORE=2.5;CLNSIG=Benign;LIST=x,2;UNDECLARED=4",
        "DP=30;SCORE=n/a",
    ]
    path = tmp_path / "info.vcf"
    path.write_text(head + "".join(f"1\t{100 * (i + 1)}\t.\tC\tT\t50\tPASS\t{info}\tGT\t0/1\n"
                                   for i, info in enumerate(body)))  # fmt: skip
    job = await import_file(container, path)
    assert job.state == "done", job.error_message

    async def pos(*nodes: vf.Node) -> list[int]:
        items, _ = await rows(container, job, vf.And(nodes))
        return [r.pos for r in items]

    assert await pos(vf.Info("SCORE", "gt", 3.0)) == [100]
    assert await pos(vf.Info("SCORE", "le", 2.5)) == [200]
    assert await pos(vf.Info("SCORE", "eq", 5.0)) == [100]
    assert await pos(vf.Info("SCORE", "eq", "n/a")) == [300]
    assert await pos(vf.Info("LIST", "ge", 7.0)) == [100]
    assert await pos(vf.Info("LIST", "lt", 3.0)) == [100, 200]  # 'x' skipped, 2 < 3
    assert await pos(vf.Info("DB", "eq", True)) == [100]
    assert await pos(vf.Info("DB", "eq", False)) == [200, 300]
    assert await pos(vf.Info("DB", "ne", True)) == [200, 300]
    assert await pos(vf.Info("1000G", "exists")) == [100]
    assert await pos(vf.Info("CLNSIG", "ne", "Pathogenic")) == [200, 300]
    assert await pos(vf.Info("CLNSIG", "eq", "Pathogenic")) == [100]
    assert await pos(vf.Info("DP", "ne", 3.0)) == [100, 300]
    assert await pos(vf.Info("UNDECLARED", "ge", 4.0)) == [200]  # in the data: queryable
    with pytest.raises(InvalidInput, match=r"INFO field 'dp': no file of these samples "
                       r"declares it nor has it \(names are case-sensitive\); did you mean "
                       r"DP\?"):  # fmt: skip
        await pos(vf.Info("dp", "ge", 10.0))
    with pytest.raises(InvalidInput, match="INFO field 'XX'"):
        await pos(vf.Info("XX", "exists"))
    with pytest.raises(InvalidInput, match="INFO DP exists: takes no value"):
        await pos(vf.Info("DP", "exists", 3.0))
    with pytest.raises(InvalidInput, match="a flag is true or false; use eq or ne"):
        await pos(vf.Info("DB", "gt", True))
    with pytest.raises(InvalidInput, match="INFO DB is a flag: ask whether it is there"):
        await pos(vf.Info("DB", "ge", 1.0))  # compared a number with true: nothing, silently
    # the CLI's text true/false: a flag's value on a Flag only; on others, refused or text
    assert await pos(vf.Info("DB", "eq", "true")) == [100]
    assert await pos(vf.Info("DB", "ne", "TRUE")) == [200, 300]
    with pytest.raises(InvalidInput, match=r"INFO DP \(Integer\) is no flag: true or false"):
        await pos(vf.Info("DP", "eq", False))
    assert await pos(vf.Info("DP", "eq", "12")) == [100]  # a number written as text
    with pytest.raises(InvalidInput, match=r"INFO DP \(Integer\) holds numbers: 'x' is not"):
        await pos(vf.Info("DP", "eq", "x"))
    assert await pos(vf.Info("SCORE", "eq", "5")) == [100]  # text field: text or number alike
    with pytest.raises(InvalidInput, match="INFO CSQ holds annotations, stored per transcript"):
        await pos(vf.Info("CSQ", "exists"))


async def test_annotation_fields_and_ids_as_a_user_writes_them(container):
    # 'fbn1' and 'modifier' matched nothing (case), nor 'benign' in a VEP '&' list; an unknown
    # field matched nothing, silently; GERP++_RS was refused as a name; a sample id given as
    # GraphQL writes it ("3") was refused; QUAL beyond a 4-byte float was an internal error;
    # 'exists' with a value was taken.
    analysis_id = await _analysis(container, VEP, proband="sample1")
    assert len(await _keys(container, analysis_id, None)) == 1  # FBN1, MODIFIER, CLIN_SIG list

    async def count(node) -> int:
        return len(await _keys(container, analysis_id, node))

    for name, value in (("IMPACT", "MODIFIER"), ("IMPACT", "modifier"), ("impact", "modifier"),
                        ("gene", "fbn1"), ("SYMBOL", "Fbn1"), ("CLIN_SIG", "benign"),
                        ("Consequence", "3_prime_UTR_variant"), ("Feature", "ENST00000316623"),
                        ("Consequence", "3_PRIME_UTR_VARIANT"), ("consequences", "3_prime_utr"),
                        ("CLIN_SIG", "likely_benign&benign&uncertain_significance")):
        assert await count({"annotation": {"name": name, "op": "eq", "value": value}}) == 1
    assert await count({"annotation": {"name": "CLIN_SIG", "op": "eq", "value": "enign"}}) == 0
    assert await count({"annotation": {"name": "Consequence", "op": "ne",
                                       "value": "3_prime_utr"}}) == 0  # fmt: skip
    from regovar.adapters.vcf.annotations import stored_key

    # SnpEff's HGVS.c / HGVS.p are stored as hgvsc / hgvsp: asked by name, they matched nothing
    assert (stored_key("HGVS.c"), stored_key("HGVS.p"), stored_key("Gene_Name")) == (
        "hgvsc", "hgvsp", "gene")
    # SYMBOL, IMPACT, Consequence are stored under Regovar's keys: asked so, they matched nothing
    assert await count({"annotation": {"name": "Consequence", "op": "eq",
                                       "value": "missense_variant"}}) == 0  # fmt: skip
    assert await count({"annotation": {"name": "CLIN_SIG", "op": "ne", "value": "benign"}}) == 0
    assert await count({"annotation": {"name": "GERP++_RS", "op": "lt", "value": 0}}) == 0
    with pytest.raises(InvalidInput, match=r"annotation field 'Sift': none of the annotations "
                       r"of these samples has it .*did you mean SIFT"):  # fmt: skip
        await count({"annotation": {"name": "Sift", "op": "eq", "value": "deleterious"}})
    with pytest.raises(InvalidInput, match=r"QUAL lt 3.5e\+38: beyond the values a QUAL can"):
        await count({"qual": {"op": "lt", "value": 3.5e38}})
    view = await container.analyses.get(SYSTEM, analysis_id)
    sid = view.members[0].sample_id
    het = await count({"genotype": {"sample": str(sid), "is": ["het", "hom_alt"]}})
    assert het == await count({"genotype": {"sample": sid, "is": ["het", "hom_alt"]}}) == 1
    with pytest.raises(InvalidInput, match="VAF lt 1e\\+39: beyond"):
        await count({"sample_value": {"sample": str(sid), "field": "vaf", "op": "lt",
                                      "value": 1e39}})  # fmt: skip
    with pytest.raises(InvalidInput, match=r"filter\.info\.value: exists takes no value"):
        await count({"info": {"name": "DB", "op": "exists", "value": 3}})


async def test_a_long_gene_list_is_one_condition_and_too_many_regions_say_what_to_do(container):
    # 2,001 gene symbols were refused, pointing to a "gene panel" feature there is not.
    analysis_id = await _analysis(container, DEMO_VCF, DEMO_PED)
    everything = await _keys(container, analysis_id, None)
    genes = [f"NOTAGENE{i}" for i in range(5_000)] + ["EFHD2"]
    got = await _keys(container, analysis_id, {"genes": genes})
    assert got and got == await _keys(container, analysis_id, {"genes": ["EFHD2"]})
    assert len(got) < len(everything)
    bed = "".join(f"1\t{i * 1000}\t{i * 1000 + 10}\n" for i in range(2_500))
    with pytest.raises(InvalidInput, match=r"2,50\d conditions, regions and list items .*merge "
                       r"overlapping or adjacent regions \(bedtools merge\)"):  # fmt: skip
        await _keys(container, analysis_id, {"bed": bed})

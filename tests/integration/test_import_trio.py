"""The main job on real data: the GIAB Ashkenazi trio (GATK joint calls, bcftools csq)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from regovar.domain import variant_filter as vf
from regovar.domain.errors import InvalidInput
from regovar.domain.imports import StartImport
from regovar.domain.principal import SYSTEM
from regovar.models.reals import stored_real
from tests.helpers import DEMO_PED, DEMO_VCF, import_file, new_project, rows, samples_of


@pytest.fixture(scope="module")
async def trio(container):
    return await import_file(container, DEMO_VCF, ped=DEMO_PED)


async def test_counts_and_samples(container, trio):
    assert trio.state == "done", trio.error_message
    assert trio.records == 9940
    assert trio.assembly == "GRCh37"
    assert trio.samples == 3
    assert trio.variants >= 9940  # multi-allelic sites split into one variant per ALT
    assert trio.genotypes == trio.variants * 3
    samples = await samples_of(container, trio)
    assert [samples[n].column for n in ("HG002", "HG003", "HG004")] == [0, 1, 2]


async def test_pedigree_links_subjects(container, trio):
    page = await container.projects.subjects(SYSTEM, trio.project_id)
    subjects = {s.identifier: s for s in page.items}
    child = subjects["HG002"]
    assert child.father_id == subjects["HG003"].id
    assert child.mother_id == subjects["HG004"].id
    assert (child.sex, child.affected, child.family) == (1, 2, "ash")
    assert subjects["HG004"].sex == 2


async def test_a_region_takes_either_contig_convention(container, trio):
    # GRCh37 calls are on '1'; a user used to GRCh38 types 'chr1' (or 'CHR1').
    plain, _ = await rows(container, trio, vf.Region("1", 1, 1_000_000))
    assert len(plain) > 5
    for name in ("chr1", "CHR1"):
        named, _ = await rows(container, trio, vf.Region(name, 1, 1_000_000))
        assert [(r.chrom, r.pos) for r in named] == [(r.chrom, r.pos) for r in plain]
    assert (await rows(container, trio, vf.Region("chr2", 1, 1_000_000)))[0] != plain


def _mito(path, assembly: str, name: str, length: int):
    path.write_text(
        f"##fileformat=VCFv4.2\n##reference={assembly}\n##contig=<ID={name},length={length}>\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
        f"{name}\t750\t.\tA\tG\t50\tPASS\t.\tGT\t1\n"
    )
    return path


async def test_the_mitochondrion_is_not_mixed_with_hg19_s_chrm(container, tmp_path):
    # GRCh37 MT and GRCh38 chrM are the rCRS; a GRCh37 file's chrM (16,571 bp) is hg19's,
    # another sequence, stored as chrM: 'MT' must not find it, 'chrM' finds only it there.
    project = await new_project(container)
    rcrs = await import_file(container, _mito(tmp_path / "mt.vcf", "GRCh37", "MT", 16569),
                             project=project)  # fmt: skip
    hg19 = await import_file(container, _mito(tmp_path / "hg19.vcf", "GRCh37", "chrM", 16571),
                             project=project)  # fmt: skip
    grch38 = await import_file(container, _mito(tmp_path / "38.vcf", "GRCh38", "chrM", 16569),
                               project=await new_project(container))  # fmt: skip
    found = {}
    for name, job in (("rcrs", rcrs), ("hg19", hg19), ("grch38", grch38)):
        assert job.state == "done", job.error_message
        for asked in ("MT", "M", "chrM"):
            items, _ = await rows(container, job, vf.Region(asked, 1, 16571))
            found[name, asked] = [r.chrom for r in items]
    assert found["rcrs", "MT"] == found["rcrs", "M"] == ["MT"] and found["rcrs", "chrM"] == []
    assert found["hg19", "chrM"] == ["chrM"] and found["hg19", "MT"] == []
    assert found["grch38", "MT"] == found["grch38", "chrM"] == ["chrM"]


async def test_first_record_values(container, trio):
    items, ids = await rows(container, trio, vf.Region("1", 65797, 65797))
    (row,) = items
    assert (row.chrom, row.pos, row.ref, row.alt) == ("1", 65797, "T", "C")
    assert row.qual == pytest.approx(32.92, abs=1e-3)
    assert row.filters == ["VQSRTrancheSNP99.90to100.00"]
    assert row.info["AF"] == [0.333] or row.info["AF"] == 0.333
    child, father = row.samples[ids["HG002"]], row.samples[ids["HG003"]]
    assert (child["gt"], child["zyg"], child["dp"], child["gq"]) == ("1/1", 2, 2, 6)
    assert (child["ad_ref"], child["ad_alt"], child["vaf"]) == (0, 2, 1.0)
    assert (father["gt"], father["zyg"], father["dp"]) == ("0/0", 0, 11)
    assert (row.ac, row.an) == (2, 6)


async def test_de_novo_query_returns_only_matching_genotypes(container, trio):
    samples = await samples_of(container, trio)
    child, father, mother = (samples[n].id for n in ("HG002", "HG003", "HG004"))
    node = vf.And(
        (
            vf.Genotype(child, ("het",)),
            vf.Genotype(father, ("hom_ref",)),
            vf.Genotype(mother, ("hom_ref",)),
            vf.SampleValue(child, "dp", "ge", 10),
        )
    )
    page = await container.variants.query(
        SYSTEM, vf.VariantQuery((child, father, mother), node, limit=1000)
    )
    assert 0 < page.total < 500
    assert len(page.items) == page.total
    for r in page.items:
        assert r.samples[child]["zyg"] in (1, 5)
        assert r.samples[father]["zyg"] == 0 and r.samples[mother]["zyg"] == 0
        assert r.samples[child]["dp"] >= 10
    positions = [(r.chrom, r.pos) for r in page.items]
    assert positions == sorted(positions, key=lambda p: (int(p[0]), p[1]))


async def test_a_pre_split_site_is_never_hom_ref_beside_another_alt(container, trio):
    """The demo file was split by `bcftools norm -m -`: at 2:15491994 the mother (HG004) is 0/0
    in the line of one deletion and 1/1 in the next line (the other deletion)."""
    items, ids = await rows(container, trio, vf.Region("2", 15491994, 15491994))
    by_alt = {(r.ref, r.alt): r.samples for r in items}
    assert len(by_alt) == 2
    short = next(s for (ref, _), s in by_alt.items() if len(ref) == 13)
    other = next(s for (ref, _), s in by_alt.items() if len(ref) != 13)
    mother, father, child = ids["HG004"], ids["HG003"], ids["HG002"]
    assert short[mother]["gt"] == "0/0" and short[mother]["zyg"] == 6  # other ALT, not hom-ref
    assert other[mother]["gt"] == "1/1" and other[mother]["zyg"] == 2
    assert short[child]["zyg"] == other[child]["zyg"] == 5  # 1/2: this ALT and another
    assert short[father]["zyg"] == 6 and other[father]["zyg"] == 1  # 0/2: REF and the other


async def test_a_pre_split_site_s_vafs_count_every_allele_s_depth(container, trio):
    """HG003 is 1/2 at 1:146714392, written 1/0 with AD 0,45 and 0/1 with AD 0,34: its VAFs
    read 1 and 1 (a VAF filter dropped the call); over the site's 79 reads they are 45/79 and
    34/79. HG002, 1/1 with no read of T, keeps 1 for C and 0 for T."""
    items, ids = await rows(container, trio, vf.Region("1", 146714392, 146714392))
    by_alt = {r.alt: r.samples for r in items}
    father, child = ids["HG003"], ids["HG002"]
    assert by_alt["C"][father]["vaf"] == pytest.approx(45 / 79)
    assert by_alt["T"][father]["vaf"] == pytest.approx(34 / 79)
    assert (by_alt["C"][child]["vaf"], by_alt["T"][child]["vaf"]) == (1.0, 0.0)
    assert by_alt["C"][father]["ad_alt"] == 45 and by_alt["C"][father]["ad_ref"] == 0


async def test_annotations_filter_by_gene_and_consequence(container, trio):
    items, _ = await rows(container, trio, vf.Consequences(("missense_variant",)))
    assert len(items) > 100
    assert all("missense_variant" in r.consequences for r in items)
    assert all(r.worst_impact >= 2 for r in items)
    gene = items[0].genes[0]
    by_gene, _ = await rows(container, trio, vf.Genes((gene,)))
    assert by_gene and all(gene in r.genes for r in by_gene)
    high, _ = await rows(container, trio, vf.MinImpact("MODERATE"))
    assert all(r.worst_impact >= 2 for r in high)


async def test_a_term_or_gene_as_a_user_types_it_finds_what_the_file_wrote(container, trio):
    # 'missense' (the bcftools name the file holds), 'efhd2' and 'not_a_term' gave 0 variants
    # without a word: read as real negatives.
    samples = await samples_of(container, trio)
    ids = tuple(s.id for s in samples.values())

    async def total(node: vf.Node) -> int:
        page = await container.variants.query(SYSTEM, vf.VariantQuery(ids, node, limit=1))
        return page.total

    missense = await total(vf.Consequences(("missense_variant",)))
    assert missense > 100
    assert await total(vf.Consequences(("missense",))) == missense
    assert await total(vf.Consequences(("MISSENSE_VARIANT",))) == missense
    assert await total(vf.Genes(("efhd2",))) == await total(vf.Genes(("EFHD2",))) > 0
    with pytest.raises(InvalidInput, match=r"unknown consequence term 'missense_varient'.*"
                       r"did you mean missense_variant"):  # fmt: skip
        await total(vf.Consequences(("missense_varient",)))


async def test_reimport_duplicates_nothing(container, trio):
    before = await _count(container, "SELECT count(*) FROM variants")
    started = await container.imports.start(
        SYSTEM, StartImport(trio.project_id, str(DEMO_VCF), str(DEMO_PED)), queue=False
    )
    assert started.already_imported and started.job.id == trio.id
    again = await container.imports.run(SYSTEM, trio.id)
    assert again.state == "done"
    assert await _count(container, "SELECT count(*) FROM variants") == before
    page = await container.variants.samples(SYSTEM, project_id=trio.project_id)
    assert page.total == 3


async def test_same_file_in_another_project_shares_variants(container, trio):
    before = await _count(container, "SELECT count(*) FROM variants")
    other = await import_file(container, DEMO_VCF, project=await new_project(container))
    assert other.state == "done" and other.new_variants == 0
    assert await _count(container, "SELECT count(*) FROM variants") == before
    items, _ = await rows(container, other, vf.Region("1", 65797, 65797))
    assert len(items) == 1


async def _count(container, sql: str) -> int:
    async with container.engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


async def test_qual_and_vaf_compare_and_show_as_the_file_wrote_them(container, tmp_path):
    # Stored as 4-byte floats: QUAL 18253.01 is 18253.0098, which '>= 18253.01' (a double)
    # missed, and which showed as 18253.0; a VAF of 1/10 failed 'vaf <= 0.1' so.
    path = tmp_path / "qual.vcf"
    path.write_text(
        "##fileformat=VCFv4.2\n##reference=GRCh37\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="d">\n'
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
        "1\t750\t.\tA\tG\t18253.01\tPASS\t.\tGT:AD\t0/1:9,1\n"
    )
    job = await import_file(container, path, project=await new_project(container))
    (sid,) = (await rows(container, job))[1].values()
    found, _ = await rows(container, job, vf.And((
        vf.Qual("ge", 18253.01), vf.SampleValue(sid, "vaf", "le", 0.1))))  # fmt: skip
    assert [r.pos for r in found] == [750]
    assert await rows(container, job, vf.Qual("gt", 18253.01)) == ([], {"S1": sid})
    assert stored_real(found[0].qual) == 18253.01
    assert stored_real(found[0].samples[sid]["vaf"]) == 0.1


async def test_the_cli_lists_subjects_with_their_pedigree(container, trio, database_url, tmp_path):
    # The pedigree a PED set could only be seen by creating an analysis.
    import csv
    import os
    import subprocess
    import sys

    (project,) = (await container.projects.get_many(SYSTEM, [trio.project_id])).values()
    env = {**os.environ, "REGOVAR_DATABASE_URL": database_url,
           "REGOVAR_DATA_DIR": str(tmp_path / "data")}  # fmt: skip
    listed = subprocess.run(
        [sys.executable, "-c", "from regovar.cli import main; main()", "subjects", "list", "-p",
         project.name, "--format", "tsv"], capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    rows = {r["subject"]: r for r in csv.DictReader(listed.stdout.splitlines(), delimiter="\t")}
    son = rows["HG002"]
    assert (son["father"], son["mother"], son["sex"], son["samples"]) == (
        "HG003", "HG004", "male", "HG002")
    assert (rows["HG004"]["sex"], rows["HG004"]["father"]) == ("female", "")


async def test_snpeff_names_find_what_snpeff_wrote_and_a_synonym_finds_itself(container, tmp_path):
    # 'disruptive_inframe_insertion' found both inframe insertions; START_GAINED, EXON_DELETED
    # and NON_SYNONYMOUS_START (mapped to terms outside the ranking table) were refused as
    # unknown; an EFF name Regovar does not map is stored lower-cased and was not found.
    head = (
        "##fileformat=VCFv4.2\n##reference=GRCh37\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
        '##INFO=<ID=ANN,Number=.,Type=String,Description="Functional annotations: \'Allele | '
        "Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | Feature_ID | "
        "Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length | CDS.pos / "
        "CDS.length | AA.pos / AA.length | Distance | ERRORS / WARNINGS / INFO' \">\n"
        '##INFO=<ID=EFF,Number=.,Type=String,Description="Predicted effects. Format: \'Effect '
        "( Effect_Impact | Functional_Class | Codon_Change | Amino_Acid_Change| "
        "Amino_Acid_Length | Gene_Name | Transcript_BioType | Gene_Coding | Transcript_ID | "
        "Exon_Rank  | Genotype_Number [ | ERRORS | WARNINGS ] )' \">\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
    )

    def ann(pos: int, term: str) -> str:
        return (f"1\t{pos}\t.\tC\tCAT\t50\tPASS\tANN=CAT|{term}|MODERATE|G{pos}|G|transcript|"
                f"T{pos}|protein_coding|2/5|c.5_6insAT||||||\tGT\t0/1\n")  # fmt: skip

    def eff(pos: int, name: str) -> str:
        return (f"2\t{pos}\t.\tC\tT\t50\tPASS\tEFF={name}(LOW|||||G{pos}|protein_coding|CODING|"
                f"T{pos}|1|1)\tGT\t0/1\n")  # fmt: skip

    path = tmp_path / "snpeff-names.vcf"
    path.write_text(head + ann(100, "disruptive_inframe_insertion")
                    + ann(200, "conservative_inframe_insertion") + ann(300, "inframe_insertion")
                    + eff(100, "START_GAINED") + eff(200, "EXON_DELETED")
                    + eff(300, "NON_SYNONYMOUS_START") + eff(400, "PROTEIN_INTERACTION_LOCUS")
                    + ann(400, "3_prime_UTR_truncation"))
    job = await import_file(container, path)
    assert job.state == "done", job.error_message
    ids = tuple(s.id for s in (await samples_of(container, job)).values())

    async def found(*terms: str) -> list[tuple[str, int]]:
        page = await container.variants.query(
            SYSTEM, vf.VariantQuery(ids, vf.Consequences(terms), limit=100))
        return sorted((r.chrom, r.pos) for r in page.items)

    assert await found("disruptive_inframe_insertion") == [("1", 100)]
    assert await found("Conservative_Inframe_Insertion") == [("1", 200)]
    assert await found("inframe_insertion") == [("1", 100), ("1", 200), ("1", 300)]
    assert await found("START_GAINED") == [("2", 100)]
    assert await found("5_prime_UTR_premature_start_codon_gain_variant") == [("2", 100)]
    assert await found("exon_deleted") == await found("exon_loss_variant") == [("2", 200)]
    assert await found("NON_SYNONYMOUS_START") == [("2", 300)]
    assert await found("initiator_codon_variant") == [("2", 300)]
    assert await found("PROTEIN_INTERACTION_LOCUS") == [("2", 400)]
    # a term outside the table, in another case than the file's, was refused as absent
    for asked in ("3_prime_UTR_truncation", "3_prime_utr_truncation", "3_PRIME_UTR_TRUNCATION"):
        assert await found(asked) == [("1", 400)]
    with pytest.raises(InvalidInput, match=r"unknown consequence term '3_prime_utr_truncaton'.*"
                       r"did you mean 3_prime_UTR_truncation"):  # fmt: skip
        await found("3_prime_utr_truncaton")

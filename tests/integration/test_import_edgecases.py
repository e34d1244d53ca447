"""Edge-case kinds through the whole import (reader, COPY, SQL), read back through queries.

The reader's own unit tests check every value; these check what reaches the database and what a
user sees: error codes, atomicity, warnings, stored zygosities and contig names.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from sqlalchemy import text

from regovar.domain import variant_filter as vf
from tests.helpers import DEMO_VCF, EDGE, by_locus, import_file, rows, samples_of


def _chr1_vcf(path: Path, samples: list[str], *records: str) -> Path:
    """A VCF on chromosome 1; each record "POS REF ALT FORMAT SAMPLE..." (QUAL 50, PASS)."""
    head = ["##fileformat=VCFv4.2", "##contig=<ID=1,length=249250621>",
            "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT",
                       *samples])]  # fmt: skip
    body = []
    for record in records:
        pos, ref, alt, fmt, *calls = record.split()
        body.append("\t".join(["1", pos, ".", ref, alt, "50", "PASS", ".", fmt, *calls]))
    path.write_text("\n".join(head + body) + "\n")
    return path


async def _scalar(container, sql: str, **params):
    async with container.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar_one()


async def test_star_allele_is_not_a_variant(container):
    job = await import_file(container, EDGE / "01-star-spanning-deletion.vcf")
    assert job.state == "done", job.error_message
    items, ids = await rows(container, job)
    loci = by_locus(items)
    assert "1:2100102:C>*" not in loci and not any(r.alt == "*" for r in items)
    g = loci["1:2100102:C>G"]
    assert [g.samples[ids[s]]["zyg"] for s in ("S1", "S2", "S3")] == [6, 1, 2]
    assert (g.ac, g.an) == (3, 6)
    deletion = loci["1:2100100:ATCAG>A"]
    assert deletion.samples[ids["S1"]]["zyg"] == 1


async def test_haploid_calls_and_x_linked_query(container):
    job = await import_file(
        container,
        EDGE / "02-haploid-chrX-mixed-ploidy.vcf",
        ped=EDGE / "02-haploid-chrX-mixed-ploidy.ped",
    )
    assert job.state == "done", job.error_message
    items, ids = await rows(container, job)
    loci = {f"{r.chrom}:{r.pos}": r for r in items}
    x = loci["X:31200500"]
    assert [x.samples[ids[s]]["zyg"] for s in ("S1", "S2", "S3")] == [3, 1, 4]
    assert (x.ac, x.an) == (2, 4)
    assert loci["X:31200800"].samples[ids["S1"]]["zyg"] == 9  # missing, not hom-ref
    assert loci["X:31200800"].an == 3
    assert loci["X:60100"].samples[ids["S1"]]["zyg"] == 1
    assert loci["MT:7028"].an == 3
    # affected son hemizygous ALT, mother heterozygous, father hemizygous REF
    x_linked = vf.And(
        (
            vf.Region("X"),
            vf.Genotype(ids["S3"], ("hemi_alt", "hom_alt")),
            vf.Genotype(ids["S2"], ("het",)),
            vf.Genotype(ids["S1"], ("hemi_ref", "hom_ref")),
        )
    )
    found, _ = await rows(container, job, x_linked)
    assert [(r.chrom, r.pos) for r in found] == [("X", 31200500)]


async def test_duplicate_sample_names_rejected_before_anything_is_written(container):
    job = await import_file(container, EDGE / "06-duplicate-sample-names.vcf")
    assert job.state == "failed"
    assert job.error_code == "VCF_MALFORMED"
    assert "S1" in job.error_message and "line 7" in job.error_message
    assert (
        await _scalar(container, "SELECT count(*) FROM samples WHERE import_id = :i", i=job.id) == 0
    )
    assert await _scalar(container, "SELECT to_regclass(:t) IS NULL", t=f"calls_i{job.id}")


async def test_header_only_file_finishes_with_zero_variants(container):
    job = await import_file(container, EDGE / "07-header-only-no-records.vcf")
    assert (job.state, job.variants, job.records, job.samples) == ("done", 0, 0, 2)
    assert set(await samples_of(container, job)) == {"S1", "S2"}


async def test_sites_only_file_is_refused_for_a_case_import(container):
    job = await import_file(container, EDGE / "08-sites-only-no-samples.vcf")
    assert (job.state, job.error_code) == ("failed", "VCF_NO_SAMPLES")
    assert "no sample columns" in job.error_message


async def test_duplicate_records_keep_the_first_and_warn(container):
    job = await import_file(container, EDGE / "25-duplicate-records.vcf")
    assert job.state == "done", job.error_message
    items, ids = await rows(container, job)
    loci = by_locus(items)
    assert len([r for r in items if r.pos == 2900100]) == 1
    assert loci["1:2900100:G>A"].samples[ids["S1"]]["dp"] == 15  # the first line's values
    # the dropped copy is not "another ALT" at the position: S1 stays het, not het-ALT
    assert loci["1:2900100:G>A"].samples[ids["S1"]]["zyg"] == 1
    assert "1:2900150:T>C" in loci
    (warning,) = [w for w in job.warnings if w["kind"] == "duplicate_record"]
    assert warning["count"] == 1 and warning["lines"] == [10]
    assert "9" in warning["message"] and "10" in warning["message"]


async def test_a_record_split_into_a_duplicate_keeps_the_first_allele(container, import_dir):
    # line 5's second ALT is line 4's variant; line 7 repeats it again: the first one is kept,
    # the message lists every line, the catalogue counts the sample once.
    path = _chr1_vcf(import_dir / "dups-multi.vcf", ["S1"], "5000 G A GT:DP 0/1:11",
                     "5000 G T,A GT:DP 1/2:22", "6000 C T GT:DP 1/1:33", "5000 G A GT:DP 0/1:44")
    job = await import_file(container, path)
    assert job.state == "done", job.error_message
    items, ids = await rows(container, job)
    loci = by_locus(items)
    assert set(loci) == {"1:5000:G>A", "1:5000:G>T", "1:6000:C>T"}
    assert loci["1:5000:G>A"].samples[ids["S1"]]["dp"] == 11
    (warning,) = [w for w in job.warnings if w["kind"] == "duplicate_record"]
    assert warning["count"] == 2 and warning["lines"] == [5, 7]
    assert warning["message"] == (
        "1:5000 G>A appears on lines 4, 5, 7: kept from line 4, the others dropped"
    )
    carriers = await _scalar(
        container, "SELECT carriers FROM variants WHERE chrom = '1' AND pos = 5000 AND alt = 'A'"
    )
    assert carriers == 1


async def test_contig_names_follow_the_assembly(container):
    a = await import_file(container, EDGE / "28a-chr-prefix-grch37.vcf", assembly="GRCh37")
    b = await import_file(container, EDGE / "28b-no-prefix-grch38.vcf", assembly="GRCh38")
    items_a, _ = await rows(container, a)
    items_b, _ = await rows(container, b)
    assert {(r.chrom, r.pos) for r in items_a} >= {("1", 3000100), ("X", 153000000)}
    assert {(r.chrom, r.pos) for r in items_b} >= {("chr1", 3000100), ("chrM", 7028)}


async def test_missing_filter_is_not_pass(container):
    job = await import_file(container, EDGE / "24-qual-filter-missing.vcf")
    assert job.state == "done", job.error_message
    passed, _ = await rows(container, job, vf.Filters(pass_only=True))
    assert [r.pos for r in passed] == [2800200]
    lenient, _ = await rows(container, job, vf.Filters(pass_only=True, missing_is_pass=True))
    assert sorted(r.pos for r in lenient) == [2800100, 2800200]
    everything, _ = await rows(container, job)
    by_pos = {r.pos: r for r in everything}
    assert by_pos[2800100].qual is None and by_pos[2800100].filters is None
    assert by_pos[2800300].filters == ["LowQual", "LowDP"]


async def test_vaf_is_null_without_depth(container):
    job = await import_file(container, EDGE / "22-dp-zero-vaf.vcf")
    items, ids = await rows(container, job)
    (row,) = items[:1]
    assert row.samples[ids["S1"]]["vaf"] is None
    assert row.samples[ids["S2"]]["vaf"] is None
    assert row.samples[ids["S3"]]["vaf"] == pytest.approx(0.4)


async def test_a_bad_line_late_in_the_file_leaves_nothing(container, tmp_path: Path):
    """Atomicity: the whole file or nothing, and the error names the file and the line."""
    with gzip.open(DEMO_VCF, "rt") as source:
        lines = source.read().splitlines()
    header = sum(1 for line in lines if line.startswith("#"))
    fields = lines[header + 5000].split("\t")
    fields[1] = "12x45"
    lines[header + 5000] = "\t".join(fields)
    bad = tmp_path / "broken.vcf"
    bad.write_text("\n".join(lines) + "\n")
    variants_before = await _scalar(container, "SELECT count(*) FROM variants")
    job = await import_file(container, bad)
    assert (job.state, job.error_code) == ("failed", "VCF_MALFORMED")
    assert str(bad) in job.error_message and f"line {header + 5001}" in job.error_message
    assert await _scalar(container, "SELECT count(*) FROM variants") == variants_before
    assert (
        await _scalar(container, "SELECT count(*) FROM samples WHERE import_id = :i", i=job.id) == 0
    )


async def test_an_import_of_another_assembly_than_the_project_warns(container):
    from tests.helpers import new_project

    project = await new_project(container, "two-builds")
    first = await import_file(container, EDGE / "28a-chr-prefix-grch37.vcf", assembly="GRCh37",
                              project=project)  # fmt: skip
    assert not [w for w in first.warnings if w["kind"] == "assembly_differs"]
    second = await import_file(container, EDGE / "28b-no-prefix-grch38.vcf", assembly="GRCh38",
                               project=project)  # fmt: skip
    assert second.state == "done", second.error_message
    (warning,) = [w for w in second.warnings if w["kind"] == "assembly_differs"]
    assert warning["message"] == (
        "this file is GRCh38; the project also holds GRCh37 imports, whose samples cannot be "
        "analysed with these"
    )


async def test_a_duplicate_line_leaves_the_kept_genotypes_as_written(container, import_dir):
    path = _chr1_vcf(import_dir / "dup-genotypes.vcf", ["KID", "MUM", "DAD"],
                     "1000 G A GT 0/1 0/0 0/0", "1000 G A GT 0/1 0/0 0/0",
                     "2000 G A GT 0/1 0/0 0/0", "2000 G A GT 0/1 0/1 0/0",
                     "2000 G T GT 0/0 0/0 0/1")  # fmt: skip
    job = await import_file(container, path)
    assert job.state == "done", job.error_message
    items, ids = await rows(container, job)
    loci = by_locus(items)
    zyg = {k: [loci[k].samples[ids[s]]["zyg"] for s in ("KID", "MUM", "DAD")] for k in loci}
    # as the kept lines are written: at 2000 the father carries T (other-ALT in the A row), the
    # child A (other-ALT in the T row); the mother's 0/1 is on the dropped copy only
    assert zyg == {"1:1000:G>A": [1, 0, 0], "1:2000:G>A": [1, 0, 6], "1:2000:G>T": [6, 0, 1]}


async def test_the_cli_listings_name_the_projects(container, database_url, import_dir):
    import os
    import subprocess
    import sys

    from tests.helpers import new_project

    project = await new_project(container, "listed")
    job = await import_file(container, EDGE / "25-duplicate-records.vcf", project=project)
    env = {**os.environ, "REGOVAR_DATABASE_URL": database_url,
           "REGOVAR_DATA_DIR": str(import_dir.parent / "data")}  # fmt: skip
    for command in (["imports", "list"], ["samples", "list"]):
        listed = subprocess.run(
            [sys.executable, "-c", "from regovar.cli import main; main()", *command, "-p",
             project.name, "--format", "tsv"], capture_output=True, text=True, timeout=60, env=env,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        head, *rows = listed.stdout.splitlines()
        at = head.split("\t").index("project")
        assert rows and {r.split("\t")[at] for r in rows} == {project.name}, (command, rows)
    assert job.state == "done"


async def test_an_unsorted_file_is_imported_with_a_warning(container, import_dir):
    path = _chr1_vcf(import_dir / "unsorted.vcf", ["S1"], "5000 G A GT 0/1",
                     "3000 C T GT 0/1", "4000 C T GT 1/1")  # fmt: skip
    job = await import_file(container, path)
    assert job.state == "done" and job.variants == 3
    (warning,) = [w for w in job.warnings if w["kind"] == "unsorted"]
    assert warning["lines"] == [5] and "1:3000 after 1:5000" in warning["message"]

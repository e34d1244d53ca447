"""Exports of an analysis's result, opened and compared with the result itself."""

from __future__ import annotations

import base64
import io
import uuid

import httpx
import pytest
from openpyxl import load_workbook

from regovar import __version__
from regovar.domain.analyses import CreateAnalysis, MemberSpec
from regovar.domain.errors import InvalidInput
from regovar.domain.filters import SaveFilter
from regovar.domain.principal import SYSTEM
from regovar.graphql.app import create_app
from tests.helpers import (
    DEMO_PED,
    DEMO_VCF,
    bearer,
    import_file,
    new_project,
    samples_of,
    signed_in,
)

DE_NOVO = {"version": 1, "filter": {"all": [
    {"inheritance": "de_novo"}, {"sample_value": {"sample": "proband", "field": "dp", "op": "ge",
                                                  "value": 10}}]}}  # fmt: skip


@pytest.fixture(scope="module")
async def analysis(container):
    project = await new_project(container, "exports")
    job = await import_file(container, DEMO_VCF, ped=DEMO_PED, project=project)
    samples = await samples_of(container, job)
    view = await container.analyses.create(
        SYSTEM, CreateAnalysis(project.id, "HG002 / trio", (MemberSpec(samples["HG002"].id),))
    )
    saved = await container.filters.save(
        SYSTEM, SaveFilter(view.analysis.id, "de novo dp10", DE_NOVO)
    )
    result = await container.analyses.results(SYSTEM, view.analysis.id, DE_NOVO, limit=1000)
    assert result.page.total == len(result.page.items) > 0
    return view, saved, result, samples


async def test_tsv_has_its_header_and_the_result_rows(container, analysis):
    view, saved, result, _ = analysis
    made = await container.exports.export(
        SYSTEM, view.analysis.id, "tsv", saved=(saved.filter.id, None)
    )
    assert made.filename == f"HG002_trio-{view.analysis.id}.tsv"
    lines = made.data.decode().splitlines()
    meta = dict(line[3:].split(": ", 1) for line in lines if line.startswith("## "))
    assert meta["analysis"] == f"{view.analysis.id} HG002 / trio"
    (project,) = (await container.projects.get_many(SYSTEM, [view.analysis.project_id])).values()
    assert meta["project"] == f"{project.id} {project.name}"  # was the id alone
    assert meta["filter"] == f"saved filter {saved.filter.id} 'de novo dp10' version 1"
    assert meta["inheritance mode"] == "de_novo"
    assert meta["samples"] == (
        "HG002 (proband, male, affected); HG004 (mother, female, status unknown); "
        "HG003 (father, male, status unknown)"
    )
    assert meta["software"] == f"Regovar {__version__}" and meta["variants"] == str(made.rows)
    table = [line.split("\t") for line in lines if not line.startswith("## ")]
    header, body = table[0], table[1:]
    assert header[:5] == ["variant_key", "chrom", "pos", "ref", "alt"]
    assert "HG002.zygosity" in header
    assert len(body) == made.rows == result.page.total
    zyg = header.index("HG004.zygosity")
    impacts = {row[header.index("impact")] for row in body}
    assert impacts <= {"", "MODIFIER", "LOW", "MODERATE", "HIGH"} and "MODIFIER" in impacts
    for row, r in zip(body, result.page.items, strict=True):
        assert (row[0], row[1], int(row[2]), row[3], row[4]) == (
            r.variant_key, r.chrom, r.pos, r.ref, r.alt
        )
        assert row[zyg] in ("hom_ref", "hemi_ref", "other_alt")


async def test_xlsx_opens_with_the_same_rows(container, analysis):
    view, _, result, _ = analysis
    made = await container.exports.export(SYSTEM, view.analysis.id, "xlsx", DE_NOVO)
    book = load_workbook(io.BytesIO(made.data), read_only=True)
    rows = list(book["variants"].iter_rows(values_only=True))
    assert rows[0][1:5] == ("chrom", "pos", "ref", "alt")
    assert [(r[1], r[2], r[3], r[4]) for r in rows[1:]] == [
        (r.chrom, r.pos, r.ref, r.alt) for r in result.page.items
    ]
    about = dict(book["about"].iter_rows(values_only=True))
    assert about["filter"] == "unsaved" and about["inheritance mode"] == "de_novo"
    assert '"inheritance": "de_novo"' in about["filter document"]


async def test_vcf_imports_back_to_the_same_variants_and_genotypes(container, analysis, import_dir):
    view, _, result, _ = analysis
    made = await container.exports.export(SYSTEM, view.analysis.id, "vcf", DE_NOVO)
    text = made.data.decode()
    assert text.startswith("##fileformat=VCFv4.2\n##reference=GRCh37\n")
    assert f"##regovar_analysis={view.analysis.id} HG002 / trio" in text
    # every INFO key and FILTER the records use is declared, with the file's definitions
    header = [line for line in text.splitlines() if line.startswith("##")]
    body = [line.split("\t") for line in text.splitlines() if not line.startswith("#")]
    declared_info = {line.split("ID=")[1].split(",")[0] for line in header
                     if line.startswith("##INFO=")}  # fmt: skip
    declared_filters = {line.split("ID=")[1].split(",")[0] for line in header
                        if line.startswith("##FILTER=")}  # fmt: skip
    used_info = {item.split("=")[0] for row in body for item in row[7].split(";") if item != "."}
    used_filters = {f for row in body for f in row[6].split(";")} - {"PASS", "."}
    assert used_info <= declared_info and used_filters <= declared_filters and used_filters
    qd = '##INFO=<ID=QD,Number=1,Type=Float,Description="Variant Confidence/Quality by Depth">'
    assert qd in text
    path = import_dir / f"export-{uuid.uuid4().hex[:6]}.vcf"
    path.write_bytes(made.data)
    job = await import_file(container, path)
    assert job.state == "done", job.error_message
    again = await samples_of(container, job)
    assert list(again) == ["HG002", "HG004", "HG003"]
    from regovar.domain import variant_filter as vf

    ids = tuple(again[n].id for n in ("HG002", "HG004", "HG003"))
    back = await container.variants.query(SYSTEM, vf.VariantQuery(ids, None, limit=1000))
    # the genes and impact Regovar had travel as INFO fields of the exported file
    assert [(r.chrom, r.pos, r.ref, r.alt, r.samples[ids[0]]["gt"], r.samples[ids[0]]["dp"],
             (r.info or {}).get("REGOVAR_GENES")) for r in back.items] == [
        (r.chrom, r.pos, r.ref, r.alt, r.samples[view.members[0].sample_id]["gt"],
         r.samples[view.members[0].sample_id]["dp"], r.genes)
        for r in result.page.items
    ]  # fmt: skip


async def test_graphql_export_and_refusals(container, analysis):
    view, _, _, _ = analysis
    _, token = await signed_in(container, "exp", admin=True)
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                 headers=bearer(token)) as http:  # fmt: skip
        query = """query($a: ID!, $f: JSON) {
          analysisExport(analysisId: $a, format: "tsv", filter: $f) {
            filename contentType variants base64 } }"""
        body = (await http.post("/graphql", json={"query": query, "variables": {
            "a": str(view.analysis.id), "f": DE_NOVO}})).json()  # fmt: skip
        made = body["data"]["analysisExport"]
        assert made["contentType"] == "text/tab-separated-values"
        assert base64.b64decode(made["base64"]).decode().startswith("## analysis: ")
        bad = (await http.post("/graphql", json={"query": query.replace('"tsv"', '"pdf"'),
               "variables": {"a": str(view.analysis.id), "f": DE_NOVO}})).json()  # fmt: skip
        assert bad["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    with pytest.raises(InvalidInput, match="not both"):
        await container.exports.export(SYSTEM, view.analysis.id, "tsv", DE_NOVO, saved=(1, None))


async def test_variant_details_have_every_call_and_transcript(container, analysis):
    view, _, result, _ = analysis
    annotated = next(r for r in result.page.items if r.genes)
    found = await container.analyses.variant(SYSTEM, view.analysis.id, annotated.variant_key)
    assert found.row.variant_key == annotated.variant_key
    assert set(found.row.samples) == {m.sample_id for m in view.members}
    assert found.transcripts and {t["gene"] for t in found.transcripts} >= set(annotated.genes)
    assert all(t["source"] == "BCSQ" for t in found.transcripts)
    with pytest.raises(InvalidInput, match="32 hexadecimal"):
        await container.analyses.variant(SYSTEM, view.analysis.id, "zz")
    from regovar.domain.errors import NotFound

    with pytest.raises(NotFound):
        await container.analyses.variant(SYSTEM, view.analysis.id, "00" * 16)


async def test_results_sort_by_every_column(container, analysis):
    from regovar.domain import variant_filter as vf

    view, _, _result, _ = analysis
    proband = view.members[0].sample_id
    everything = {"version": 1, "filter": None}
    for key in vf.SORT_KEYS:
        sample = proband if key in vf.PER_SAMPLE_SORT_KEYS else None
        for descending in (False, True):
            page = (await container.analyses.results(
                SYSTEM, view.analysis.id, everything, limit=300,
                sort=(vf.SortKey(key, descending, sample),),
            )).page  # fmt: skip
            assert page.total > 1000 and len(page.items) == 300
    by_qual = (await container.analyses.results(
        SYSTEM, view.analysis.id, everything, limit=500, sort=(vf.SortKey("qual", True),)
    )).page.items  # fmt: skip
    quals = [r.qual for r in by_qual if r.qual is not None]
    assert quals == sorted(quals, reverse=True) and len(quals) > 100
    by_dp = (await container.analyses.results(
        SYSTEM, view.analysis.id, everything, limit=500, sort=(vf.SortKey("dp", False, proband),)
    )).page.items  # fmt: skip
    depths = [r.samples[proband]["dp"] for r in by_dp if r.samples[proband]["dp"] is not None]
    assert depths == sorted(depths)
    with pytest.raises(InvalidInput, match="needs one of the queried samples"):
        await container.analyses.results(SYSTEM, view.analysis.id, everything,
                                         sort=(vf.SortKey("zygosity"),))  # fmt: skip


async def test_a_split_multiallelic_site_exports_its_genotypes_per_alt(container, import_dir):
    # 'AT ATT,A' with 1/2, 0/2, 0/1 was exported as two records keeping those GTs: invalid
    # (allele 2 of a one-ALT record), refused on re-import, and read elsewhere as the father
    # carrying the deletion he does not have. Now each record has its ALT as 1 and, where a
    # sample carries another ALT of the site, '<*>' as 2: the calls read back the same.
    head = ("##fileformat=VCFv4.2\n##reference=GRCh37\n"
            '##INFO=<ID=AF,Number=A,Type=Float,Description="f">\n'
            '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
            '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="d">\n'
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tKID\tMUM\tDAD\n")  # fmt: skip
    source = import_dir / f"multi-{uuid.uuid4().hex[:6]}.vcf"
    source.write_text(head + "6\t4020540\t.\tAT\tATT,A\t50\tPASS\tAF=0.25,0.5\tGT:AD\t1/2:0,5,6"
                      "\t0/2:7,0,5\t0/1:6,6,0\n"
                      "1\t100\t.\tC\tT\t50\tPASS\tAF=0.1\tGT:AD\t0/1:5,5\t0/0:9,0\t0/0:8,0\n")
    project = await new_project(container, "multi")
    job = await import_file(container, source, project=project)
    assert job.state == "done", job.error_message
    samples = await samples_of(container, job)
    trio = await container.analyses.create(SYSTEM, CreateAnalysis(
        project.id, "all", tuple(MemberSpec(samples[n].id, role) for n, role in
                                 (("KID", "proband"), ("MUM", "mother"), ("DAD", "father")))))
    made = await container.exports.export(SYSTEM, trio.analysis.id, "vcf",
                                          {"version": 1, "filter": None})  # fmt: skip
    text = made.data.decode()
    assert '##ALT=<ID=*,Description="Another ALT of the site' in text
    lines = {(f[1], f[3], f[4]): f for f in (line.split("\t") for line in text.splitlines()
                                             if not line.startswith("#"))}  # fmt: skip
    assert set(lines) == {("100", "C", "T"), ("4020540", "A", "AT,<*>"),
                          ("4020540", "AT", "A,<*>")}  # fmt: skip
    ins, dele = lines[("4020540", "A", "AT,<*>")], lines[("4020540", "AT", "A,<*>")]
    assert [s.split(":")[0] for s in ins[9:]] == ["1/2", "0/2", "0/1"]
    assert [s.split(":")[0] for s in dele[9:]] == ["2/1", "0/1", "0/2"]
    assert ins[9].split(":")[3] == "0,5,." and "AF=0.25,." in ins[7]  # Number=A, R: padded
    assert lines[("100", "C", "T")][4] == "T" and "AF=0.1" in lines[("100", "C", "T")][7]
    again = import_dir / f"again-{uuid.uuid4().hex[:6]}.vcf"
    again.write_bytes(made.data)
    back = await import_file(container, again)
    assert back.state == "done", back.error_message  # was VCF_MALFORMED
    assert not [w for w in back.warnings if w["kind"] == "info_value"]
    from regovar.domain import variant_filter as vf

    def zygosities(rows, names):
        return {(r.pos, r.ref, r.alt): [vf.ZYGOSITY_NAMES[r.samples[names[n]]["zyg"]]
                                        for n in ("KID", "MUM", "DAD")] for r in rows}

    before = await container.variants.query(SYSTEM, vf.VariantQuery(
        tuple(samples[n].id for n in ("KID", "MUM", "DAD")), None, limit=10))
    reread = await samples_of(container, back)
    after = await container.variants.query(SYSTEM, vf.VariantQuery(
        tuple(reread[n].id for n in ("KID", "MUM", "DAD")), None, limit=10))
    ids = {n: samples[n].id for n in samples}
    assert zygosities(after.items, {n: reread[n].id for n in reread}) == zygosities(
        before.items, ids) == {
        (100, "C", "T"): ["het", "hom_ref", "hom_ref"],
        (4020540, "A", "AT"): ["het_alt", "other_alt", "het"],
        (4020540, "AT", "A"): ["het_alt", "het", "other_alt"]}  # fmt: skip


async def test_xlsx_column_names_made_of_sample_names_are_never_formulas(container, import_dir):
    # A sample named '=SUM(1+1)*cmd' gave header cells written as formulas.
    source = import_dir / f"formula-{uuid.uuid4().hex[:6]}.vcf"
    source.write_text("##fileformat=VCFv4.2\n##reference=GRCh37\n"
                      '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
                      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t=SUM(1+1)*cmd\n"
                      "1\t100\t.\tC\tT\t50\tPASS\t.\tGT\t0/1\n")  # fmt: skip
    project = await new_project(container, "formula")
    job = await import_file(container, source, project=project)
    samples = await samples_of(container, job)
    view = await container.analyses.create(SYSTEM, CreateAnalysis(
        project.id, "f", (MemberSpec(samples["=SUM(1+1)*cmd"].id),)))
    made = await container.exports.export(SYSTEM, view.analysis.id, "xlsx",
                                          {"version": 1, "filter": None})  # fmt: skip
    import zipfile

    with zipfile.ZipFile(io.BytesIO(made.data)) as book:
        sheets = [book.read(n) for n in book.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any(b"<f>" in sheet for sheet in sheets)
    header = next(load_workbook(io.BytesIO(made.data), read_only=True)["variants"].iter_rows(
        values_only=True))  # fmt: skip
    assert "'=SUM(1+1)*cmd.gt" in header

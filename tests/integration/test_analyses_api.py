"""Analyses through GraphQL over HTTP and through the CLI, on the real GIAB trio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import httpx
import pytest

from regovar.domain.analyses import CreateAnalysis, MemberSpec
from regovar.domain.principal import SYSTEM
from regovar.graphql.app import create_app
from tests.helpers import DEMO_PED, DEMO_VCF, bearer, import_file, new_project, samples_of

REGOVAR = [sys.executable, "-c", "from regovar.cli import main; main()"]

CREATE = """mutation($input: CreateAnalysisInput!) {
  createAnalysis(input: $input) { id name members { sample role sex affected } }
}"""
RESULTS = """query($a: ID!, $f: JSON!) {
  analysisResults(analysisId: $a, filter: $f, limit: 5) {
    mode total items { chrom pos genes calls { sampleId zygosity } } genes { gene variants }
  }
}"""
COMPOUND = {
    "version": 1,
    "filter": {"all": [{"impact": "MODERATE"}, {"inheritance": "compound_heterozygous"}]},
}


@pytest.fixture(scope="module")
async def trio(container):
    project = await new_project(container, "analyses")
    job = await import_file(container, DEMO_VCF, ped=DEMO_PED, project=project)
    return project, job, await samples_of(container, job)


@pytest.fixture
async def client(container, trio):
    """The project owner's client (the project was made by the server: an admin signs in)."""
    from tests.helpers import signed_in

    _, token = await signed_in(container, "analyst", admin=True)
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=bearer(token)
    ) as http:
        yield http


async def gql(client, query: str, **variables):
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


async def test_create_and_run_over_graphql(client, container, trio):
    project, _, samples = trio
    created = await gql(client, CREATE, input={
        "projectId": str(project.id), "name": f"trio-{uuid.uuid4().hex[:6]}",
        "samples": [{"sampleId": str(samples["HG002"].id)}],
    })  # fmt: skip
    analysis = created["data"]["createAnalysis"]
    assert [(m["sample"], m["role"]) for m in analysis["members"]] == [
        ("HG002", "proband"), ("HG004", "mother"), ("HG003", "father"),
    ]  # fmt: skip
    listed = await gql(client, "query($p: ID) { analyses(projectId: $p) { total items { id "
                       "members { sample role } } } }", p=str(project.id))  # fmt: skip
    mine = [a for a in listed["data"]["analyses"]["items"] if a["id"] == analysis["id"]]
    assert [(m["sample"], m["role"]) for m in mine[0]["members"]] == [
        (m["sample"], m["role"]) for m in analysis["members"]
    ]
    body = await gql(client, RESULTS, a=analysis["id"], f=COMPOUND)
    result = body["data"]["analysisResults"]
    assert result["mode"] == "compound_heterozygous:trio"
    direct = await container.analyses.results(
        SYSTEM, int(analysis["id"]), COMPOUND, limit=5, gene_counts=True
    )
    assert result["total"] == direct.page.total > 0
    assert [(i["chrom"], i["pos"]) for i in result["items"]] == [
        (r.chrom, r.pos) for r in direct.page.items
    ]
    assert result["genes"][0] == {"gene": direct.genes[0][0], "variants": direct.genes[0][1]}
    # only the genes where the variants pair up, not the other genes a variant overlaps
    assert result["genes"] and all(g["variants"] >= 2 for g in result["genes"])
    # every listed variant: the proband het, with one parent het and the other hom-ref
    for item in result["items"]:
        zyg = {c["sampleId"]: c["zygosity"] for c in item["calls"]}
        assert zyg[str(samples["HG002"].id)] in ("HET", "HET_ALT")
        parents = sorted(zyg[str(samples[n].id)] for n in ("HG003", "HG004"))
        assert parents[0] in ("HET", "HET_ALT") and parents[1] in ("HOM_REF", "OTHER_ALT")


async def test_filter_errors_name_the_place(client, trio, container):
    project, _, samples = trio
    view = await container.analyses.create(
        SYSTEM, CreateAnalysis(project.id, f"e-{uuid.uuid4().hex[:6]}",
                               (MemberSpec(samples["HG002"].id),))
    )
    cases = [
        ({"version": 2}, "filter.version", "not supported"),
        ({"version": 1, "filter": {"all": [{"genotype": {"sample": "sister", "is": ["het"]}}]}},
         "filter.all[0].genotype.sample", "not a sample of the analysis"),
        ({"version": 1, "filter": {"any": [{"inheritance": "de_novo"}]}},
         "filter.any[0].inheritance", "top level"),
        ({"version": 1, "filter": {"all": [{"qual": {"op": "ge", "value": "high"}}]}},
         "filter.all[0].qual.value", "expected a number"),
        ({"version": 1, "filter": {"impact": "SEVERE"}}, "filter.impact", "expected one of"),
        ({"version": 1, "filter": {"inheritance": "recessive"}}, "filter.inheritance",
         "unknown mode"),
        ({"version": 1, "filter": {"genes": ["BRCA2"], "impact": "HIGH"}}, "filter",
         "exactly one key"),
    ]  # fmt: skip
    for document, path, words in cases:
        body = await gql(client, RESULTS, a=str(view.analysis.id), f=document)
        error = body["errors"][0]
        assert error["extensions"]["code"] == "INVALID_INPUT", (document, body)
        assert error["message"].startswith(path + ":") and words in error["message"], error


def test_cli_create_run_and_bad_filter_file(database_url, tmp_path, container, trio):
    project, _, _ = trio
    env = {**os.environ, "REGOVAR_DATABASE_URL": database_url, "REGOVAR_DATA_DIR": str(tmp_path)}

    def regovar(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*REGOVAR, *args], env=env, capture_output=True, text=True,
                              check=False, timeout=120)  # fmt: skip

    name = f"cli-{uuid.uuid4().hex[:6]}"
    created = regovar("analyses", "create", name, "--project", str(project.id), "-s", "HG002")
    assert created.returncode == 0, created.stderr
    analysis_id = created.stdout.split()[1]
    assert "mother" in created.stdout and "HG004" in created.stdout
    filter_file = tmp_path / "f.json"
    filter_file.write_text(json.dumps(COMPOUND))
    ran = regovar("analyses", "run", analysis_id, "--filter", str(filter_file), "--format", "json")
    assert ran.returncode == 0, ran.stderr
    listed = json.loads(ran.stdout)
    assert listed["total"] > 0 and all(r["genes"] for r in listed["items"])
    de_novo = regovar("analyses", "run", analysis_id, "--mode", "de_novo", "--format", "tsv")
    lines = de_novo.stdout.splitlines()
    assert lines[0].startswith("variant_key\tchrom\tpos") and len(lines) > 1
    genes = regovar("analyses", "run", analysis_id, "--filter", str(filter_file), "--genes",
                    "--format", "tsv")  # fmt: skip
    assert genes.stdout.splitlines()[0] == "gene\tvariants"
    counted = genes.stdout.splitlines()[1:]
    # --limit was ignored with --genes (about 125 genes printed for --limit 5)
    top = regovar("analyses", "run", analysis_id, "--filter", str(filter_file), "--genes",
                  "--limit", "2", "--offset", "1", "--format", "tsv")  # fmt: skip
    assert top.stdout.splitlines()[1:] == counted[1:3] and len(counted) > 3
    assert "genes with the most variants" not in genes.stderr
    every = regovar("analyses", "run", analysis_id, "--genes", "--limit", "1000", "--format", "tsv")
    # the demo's genes are more than the 500 counted: '500 shown of 500' read as all of them
    assert len(every.stdout.splitlines()) == 1 + 500, every.stderr
    assert "only the 500 genes with the most variants are counted" in every.stderr
    xlsx = tmp_path / "out.xlsx"
    exported = regovar("analyses", "export", analysis_id, "--filter", str(filter_file),
                       "--format", "xlsx", "--out", str(xlsx))  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    from openpyxl import load_workbook

    sheet = load_workbook(xlsx, read_only=True)["variants"]
    assert sum(1 for _ in sheet.iter_rows()) - 1 == listed["total"]
    nowhere = regovar("analyses", "export", analysis_id, "--mode", "de_novo", "--format", "tsv",
                      "--out", str(tmp_path / "missing" / "x.tsv"))  # fmt: skip
    assert nowhere.returncode != 0 and "cannot write" in nowhere.stderr
    key = listed["items"][0]["variant_key"]
    shown = regovar("analyses", "variant", analysis_id, key, "--format", "tsv")
    assert shown.returncode == 0, shown.stderr
    item = listed["items"][0]
    assert shown.stdout.splitlines()[0].startswith(
        f"# {item['chrom']}:{item['pos']} {item['ref']}>{item['alt']} QUAL ")
    assert shown.stdout.splitlines()[1].startswith("sample\trole\tgt") and "HG002" in shown.stdout
    # two JSON documents one after the other were no JSON; neither said which variant
    as_json = regovar("analyses", "variant", analysis_id, key, "--format", "json")
    document = json.loads(as_json.stdout)
    assert document["variant"]["variant_key"] == key and document["variant"]["pos"] == item["pos"]
    assert {c["sample"] for c in document["calls"]} >= {"HG002"} and document["transcripts"]
    # an export appears whole or not at all; '-' writes it to standard output
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    refused = regovar("analyses", "export", analysis_id, "--mode", "de_novo", "--format", "tsv",
                      "--out", str(occupied))  # fmt: skip
    assert refused.returncode != 0 and "cannot write" in refused.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    streamed = regovar("analyses", "export", analysis_id, "--mode", "de_novo", "--format", "vcf",
                       "--out", "-")  # fmt: skip
    assert streamed.stdout.startswith("##fileformat=VCFv4.2") and "variants written" in (
        streamed.stderr
    )
    as_json = json.loads(regovar("analyses", "run", analysis_id, "--mode",
                                 "compound_heterozygous", "--format", "json").stdout)  # fmt: skip
    assert as_json["mode"] == "compound_heterozygous:trio" and as_json["total"] > 0
    assert {"selected", "tags", "class"} <= set(as_json["items"][0])
    dominant = regovar("analyses", "run", analysis_id, "--mode", "autosomal_dominant")
    assert "HG004 (mother), HG003 (father): affected status unknown" in dominant.stderr
    updated = regovar("analyses", "update", analysis_id, "--affected", "HG004=unaffected",
                      "--affected", "HG003=unaffected")  # fmt: skip
    assert updated.returncode == 0, updated.stderr
    again = regovar("analyses", "run", analysis_id, "--mode", "autosomal_dominant")
    assert "affected status unknown" not in again.stderr
    empty_role = regovar("analyses", "create", "x", "--project", str(project.id), "-s", "HG002=")
    assert empty_role.returncode != 0 and "give a role" in empty_role.stderr
    huge = regovar("analyses", "show", "99999999999999999999")
    assert huge.returncode != 0 and "Traceback" not in huge.stderr
    filter_file.write_text("\ufeff" + json.dumps(COMPOUND))  # a byte-order mark is fine
    assert regovar("analyses", "run", analysis_id, "--filter", str(filter_file)).returncode == 0
    filter_file.write_text('{"version": 1,\n "filter": {"genes": ["BRCA2",]}}')
    bad = regovar("analyses", "run", analysis_id, "--filter", str(filter_file))
    assert bad.returncode != 0 and bad.stdout == ""
    assert f"{filter_file}, line 2 column" in bad.stderr and "not JSON" in bad.stderr
    assert "Traceback" not in bad.stderr


SAVE = """mutation($a: ID!, $n: String!, $f: JSON!, $preset: Boolean!) {
  saveFilter(analysisId: $a, name: $n, filter: $f, preset: $preset) {
    id name version preset variantCount created document
  }
}"""
BY_SAVED = """query($a: ID!, $s: SavedFilterInput!) {
  analysisResults(analysisId: $a, savedFilter: $s, limit: 1) { total filterId filterVersion }
}"""


async def test_saved_filters_are_versioned_and_results_name_their_version(client, trio, container):
    project, _, samples = trio
    one = await container.analyses.create(
        SYSTEM, CreateAnalysis(project.id, f"s-{uuid.uuid4().hex[:6]}",
                               (MemberSpec(samples["HG002"].id),))
    )
    a = str(one.analysis.id)
    de_novo = {"version": 1, "filter": {"inheritance": "de_novo"}}
    stricter = {"version": 1, "filter": {"all": [
        {"inheritance": "de_novo"}, {"qual": {"op": "ge", "value": 100}}]}}  # fmt: skip
    first = (await gql(client, SAVE, a=a, n="dn", f=de_novo, preset=False))["data"]["saveFilter"]
    plain = await container.analyses.results(SYSTEM, one.analysis.id, de_novo, limit=0)
    assert (first["version"], first["created"], first["preset"]) == (1, True, False)
    assert first["variantCount"] == plain.page.total > 0
    same = (await gql(client, SAVE, a=a, n="dn", f=de_novo, preset=False))["data"]["saveFilter"]
    assert (same["id"], same["version"], same["created"]) == (first["id"], 1, False)
    second = (await gql(client, SAVE, a=a, n="dn", f=stricter, preset=False))["data"]["saveFilter"]
    assert (second["id"], second["version"]) == (first["id"], 2)
    assert second["variantCount"] < first["variantCount"]

    latest = (await gql(client, BY_SAVED, a=a, s={"id": first["id"]}))["data"]["analysisResults"]
    assert latest == {"total": second["variantCount"], "filterId": first["id"], "filterVersion": 2}
    old = await gql(client, BY_SAVED, a=a, s={"id": first["id"], "version": 1})
    assert old["data"]["analysisResults"]["total"] == first["variantCount"]
    missing = await gql(client, BY_SAVED, a=a, s={"id": first["id"], "version": 9})
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    # a preset is offered to the project's other analyses; an analysis filter is not
    preset = (await gql(client, SAVE, a=a, n="rare", f=stricter, preset=True))["data"]
    assert preset["saveFilter"]["preset"] and preset["saveFilter"]["variantCount"] is None
    other = await container.analyses.create(
        SYSTEM, CreateAnalysis(project.id, f"o-{uuid.uuid4().hex[:6]}",
                               (MemberSpec(samples["HG002"].id),))
    )
    listed = await container.filters.of_analysis(SYSTEM, other.analysis.id)
    assert [(v.filter.name, v.filter.analysis_id) for v in listed] == [("rare", None)]
    there = await container.analyses.results(SYSTEM, other.analysis.id, stricter, limit=0)
    assert listed[0].count == there.page.total  # a preset's count, in the analysis listing it
    foreign = await gql(client, BY_SAVED, a=str(other.analysis.id), s={"id": first["id"]})
    assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    bad = await gql(client, SAVE, a=a, n="bad", f={"version": 1, "filter": {"impact": "X"}},
                    preset=False)  # fmt: skip
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert bad["errors"][0]["message"].startswith("filter.impact:")


async def test_update_status_names_and_roles(container, trio):
    from regovar.domain.analyses import UpdateAnalysis
    from regovar.domain.errors import Conflict, InvalidInput

    project, _, samples = trio
    view = await container.analyses.create(
        SYSTEM, CreateAnalysis(project.id, f"u-{uuid.uuid4().hex[:6]}",
                               (MemberSpec(samples["HG002"].id),))
    )
    a = view.analysis.id
    father = samples["HG003"].id
    updated = await container.analyses.update(SYSTEM, UpdateAnalysis(
        a, name="renamed " + uuid.uuid4().hex[:4], status="in_review",
        members=(MemberSpec(father, affected="affected"),),
    ))  # fmt: skip
    assert updated.analysis.status == "in_review" and updated.analysis.name.startswith("renamed")
    assert {m.sample: m.affected for m in updated.members}["HG003"] == "affected"
    assert updated.analysis.updated_at >= view.analysis.updated_at
    configured = await container.analyses.update(
        SYSTEM, UpdateAnalysis(a, settings={"panel": "cardio", "min_dp": 10})
    )
    assert configured.analysis.settings == {"panel": "cardio", "min_dp": 10}
    with pytest.raises(InvalidInput, match="invalid character"):
        await container.analyses.update(SYSTEM, UpdateAnalysis(a, settings={"x": "\x00"}))
    with pytest.raises(InvalidInput, match="unknown status"):
        await container.analyses.update(SYSTEM, UpdateAnalysis(a, status="done-ish"))
    with pytest.raises(InvalidInput, match="at most one mother"):
        await container.analyses.update(
            SYSTEM, UpdateAnalysis(a, members=(MemberSpec(father, role="mother", sex="female"),))
        )
    other = await container.analyses.create(
        SYSTEM, CreateAnalysis(project.id, f"v-{uuid.uuid4().hex[:6]}",
                               (MemberSpec(samples["HG002"].id),))
    )
    with pytest.raises(Conflict):
        await container.analyses.update(SYSTEM, UpdateAnalysis(a, name=other.analysis.name))
    still = await container.analyses.get(SYSTEM, a)
    assert {m.sample: m.role for m in still.members}["HG003"] == "father"


async def test_a_parent_of_the_other_sex_is_refused(container, trio):
    # HG003 (male in the PED) as the mother, or the parents swapped, were taken: the X-linked
    # and de novo modes then read the parents by the wrong role.
    from regovar.domain.analyses import UpdateAnalysis
    from regovar.domain.errors import InvalidInput

    project, _, samples = trio
    son, father, mother = (samples[n].id for n in ("HG002", "HG003", "HG004"))
    with pytest.raises(InvalidInput, match=r"HG003 is male \(from its pedigree, or as given\) "
                       "and cannot be the mother"):  # fmt: skip
        await container.analyses.create(SYSTEM, CreateAnalysis(
            project.id, f"x-{uuid.uuid4().hex[:6]}",
            (MemberSpec(son), MemberSpec(father, "mother"), MemberSpec(mother, "father"))))
    with pytest.raises(InvalidInput, match=r"HG004 is female .* cannot be the father"):
        await container.analyses.create(SYSTEM, CreateAnalysis(
            project.id, f"x-{uuid.uuid4().hex[:6]}",
            (MemberSpec(son), MemberSpec(mother, "father"))))
    # as given: a parent whose sex is set with the role is taken
    made = await container.analyses.create(SYSTEM, CreateAnalysis(
        project.id, f"x-{uuid.uuid4().hex[:6]}", (MemberSpec(son),)))
    assert {m.role for m in made.members} == {"proband", "mother", "father"}
    with pytest.raises(InvalidInput, match=r"HG003 is male .* cannot be the mother"):
        await container.analyses.update(SYSTEM, UpdateAnalysis(
            made.analysis.id, members=(MemberSpec(father, "mother"),
                                       MemberSpec(mother, "other"))))  # fmt: skip
    # parents swapped in one update, with their sexes: an IntegrityError (two mothers for a
    # moment) before
    swapped = await container.analyses.update(SYSTEM, UpdateAnalysis(
        made.analysis.id, members=(MemberSpec(father, "mother", "female"),
                                   MemberSpec(mother, "father", "male"))))  # fmt: skip
    roles = {m.sample: (m.role, m.sex) for m in swapped.members}
    assert roles["HG003"] == ("mother", "female") and roles["HG004"] == ("father", "male")

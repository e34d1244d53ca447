"""Archiving with real parts: a project's data goes to a verified bundle and leaves the
database; restore gives the same answers to the same queries."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from regovar.bootstrap import Container, build
from regovar.config import Inbox
from regovar.domain.analyses import CreateAnalysis, MemberSpec
from regovar.domain.errors import ArchiveInvalid, Conflict, NotFound, ProjectArchived
from regovar.domain.filters import SaveFilter
from regovar.domain.imports import StartImport
from regovar.domain.interpretation import Note
from regovar.domain.principal import SYSTEM, Principal
from regovar.domain.projects import CreateProject
from regovar.domain.users import CreateUser
from tests.conftest import settings_for
from tests.helpers import DEMO_PED, DEMO_VCF, PASSWORD

DE_NOVO = {"version": 1, "filter": {"all": [
    {"inheritance": "de_novo"}, {"qual": {"op": "ge", "value": 30}}]}}  # fmt: skip


@pytest.fixture
def c(fresh_url: str, tmp_path: Path) -> Iterator[Container]:
    (tmp_path / "incoming").mkdir()
    container = build(settings_for(fresh_url, tmp_path / "incoming"), url=fresh_url)
    yield container


async def _scalar(c: Container, sql: str, **params):
    async with c.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar_one()


async def _execute(c: Container, sql: str, **params) -> None:
    async with c.engine.begin() as conn:
        await conn.execute(text(sql), params)


async def _project_with_data(c: Container, name: str, *, copy_in: bool = False) -> dict:
    project = await c.projects.create(SYSTEM, CreateProject(name, "a family"))
    vcf, ped = DEMO_VCF, DEMO_PED
    if copy_in:  # the files are in Regovar's own data folder
        folder = c.settings.data_dir / "incoming" / name
        folder.mkdir(parents=True)
        vcf, ped = Path(shutil.copy(DEMO_VCF, folder)), Path(shutil.copy(DEMO_PED, folder))
    started = await c.imports.start(SYSTEM, StartImport(project.id, str(vcf), str(ped)),
                                    queue=False)  # fmt: skip
    job = await c.imports.run(SYSTEM, started.job.id)
    samples = {s.name: s.id for s in (await c.variants.samples(SYSTEM, import_id=job.id)).items}
    analysis = (await c.analyses.create(SYSTEM, CreateAnalysis(
        project.id, "trio", (MemberSpec(samples["HG002"]),)))).analysis  # fmt: skip
    await c.filters.save(SYSTEM, SaveFilter(analysis.id, "de novo", DE_NOVO))
    first = (await c.analyses.results(SYSTEM, analysis.id, DE_NOVO, limit=1)).page.items[0]
    await c.interpretation.add(SYSTEM, Note(analysis.id, (first.variant_key,), "classify",
                                            "likely_pathogenic", ("PS2",), "de novo"))  # fmt: skip
    return {"project": project, "import": job, "analysis": analysis, "key": first.variant_key,
            "vcf": vcf}  # fmt: skip


async def _answers(c: Container, t: dict) -> dict:
    """What users would look at: the analysis's results, a variant, its history, counts."""
    results = await c.analyses.results(SYSTEM, t["analysis"].id, DE_NOVO, limit=1000,
                                       gene_counts=True)  # fmt: skip
    detail = await c.analyses.variant(SYSTEM, t["analysis"].id, t["key"])
    history = await c.interpretation.history(SYSTEM, t["analysis"].id, t["key"])
    carriers = await _scalar(c, "SELECT sum(carriers) FROM variants")
    samples = await c.variants.samples(SYSTEM, project_id=t["project"].id)
    return {
        "total": results.page.total,
        "rows": [dataclasses.asdict(r) for r in results.page.items],
        "genes": results.genes,
        "detail": repr(detail),
        "history": [(h.id, h.kind, h.value, h.criteria, h.reason, h.actor, h.at)
                    for h in history],
        "carriers": carriers,
        "samples": [(s.id, s.name) for s in samples.items],
        "filters": [(f.filter.id, f.filter.name, f.version.version, f.version.document, f.count)
                    for f in await c.filters.of_analysis(SYSTEM, t["analysis"].id)],
    }


async def test_archive_then_restore_gives_identical_answers(c):
    old = await _project_with_data(c, "old-family", copy_in=True)
    recent = await _project_with_data(c, "recent-family")
    kept = await _project_with_data(c, "kept-family")
    await c.projects.set_protected(SYSTEM, kept["project"].id, True)
    await _execute(c, "UPDATE projects SET last_used_at = now() - interval '200 days' "
                      "WHERE name IN ('old-family', 'kept-family')")  # fmt: skip
    before = await _answers(c, old)
    recent_before = await _answers(c, recent)
    vcf_sha = hashlib.sha256(old["vcf"].read_bytes()).hexdigest()

    plan = await c.batches.run(SYSTEM, (await c.batches.request(
        SYSTEM, "archive", {"dry_run": True}, queue=False)).id)  # fmt: skip
    assert plan.counts["candidates"] == 1 and plan.counts["archived"] == 0
    assert "would archive old-family (unused for 200 days)" in plan.report
    assert await _scalar(c, "SELECT count(*) FROM archives") == 0

    job = await c.batches.run(SYSTEM, (await c.batches.request(SYSTEM, "archive",
                                                               queue=False)).id)  # fmt: skip
    assert job.state == "done", job.report
    assert job.counts["archived"] == 1 and job.counts["freed_bytes"] > 0
    assert "space freed:" in job.report
    archive = (await c.archives.page(SYSTEM)).items[0]
    bundle = Path(archive.path)
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["project"]["name"] == "old-family"
    assert manifest["tables"][f"calls_i{old['import'].id}"]["rows"] == old["import"].variants
    assert manifest["tables"]["variant_notes"]["rows"] == 1
    assert {s["original"] for s in manifest["sources"]} == {str(old["vcf"]),
                                                           str(old["vcf"].parent / DEMO_PED.name)}
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])

    # Gone from the database and the data folder; the project stays, marked archived.
    project_id = old["project"].id
    for table in ("samples", "imports", "analyses", "variant_notes", "subjects", "files"):
        assert await _scalar(c, f"SELECT count(*) FROM {table} WHERE project_id = :p",
                             p=project_id) == 0, table  # fmt: skip
    assert await _scalar(c, f"SELECT to_regclass('calls_i{old['import'].id}') IS NULL")
    assert not old["vcf"].exists()
    assert await _scalar(c, "SELECT sum(carriers) FROM variants") < before["carriers"]
    assert (await c.projects.get(SYSTEM, project_id)).archived_at is not None
    with pytest.raises(ProjectArchived, match="restore it first"):
        await c.imports.start(SYSTEM, StartImport(project_id, str(DEMO_VCF)), queue=False)
    # Other projects answer the same, but for what came from the archived one: its
    # carriers (in-house counts) and its classification of the same variant.
    still = await _answers(c, recent)
    assert {k: v for k, v in still.items() if k not in ("carriers", "history")} == {
        k: v for k, v in recent_before.items() if k not in ("carriers", "history")}  # fmt: skip
    assert still["history"] == recent_before["history"][1:]  # the archived one's note was first
    # The protected and the recent projects are untouched.
    for t in (recent, kept):
        assert await _scalar(c, "SELECT count(*) FROM samples WHERE project_id = :p",
                             p=t["project"].id) == 3  # fmt: skip

    restored = await c.archives.restore(SYSTEM, archive.id)
    assert restored.state == "restored" and restored.restored_at is not None
    assert await _answers(c, old) == before
    assert hashlib.sha256(old["vcf"].read_bytes()).hexdigest() == vcf_sha  # back in place
    assert (await c.projects.get(SYSTEM, project_id)).archived_at is None
    with pytest.raises(Conflict, match="restored already"):
        await c.archives.restore(SYSTEM, archive.id)
    # Restored for someone: not archived again at the next run.
    again = await c.archives.run(SYSTEM)
    assert again.candidates == []
    await c.aclose()


async def test_a_damaged_bundle_is_refused_and_nothing_changes(c):
    t = await _project_with_data(c, "damaged")
    report = await c.archives.run(SYSTEM, project="damaged")
    archive = report.archived[0]
    table = Path(archive.path) / "tables" / f"calls_i{t['import'].id}.csv.gz"
    data = bytearray(gzip.decompress(table.read_bytes()))
    data[-10] = ord("X") if data[-10] != ord("X") else ord("Y")
    table.write_bytes(gzip.compress(bytes(data)))
    with pytest.raises(ArchiveInvalid, match="checksum differs"):
        await c.archives.restore(SYSTEM, archive.id)
    assert (await c.projects.get(SYSTEM, t["project"].id)).archived_at is not None
    assert await _scalar(c, "SELECT count(*) FROM samples") == 0
    listed = subprocess.run(
        [sys.executable, "-c", "from regovar.cli import main; main()", "samples", "list", "-p",
         "damaged"], capture_output=True, text=True, timeout=60,
        env={**os.environ, "REGOVAR_DATABASE_URL": c.database_url,
             "REGOVAR_DATA_DIR": str(c.settings.data_dir)},
    )  # fmt: skip
    assert listed.returncode == 0 and "project damaged is archived since" in listed.stderr
    shutil.rmtree(archive.path)
    with pytest.raises(ArchiveInvalid, match=r"no readable manifest\.json"):
        await c.archives.restore(SYSTEM, archive.id)
    await c.aclose()


async def test_a_person_using_a_project_keeps_it(c):
    t = await _project_with_data(c, "in-use")
    user = await c.users.create(SYSTEM, CreateUser("reader", PASSWORD))
    await c.members.set(SYSTEM, t["project"].id, "reader", "viewer")
    await _execute(c, "UPDATE projects SET last_used_at = now() - interval '365 days'")
    # A batch reading it (the system) does not count as a use.
    await c.analyses.results(SYSTEM, t["analysis"].id, DE_NOVO)
    assert [x.project.name for x in (await c.archives.run(SYSTEM, dry_run=True)).candidates] == [
        "in-use"]  # fmt: skip
    await c.analyses.results(Principal(user.id, user.login), t["analysis"].id, DE_NOVO)
    assert (await c.archives.run(SYSTEM, dry_run=True)).candidates == []
    await c.aclose()


async def test_files_other_projects_or_drop_folders_use_are_kept(c, tmp_path):
    shared = c.settings.data_dir / "incoming" / "shared" / DEMO_VCF.name
    shared.parent.mkdir(parents=True)
    shutil.copy(DEMO_VCF, shared)
    for name in ("first", "second"):
        project = await c.projects.create(SYSTEM, CreateProject(name))
        started = await c.imports.start(SYSTEM, StartImport(project.id, str(shared)),
                                        queue=False)  # fmt: skip
        await c.imports.run(SYSTEM, started.job.id)
    report = await c.archives.run(SYSTEM, project="first")
    assert shared.is_file()  # the second project still uses it
    manifest = json.loads((Path(report.archived[0].path) / "manifest.json").read_text())
    assert [s["original"] for s in manifest["sources"]] == [str(shared)]  # in the bundle anyway

    inbox = c.settings.data_dir / "runs"
    run = inbox / "RUN1"
    run.mkdir(parents=True)
    shutil.copy(DEMO_VCF, run)
    settings = dataclasses.replace(c.settings, inboxes=(Inbox(inbox, "third"),))
    other = build(settings, url=c.database_url)
    project = await other.projects.create(SYSTEM, CreateProject("third"))
    started = await other.imports.start(SYSTEM, StartImport(project.id, str(run / DEMO_VCF.name)),
                                        queue=False)  # fmt: skip
    await other.imports.run(SYSTEM, started.job.id)
    await other.archives.run(SYSTEM, project="third")
    assert (run / DEMO_VCF.name).is_file()  # a run folder is the lab's: never changed
    await other.aclose()
    await c.aclose()


async def test_a_project_with_an_import_under_way_is_skipped(c):
    t = await _project_with_data(c, "busy")
    await _execute(c, "UPDATE imports SET state = 'running' WHERE project_id = :p",
                   p=t["project"].id)  # fmt: skip
    job = await c.batches.run(SYSTEM, (await c.batches.request(
        SYSTEM, "archive", {"project": "busy"}, queue=False)).id)  # fmt: skip
    assert job.state == "done" and job.counts["skipped"] == 1 and job.counts["archived"] == 0
    assert "has an import queued or loading" in job.report
    assert await _scalar(c, "SELECT count(*) FROM samples WHERE project_id = :p",
                         p=t["project"].id) == 3  # fmt: skip
    with pytest.raises(NotFound, match="project 'nope' not found"):
        await c.batches.request(SYSTEM, "archive", {"project": "nope"}, queue=False)
    assert (await c.batches.page(SYSTEM, kind="archive")).total == 1  # no job for a typo
    await c.aclose()


async def test_a_restore_that_cannot_put_files_back_changes_nothing(c):
    t = await _project_with_data(c, "blocked", copy_in=True)
    archive = (await c.archives.run(SYSTEM, project="blocked")).archived[0]
    folder = t["vcf"].parent
    shutil.rmtree(folder)
    folder.write_text("a file where the folder was")
    with pytest.raises(ArchiveInvalid, match="cannot put a source file back"):
        await c.archives.restore(SYSTEM, archive.id)
    assert (await c.projects.get(SYSTEM, t["project"].id)).archived_at is not None
    assert (await c.archives.page(SYSTEM)).items[0].state == "archived"
    folder.unlink()
    assert (await c.archives.restore(SYSTEM, archive.id)).state == "restored"
    assert t["vcf"].is_file()
    await c.aclose()

"""The same VCF imported again with another PED: not loaded twice; the PED sets the pedigree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from regovar.domain.errors import PedMalformedError
from regovar.domain.imports import StartImport
from regovar.domain.principal import SYSTEM
from tests.helpers import DEMO_PED, DEMO_VCF, import_file, new_project

CORRECTED = (  # HG002 was unaffected after all; his family renamed; HG003 unknown sex
    "AJ\tHG002\tHG003\tHG004\t1\t1\n"
    "AJ\tHG003\t0\t0\t0\t0\n"
    "AJ\tHG004\t0\t0\t2\t0\n"
)


async def _count(container, sql: str, **params) -> int:
    async with container.engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


async def _pedigree(container, project_id: int) -> dict[str, tuple]:
    async with container.engine.connect() as conn:
        rows = await conn.execute(text(
            "SELECT s.identifier, s.family, s.sex, s.affected, f.identifier, m.identifier "
            "FROM subjects s LEFT JOIN subjects f ON f.id = s.father_id "
            "LEFT JOIN subjects m ON m.id = s.mother_id WHERE s.project_id = :p"
        ), {"p": project_id})  # fmt: skip
        return {r[0]: tuple(r[1:]) for r in rows}


async def _again(container, project_id: int, ped: Path | None):
    command = StartImport(project_id, str(DEMO_VCF), str(ped) if ped else None)
    return await container.imports.start(SYSTEM, command, queue=False)


async def test_a_corrected_ped_sets_the_pedigree_without_loading_the_vcf_again(
    container, tmp_path
):
    project = await new_project(container, "ped")
    first = await import_file(container, DEMO_VCF, ped=DEMO_PED, project=project)
    assert (await _pedigree(container, project.id))["HG002"] == ("ash", 1, 2, "HG003", "HG004")
    variants = await _count(container, "SELECT count(*) FROM variants")
    carriers = await _count(container, "SELECT sum(carriers) FROM variants")

    corrected = tmp_path / "corrected.ped"
    corrected.write_text(CORRECTED)
    started = await _again(container, project.id, corrected)
    assert started.already_imported and started.job.id == first.id
    assert started.pedigree_updated == ["HG002", "HG003", "HG004"]  # family renamed for all
    pedigree = await _pedigree(container, project.id)
    assert pedigree["HG002"] == ("AJ", 1, 1, "HG003", "HG004")
    assert pedigree["HG003"] == ("AJ", 0, 0, None, None)
    # Loaded once: the same samples, calls and in-house counts.
    assert await _count(container, "SELECT count(*) FROM samples WHERE project_id = :p",
                        p=project.id) == 3  # fmt: skip
    assert await _count(container, "SELECT count(*) FROM imports WHERE project_id = :p",
                        p=project.id) == 1  # fmt: skip
    assert await _count(container, "SELECT count(*) FROM variants") == variants
    assert await _count(container, "SELECT sum(carriers) FROM variants") == carriers
    job = await container.imports.get(SYSTEM, first.id)
    ped_file = (await container.imports.files_by_id(SYSTEM, [job.ped_file_id]))[job.ped_file_id]
    assert ped_file.name == "corrected.ped"
    # The import's warnings say what the new PED changed (they were not recorded); the VCF's
    # own warnings stay.
    kinds = {w["kind"]: w for w in job.warnings}
    assert kinds["pedigree_changed"]["count"] == 3
    assert kinds["pedigree_changed"]["lines"] == [1, 2, 3]
    assert {w["kind"] for w in first.warnings} - {"pedigree_changed"} <= set(kinds)

    same = await _again(container, project.id, corrected)  # nothing new in it
    assert same.already_imported and same.pedigree_updated is None
    without = await _again(container, project.id, None)  # no PED: the pedigree stays
    assert without.already_imported and without.pedigree_updated is None
    assert await _pedigree(container, project.id) == pedigree


async def test_a_ped_given_after_an_import_without_one_links_the_family(container, tmp_path):
    project = await new_project(container, "ped")
    first = await import_file(container, DEMO_VCF, project=project)
    assert (await _pedigree(container, project.id))["HG002"] == (None, 0, 0, None, None)
    started = await _again(container, project.id, DEMO_PED)
    assert started.already_imported and started.job.id == first.id
    assert started.pedigree_updated == ["HG002", "HG003", "HG004"]
    assert (await _pedigree(container, project.id))["HG002"] == ("ash", 1, 2, "HG003", "HG004")


async def test_a_bad_corrected_ped_is_refused_and_changes_nothing(container, tmp_path):
    project = await new_project(container, "ped")
    await import_file(container, DEMO_VCF, ped=DEMO_PED, project=project)
    before = await _pedigree(container, project.id)
    bad = tmp_path / "bad.ped"
    bad.write_text("AJ\tHG002\tHG003\tHG004\t1\t1\nAJ\tHG003\t0\t0\tX\t0\n")
    with pytest.raises(PedMalformedError) as caught:
        await _again(container, project.id, bad)
    assert caught.value.data["line"] == 2 and str(bad) in caught.value.message
    assert await _pedigree(container, project.id) == before


async def test_the_cli_says_which_subjects_changed(container, tmp_path):
    project = await new_project(container, "ped")
    await import_file(container, DEMO_VCF, ped=DEMO_PED, project=project)
    corrected = tmp_path / "fix.ped"
    corrected.write_text(DEMO_PED.read_text().replace("HG004\t1\t2", "HG004\t1\t1"))
    env = {**os.environ, "REGOVAR_DATABASE_URL": container.database_url}
    env.pop("REGOVAR_BROKER_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", "from regovar.cli import main; main()", "import", str(DEMO_VCF),
         "--project", project.name, "--ped", str(corrected)],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    lines = out.stdout.splitlines()
    number = lines[1].split()[4]
    assert lines[0] == f"pedigree of import {number} set from fix.ped: 1 subject changed: HG002"
    assert lines[1] == f"already imported as import {number} (done): nothing loaded now"
    # its counts are those of then: '(9,940 new)' read as if loaded now
    assert lines[2].startswith(f"import {number} done on ") and "new then)" in lines[2]


def _vcf(path: Path, samples: list[str], pos: int) -> Path:
    head = ["##fileformat=VCFv4.2", "##reference=GRCh37", "##contig=<ID=1,length=249250621>",
            "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT",
                       *samples])]  # fmt: skip
    calls = ["0/1"] * len(samples)
    body = ["\t".join(["1", str(pos), ".", "A", "G", "50", "PASS", ".", "GT", *calls])]
    path.write_text("\n".join(head + body) + "\n")
    return path


async def test_a_later_import_s_ped_is_the_pedigree_and_says_what_it_changed(container, tmp_path):
    # Two runs of one family, each with its PED: the second PED corrects S2's sex and S1's
    # status, and drops S1's father. Merged, S1 kept a female father and stayed affected.
    project = await new_project(container, "ped")
    (tmp_path / "a.ped").write_text("F1\tS1\tS2\t0\t1\t2\nF1\tS2\t0\t0\t1\t1\n")
    (tmp_path / "b.ped").write_text("F1\tS1\t0\t0\t1\t1\nF1\tS2\t0\t0\t2\t1\n")
    first = await import_file(container, _vcf(tmp_path / "a.vcf", ["S1", "S2"], 100),
                              ped=tmp_path / "a.ped", project=project)  # fmt: skip
    assert not [w for w in first.warnings if w["kind"] == "pedigree_changed"]
    second = await import_file(container, _vcf(tmp_path / "b.vcf", ["S1", "S2"], 200),
                               ped=tmp_path / "b.ped", project=project)  # fmt: skip
    assert second.state == "done", second.error_message
    pedigree = await _pedigree(container, project.id)
    assert pedigree["S1"] == ("F1", 1, 1, None, None)
    assert pedigree["S2"] == ("F1", 2, 1, None, None)
    (changed,) = [w for w in second.warnings if w["kind"] == "pedigree_changed"]
    assert changed["count"] == 2 and changed["lines"] == [1, 2]
    assert "now as this PED file gives it" in changed["message"]


async def test_a_parent_named_without_a_line_of_its_own_is_a_subject_of_its_sex(
    container, tmp_path
):
    project = await new_project(container, "ped")
    (tmp_path / "kid.ped").write_text("F1\tKID\tDAD\tMUM\t1\t2\n")
    job = await import_file(container, _vcf(tmp_path / "kid.vcf", ["KID"], 300),
                            ped=tmp_path / "kid.ped", project=project)  # fmt: skip
    assert job.state == "done", job.error_message
    pedigree = await _pedigree(container, project.id)
    assert pedigree["KID"] == ("F1", 1, 2, "DAD", "MUM")
    assert pedigree["DAD"][:3] == ("F1", 1, 0) and pedigree["MUM"][:3] == ("F1", 2, 0)
    (warning,) = [w for w in job.warnings if w["kind"] == "parent_not_listed"]
    assert warning["count"] == 2 and warning["lines"] == [1, 1]


async def test_a_parent_not_listed_who_is_a_subject_already_stays_as_it_is(container, tmp_path):
    project = await new_project(container, "ped")
    (tmp_path / "mum.ped").write_text("G\tMUM\t0\t0\t2\t1\n")
    await import_file(container, _vcf(tmp_path / "mum.vcf", ["MUM"], 400),
                      ped=tmp_path / "mum.ped", project=project)  # fmt: skip
    (tmp_path / "kid.ped").write_text("F\tKID\t0\tMUM\t1\t2\n")  # MUM not listed here
    job = await import_file(container, _vcf(tmp_path / "kid.vcf", ["KID"], 500),
                            ped=tmp_path / "kid.ped", project=project)  # fmt: skip
    assert job.state == "done", job.error_message
    pedigree = await _pedigree(container, project.id)
    assert pedigree["MUM"] == ("G", 2, 1, None, None)  # her family, sex and status kept
    assert pedigree["KID"] == ("F", 1, 2, None, "MUM")
    # Named as a father, she is refused: the PED and the project disagree on her sex.
    (tmp_path / "kid2.ped").write_text("F\tKID2\tMUM\t0\t1\t2\n")
    refused = await import_file(container, _vcf(tmp_path / "kid2.vcf", ["KID2"], 600),
                                ped=tmp_path / "kid2.ped", project=project)  # fmt: skip
    assert refused.state == "failed" and refused.error_code == "PED_MALFORMED"
    assert refused.error_message == (
        f"{tmp_path / 'kid2.ped'}, line 1: MUM is the father of KID2 here, but female in the "
        "project (as an earlier PED gave it)"
    )
    assert "KID2" not in await _pedigree(container, project.id)  # nothing half written


async def test_a_loop_made_with_an_earlier_ped_is_refused(container, tmp_path):
    project = await new_project(container, "ped")
    (tmp_path / "a.ped").write_text("F\tB\tA\t0\t1\t1\nF\tA\t0\t0\t1\t1\n")
    await import_file(container, _vcf(tmp_path / "a.vcf", ["A", "B"], 700),
                      ped=tmp_path / "a.ped", project=project)  # fmt: skip
    (tmp_path / "b.ped").write_text("F\tA\tB\t0\t1\t1\n")  # A's father B, B's father A before
    job = await import_file(container, _vcf(tmp_path / "b.vcf", ["A"], 800),
                            ped=tmp_path / "b.ped", project=project)  # fmt: skip
    assert job.state == "failed" and job.error_code == "PED_MALFORMED"
    assert "would be their own ancestor" in job.error_message
    assert f"{tmp_path / 'b.ped'}, line 1:" in job.error_message
    assert (await _pedigree(container, project.id))["A"] == ("F", 1, 1, None, None)


async def test_a_ped_of_eight_thousand_individuals_imports(container, tmp_path):
    # One statement takes at most 32,767 values: subjects are written in chunks.
    lines = [f"F{i}\tI{i}\t0\t0\t{1 + i % 2}\t1\n" for i in range(8000)]
    lines.append("F0\tKID\tI0\t0\t1\t2\n")
    (tmp_path / "big.ped").write_text("".join(lines))
    project = await new_project(container, "ped")
    job = await import_file(container, _vcf(tmp_path / "big.vcf", ["KID"], 900),
                            ped=tmp_path / "big.ped", project=project)  # fmt: skip
    assert job.state == "done", job.error_message
    pedigree = await _pedigree(container, project.id)
    assert len(pedigree) == 8001 and pedigree["KID"] == ("F0", 1, 2, "I0", None)


async def test_a_failed_import_s_changed_ped_or_moved_vcf_does_not_leave_it_stuck(
    container, tmp_path
):
    project = await new_project(container, "ped")
    vcf = _vcf(tmp_path / "run.vcf", ["A", "B"], 1000)
    ped = tmp_path / "loop.ped"
    ped.write_text("F\tA\tB\t0\t1\t1\nF\tB\tA\t0\t1\t1\n")
    failed = await import_file(container, vcf, ped=ped, project=project)
    assert failed.state == "failed" and failed.error_code == "PED_MALFORMED"
    ped.write_text("F\tA\t0\t0\t1\t1\nF\tB\t0\t0\t2\t1\n")  # corrected in place
    again = await import_file(container, vcf, project=project)  # without --ped: its old PED
    assert again.id == failed.id and again.error_code == "PED_MALFORMED"
    assert again.error_message == (f"{ped}: the PED file changed or moved since it was "
                                   "registered; give it again with the import (--ped), or "
                                   "another PED")  # fmt: skip
    moved = tmp_path / "elsewhere.vcf"
    vcf.rename(moved)  # the same bytes at another path
    done = await import_file(container, moved, ped=ped, project=project)
    assert done.id == failed.id and done.state == "done", done.error_message
    assert (await _pedigree(container, project.id))["B"] == ("F", 2, 1, None, None)


async def _f1_trio(container, tmp_path: Path, pos: int):
    """A project holding KID, DAD and MOM of family F1, from a VCF and its PED."""
    project = await new_project(container, "ped")
    (tmp_path / "trio.ped").write_text(
        "F1\tKID\tDAD\tMOM\t1\t2\nF1\tDAD\t0\t0\t1\t1\nF1\tMOM\t0\t0\t2\t1\n"
    )
    await import_file(container, _vcf(tmp_path / "trio.vcf", ["KID", "DAD", "MOM"], pos),
                      ped=tmp_path / "trio.ped", project=project)  # fmt: skip
    return project


async def test_a_ped_cannot_leave_an_earlier_child_with_an_impossible_parent(
    container, tmp_path
):
    # A PED listing only the mother, now male, or only the father, now of another family, was
    # accepted: the project then held a male mother or a father of another family.
    project = await _f1_trio(container, tmp_path, 1000)
    before = await _pedigree(container, project.id)
    cases = (
        ("mom.ped", "F1\tMOM\t0\t0\t1\t1\n",
         "line 1: MOM would be male and the mother of KID, with the pedigree the project "
         "already holds; give a PED that lists the whole family"),
        ("dad.ped", "F9\tDAD\t0\t0\t1\t1\n",
         "line 1: DAD would be in family 'F9' and the father of KID, of family 'F1'"),
    )  # fmt: skip
    for i, (name, content, said) in enumerate(cases):
        (tmp_path / name).write_text(content)
        job = await import_file(container, _vcf(tmp_path / f"{name}.vcf", ["X"], 1100 + i),
                                ped=tmp_path / name, project=project)  # fmt: skip
        assert job.state == "failed" and job.error_code == "PED_MALFORMED", job.error_message
        assert f"{tmp_path / name}, {said}" in job.error_message
        assert await _pedigree(container, project.id) == before  # nothing changed


async def test_a_sample_named_like_a_subject_with_samples_is_said(container, tmp_path):
    # Two runs that both call their sample "S1" are one person to the project: said, so that
    # a lab reusing run-local names sees two patients being merged.
    project = await new_project(container, "ped")
    first = await import_file(container, _vcf(tmp_path / "run1.vcf", ["S1", "S2"], 1200),
                              project=project)  # fmt: skip
    assert "subject_has_samples" not in {w["kind"] for w in first.warnings}
    second = await import_file(container, _vcf(tmp_path / "run2.vcf", ["S1", "S3"], 1300),
                               project=project)  # fmt: skip
    (warning,) = [w for w in second.warnings if w["kind"] == "subject_has_samples"]
    assert warning["count"] == 1
    assert warning["message"].startswith(
        f"sample S1 is subject S1 of the project, who has a sample in import {first.id} already"
    )


async def test_a_mismatch_the_project_already_held_does_not_refuse_a_later_ped(
    container, tmp_path
):
    # KID moved to F9 by a PED naming DAD and MOM without lines (they keep F1, as documented);
    # a later PED listing MOM unchanged in F1 was then refused for that earlier mismatch.
    project = await _f1_trio(container, tmp_path, 1400)
    for i, (name, content) in enumerate((("kid.ped", "F9\tKID\tDAD\tMOM\t1\t2\n"),
                                         ("mom.ped", "F1\tMOM\t0\t0\t2\t2\n"))):  # fmt: skip
        (tmp_path / name).write_text(content)
        job = await import_file(container, _vcf(tmp_path / f"{name}.vcf", ["Z"], 1500 + i),
                                ped=tmp_path / name, project=project)  # fmt: skip
        assert job.state == "done", job.error_message
    pedigree = await _pedigree(container, project.id)
    assert pedigree["KID"] == ("F9", 1, 2, "DAD", "MOM")
    assert pedigree["MOM"] == ("F1", 2, 2, None, None)


async def test_an_unlisted_parent_of_two_families_in_one_ped_is_refused(container, tmp_path):
    # P, created for the PED's first child (F1), was also made the father of Y of F9.
    project = await new_project(container, "ped")
    ped = tmp_path / "shared.ped"
    ped.write_text("F1\tX\tP\t0\t1\t1\nF9\tY\tP\t0\t1\t1\n")
    job = await import_file(container, _vcf(tmp_path / "xy.vcf", ["X", "Y"], 1600), ped=ped,
                            project=project)  # fmt: skip
    assert job.state == "failed" and job.error_code == "PED_MALFORMED"
    assert job.error_message == (
        f"{ped}, line 2: P, who has no line of its own, is a parent in family 'F1' (line 1) "
        "and in family 'F9'"
    )
    assert await _pedigree(container, project.id) == {}


async def test_a_first_ped_for_samples_known_by_name_only_changes_nothing_said(
    container, tmp_path
):
    # A VCF imported without a PED, then its PED: 'pedigree_changed x3 ... described otherwise
    # before', although nothing had described them.
    project = await new_project(container, "ped")
    first = await import_file(container, _vcf(tmp_path / "a.vcf", ["S1", "S2"], 100),
                              project=project)  # fmt: skip
    (tmp_path / "a.ped").write_text("F1\tS1\tS2\t0\t1\t2\nF1\tS2\t0\t0\t1\t1\n")
    command = StartImport(project.id, str(tmp_path / "a.vcf"), str(tmp_path / "a.ped"))
    started = await container.imports.start(SYSTEM, command, queue=False)
    assert started.already_imported and started.pedigree_updated == ["S1", "S2"]
    job = await container.imports.get(SYSTEM, first.id)
    assert not [w for w in job.warnings or [] if w["kind"] == "pedigree_changed"]
    assert (await _pedigree(container, project.id))["S1"] == ("F1", 1, 2, "S2", None)

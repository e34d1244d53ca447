"""What a tester's hostile inputs broke, kept fixed: nothing stuck, nothing duplicated."""

from __future__ import annotations

import asyncio
import gzip
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from regovar.domain import variant_filter as vf
from regovar.domain.imports import StartImport
from regovar.domain.principal import SYSTEM, Principal
from regovar.domain.projects import CreateProject
from tests.helpers import (
    DEMO_PED,
    DEMO_VCF,
    import_file,
    new_project,
    new_user,
    rows,
    trio_copies,
)

HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n"
    '##INFO=<ID=NOTE,Number=1,Type=String,Description="n">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="d">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{samples}\n"
)


def _vcf(
    tmp_path: Path, name: str, records: list[str], samples: str = "S1", declare: str = ""
) -> Path:
    """A VCF of ``records``; ``declare``: more header lines, before the FORMAT ones."""
    path = tmp_path / name
    header = HEADER.format(samples=samples).replace("##FORMAT=<ID=GT", declare + "##FORMAT=<ID=GT")
    path.write_text(header + "".join(r + "\n" for r in records))
    return path


async def test_values_beyond_the_columns_are_refused_or_nulled(container, tmp_path):
    huge_pos = _vcf(
        tmp_path,
        "pos.vcf",
        [
            "1\t100\t.\tC\tT\t50\tPASS\t.\tGT:DP\t0/1:10",
            "1\t2147483653\t.\tC\tT\t50\tPASS\t.\tGT:DP\t0/1:10",
        ],
    )
    job = await import_file(container, huge_pos)
    assert (job.state, job.error_code) == ("failed", "VCF_MALFORMED")
    assert "line 8" in job.error_message and "position" in job.error_message
    zero = _vcf(tmp_path, "zero.vcf", ["1\t0\t.\tC\tT\t50\tPASS\t.\tGT:DP\t0/1:10"])
    job = await import_file(container, zero)
    assert (job.state, job.error_code) == ("failed", "VCF_MALFORMED")
    assert "line 7: POS 0: positions start at 1" in job.error_message  # was 'position 0-0'

    odd = _vcf(
        tmp_path,
        "odd.vcf",
        [
            "1\t100\t.\tC\tT\tinf\tPASS\tNOTE=a\x00b\tGT:DP\t0/1:2147483649",
            "1\t200\t.\tG\tA\t1e39\tPASS\t.\tGT:DP\t0/1:12",
        ],
        samples="S" + "x" * 299,
    )
    job = await import_file(container, odd)
    assert job.state == "done", job.error_message
    kinds = {w["kind"]: w["count"] for w in job.warnings}
    assert kinds["integer_out_of_range"] == 1 and kinds["qual_not_finite"] == 2
    lines = {w["kind"]: w["lines"] for w in job.warnings}  # each named by its line
    assert lines["integer_out_of_range"] == [7] and lines["qual_not_finite"] == [7, 8]
    items, ids = await rows(container, job)
    (sid,) = ids.values()
    first = next(r for r in items if r.pos == 100)
    assert first.qual is None and first.samples[sid]["dp"] is None
    assert first.info["NOTE"] == "a\ufffdb"


async def test_a_qual_too_small_for_float32_and_a_depth_too_large_for_int32(container, tmp_path):
    # QUAL 1e-46 is 0 to float32 (PostgreSQL refused the import); a depth stored as missing
    # gives no VAF; a multi-allelic record's value warning names its line once.
    vcf = _vcf(tmp_path, "extremes.vcf", [
        "1\t100\t.\tC\tT\t1e-46\tPASS\t.\tGT:DP\t0/1:10",
        "1\t200\t.\tG\tA,T\tnan\tPASS\t.\tGT:AD\t1/2:4294967295,1,3",
    ], declare='##FORMAT=<ID=AD,Number=R,Type=Integer,Description="a">\n')  # fmt: skip
    job = await import_file(container, vcf)
    assert job.state == "done", job.error_message
    lines = {w["kind"]: w["lines"] for w in job.warnings}
    assert lines["qual_not_finite"] == [9] and lines["integer_out_of_range"] == [9]
    items, ids = await rows(container, job)
    (sid,) = ids.values()
    by_pos = {(r.pos, r.alt): r for r in items}
    assert by_pos[(100, "T")].qual == 0.0
    for alt in ("A", "T"):
        call = by_pos[(200, alt)].samples[sid]
        assert call["ad_ref"] is None and call["vaf"] is None  # not 1/4294967296


async def test_a_failed_import_is_never_left_running(container, tmp_path):
    """An error nobody foresaw still ends the job, with a code, and the file can be retried."""
    vcf = _vcf(tmp_path, "boom.vcf", ["1\t100\t.\tC\tT\t50\tPASS\t.\tGT:DP\t0/1:10"])
    project = await new_project(container)
    started = await container.imports.start(SYSTEM, StartImport(project.id, str(vcf)), queue=False)
    async with container.engine.begin() as conn:  # simulate a process that died mid-load
        await conn.execute(
            text("UPDATE imports SET state = 'running' WHERE id = :i"), {"i": started.job.id}
        )
    again = await container.imports.start(SYSTEM, StartImport(project.id, str(vcf)), queue=False)
    assert again.job.id == started.job.id and not again.already_imported
    done = await container.imports.run(SYSTEM, again.job.id)
    assert done.state == "done" and done.records == 1


async def test_same_file_started_concurrently_is_imported_once(container, tmp_path):
    vcf = _vcf(tmp_path, "race.vcf", ["1\t100\t.\tC\tT\t50\tPASS\t.\tGT:DP\t0/1:10"])
    project = await new_project(container)
    results = await asyncio.gather(
        *(
            container.imports.start(SYSTEM, StartImport(project.id, str(vcf)), queue=True)
            for _ in range(6)
        )
    )
    assert len({r.job.id for r in results}) == 1
    assert sum(not r.already_imported for r in results) == 1


async def test_a_file_swapped_for_a_link_after_registration_is_refused(
    container, import_dir, tmp_path
):
    inside = import_dir / "swap.vcf"
    inside.write_bytes(
        _vcf(tmp_path, "a.vcf", ["1\t100\t.\tC\tT\t50\tPASS\t.\tGT\t0/1"]).read_bytes()
    )
    secret = _vcf(tmp_path, "secret.vcf", ["1\t300\t.\tA\tG\t50\tPASS\t.\tGT\t1/1"])
    tech = await new_user(container, "tech")
    user = Principal(user_id=tech.id, login=tech.login)
    project = await container.projects.create(user, CreateProject(f"swap-{tech.login}"))
    started = await container.imports.start(user, StartImport(project.id, str(inside)), queue=False)
    inside.unlink()
    os.symlink(secret, inside)
    job = await import_file_by_id(container, started.job.id)
    assert (job.state, job.error_code) == ("failed", "VCF_MALFORMED")
    assert "changed or moved" in job.error_message


async def test_a_file_written_to_while_it_is_imported_is_refused(container, tmp_path):
    # A copy still going on: the load read the grown file but recorded the size and hash of
    # registration, so importing the finished file again loaded the same records twice.
    path = trio_copies(2, tmp_path / "growing.vcf")
    project = await new_project(container)
    started = await container.imports.start(SYSTEM, StartImport(project.id, str(path)),
                                            queue=False)  # fmt: skip
    tail = path.read_text().splitlines(keepends=True)[-3:]

    def grow(fraction: float, records: int) -> None:
        if fraction < 1.0 and tail:
            with path.open("a") as fh:
                fh.writelines(tail)
            tail.clear()

    with pytest.raises(Exception, match="the file changed while it was imported"):
        await container.imports.run(SYSTEM, started.job.id, on_progress=grow)
    job = await container.imports.get(SYSTEM, started.job.id)
    assert (job.state, job.error_code, job.variants) == ("failed", "VCF_MALFORMED", 0)
    assert not tail  # it did grow during the load


async def test_a_file_rewritten_in_place_at_the_same_size_is_refused(container, tmp_path):
    # A genotype 0/1 made 1/1 in place, after registration or during the load: same size, so
    # the load kept the new bytes under the registered hash.
    for during in (False, True):
        path = trio_copies(2, tmp_path / f"rewritten-{during}.vcf")
        project = await new_project(container)
        started = await container.imports.start(SYSTEM, StartImport(project.id, str(path)),
                                                queue=False)  # fmt: skip
        size = path.stat().st_size
        done: list[bool] = []

        def rewrite(fraction: float = 0.0, records: int = 0, path=path, done=done) -> None:
            if fraction < 1.0 and not done:
                data = path.read_bytes()
                at = data.rindex(b"\t0/1")
                with path.open("r+b") as fh:
                    fh.seek(at + 1)
                    fh.write(b"1")
                done.append(True)

        if not during:
            rewrite()
        with pytest.raises(Exception, match="same size, other bytes"):
            await container.imports.run(SYSTEM, started.job.id,
                                        on_progress=rewrite if during else None)  # fmt: skip
        job = await container.imports.get(SYSTEM, started.job.id)
        assert (job.state, job.error_code, job.variants) == ("failed", "VCF_MALFORMED", 0)
        assert done and path.stat().st_size == size


async def import_file_by_id(container, import_id: int):
    try:
        return await container.imports.run(SYSTEM, import_id)
    except Exception:
        return await container.imports.get(SYSTEM, import_id)


async def test_samples_of_separate_imports_are_queried_together(container, tmp_path):
    """A trio from three single-sample files: the query joins the imports by variant."""
    with gzip.open(DEMO_VCF, "rt") as fh:
        lines = fh.read().splitlines()
    header = [x for x in lines if x.startswith("##")]
    chrom_line = next(x for x in lines if x.startswith("#CHROM")).split("\t")
    records = [x.split("\t") for x in lines if not x.startswith("#")]
    project = await new_project(container)
    jobs = []
    for column, name in enumerate(chrom_line[9:], start=9):
        path = tmp_path / f"{name}.vcf"
        body = [
            "\t".join([*r[:9], r[column]])
            for r in records
            if not r[column].startswith("0/0") and not r[column].startswith("./.")
        ]
        path.write_text("\n".join([*header, "\t".join([*chrom_line[:9], name]), *body]) + "\n")
        jobs.append(await import_file(container, path, project=project))
    ids = []
    for job in jobs:
        page = await container.variants.samples(SYSTEM, import_id=job.id)
        ids.append(page.items[0].id)
    child, father, mother = ids
    node = vf.And(
        (
            vf.Genotype(child, ("het",)),
            vf.Genotype(father, ("missing",)),
            vf.Genotype(mother, ("missing",)),
        )
    )
    page = await container.variants.query(SYSTEM, vf.VariantQuery(tuple(ids), node, limit=50))
    assert page.total > 0
    for r in page.items:
        assert r.samples[child]["zyg"] in (1, 5)  # het, or het with another ALT (split site)
        assert r.samples[father]["zyg"] is None and r.samples[mother]["zyg"] is None
    everything = await container.variants.query(SYSTEM, vf.VariantQuery(tuple(ids), None, limit=5))
    assert everything.total >= max(j.variants for j in jobs)
    assert [(r.chrom, r.pos) for r in everything.items] == sorted(
        (r.chrom, r.pos) for r in everything.items
    )
    _ = DEMO_PED


async def test_a_line_without_end_is_refused_without_eating_memory(container, tmp_path):
    bomb = tmp_path / "bomb.vcf.gz"
    with gzip.open(bomb, "wb", compresslevel=1) as fh:
        fh.write(b"##x=")
        block = b"A" * (1 << 20)
        for _ in range(70):
            fh.write(block)
    job = await import_file(container, bomb)
    assert (job.state, job.error_code) == ("failed", "VCF_MALFORMED")
    assert "longer than 64 MiB" in job.error_message


async def test_assembly_aliases_and_bad_paths(container, tmp_path):
    vcf = _vcf(tmp_path, "alias.vcf", ["1\t100\t.\tC\tT\t50\tPASS\t.\tGT\t0/1"])
    job = await import_file(container, vcf, assembly="hg19")
    assert (job.state, job.assembly) == ("done", "GRCh37")
    loop = tmp_path / "loop"
    os.symlink(loop, loop)
    project = await new_project(container)
    try:
        await container.imports.start(SYSTEM, StartImport(project.id, str(loop)), queue=False)
    except Exception as exc:
        assert getattr(exc, "code", None) == "INVALID_INPUT", exc
    else:
        raise AssertionError("a symbolic link loop was accepted")
    items, ids = await rows(container, job)
    (sid,) = ids.values()
    try:
        await container.variants.query(
            SYSTEM, vf.VariantQuery((sid,), vf.Region("1", 1, 99_999_999_999))
        )
    except Exception as exc:
        assert getattr(exc, "code", None) == "INVALID_INPUT", exc
    else:
        raise AssertionError("a region beyond 2^31 was accepted")
    assert items


async def test_odd_digits_and_negative_depths(container, tmp_path):
    arabic = _vcf(tmp_path, "arabic.vcf", ["1\t\u0661\u0662\u0663\t.\tC\tT\t50\tPASS\t.\tGT\t0/1"])
    job = await import_file(container, arabic)
    assert job.error_code == "VCF_MALFORMED" and "POS is not an integer" in job.error_message
    negative = tmp_path / "negative.vcf"
    negative.write_text(
        HEADER.replace(
            "##FORMAT=<ID=DP,",
            '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="a">\n##FORMAT=<ID=DP,',
        ).format(samples="S1")
        + "1\t100\t.\tC\tT\t50\tPASS\t.\tGT:AD:DP\t0/1:-5,10:-10\n"
    )
    job = await import_file(container, negative)
    assert job.state == "done", job.error_message
    items, ids = await rows(container, job)
    call = items[0].samples[ids["S1"]]
    assert call["vaf"] is None and call["dp"] is None and call["ad_ref"] is None


async def test_a_nul_in_a_value_and_the_largest_float32_qual(container, tmp_path):
    # 'DP=5<NUL>' failed the import with a traceback (its warning quoted the NUL, which the
    # database refuses); QUAL 3.4e38, which float32 holds, was stored as missing.
    vcf = _vcf(tmp_path, "nul.vcf", [
        "1\t100\t.\tC\tT\t50\tPASS\tDP=5\x00\tGT\t0/1",
        "1\t200\t.\tG\tA\t3.4e38\tPASS\t.\tGT\t0/1",
        "1\t300\t.\tG\tA\t340282346638528859811704183484516925440\tPASS\t.\tGT\t0/1",
        "1\t400\t.\tG\tA\t3.4028235e38\tPASS\t.\tGT\t0/1",
        "1\t500\t.\tG\tA\t3.4028236e38\tPASS\t.\tGT\t0/1",
    ], declare='##INFO=<ID=DP,Number=1,Type=Integer,Description="d">\n')  # fmt: skip
    job = await import_file(container, vcf)
    assert job.state == "done", job.error_message
    warned = {w["kind"]: w for w in job.warnings}
    assert "\x00" not in str(job.warnings) and warned["info_value"]["lines"] == [8]
    assert warned["qual_not_finite"]["lines"] == [12]  # beyond float32: missing, said
    assert warned["nul_byte"]["lines"] == [8]  # read as U+FFFD, and said
    items, _ = await rows(container, job)
    quals = {r.pos: r.qual for r in items}
    assert quals[200] == pytest.approx(3.4e38, rel=1e-6)
    assert quals[300] == pytest.approx(3.4028234663852886e38, rel=1e-6)
    assert quals[400] == pytest.approx(3.4028235e38, rel=1e-6) and quals[500] is None


async def test_a_bgzf_file_cut_inside_a_record_says_it_may_be_cut_short(container, tmp_path):
    from tests.unit.test_vcf_io import BGZF_EOF, bgzf

    records = [f"1\t{100 + i}\t.\tC\tT\t50\tPASS\t.\tGT:DP\t0/1:10" for i in range(40)]
    data = _vcf(tmp_path, "whole.vcf", records).read_bytes()
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(bgzf(data[: len(data) - 7], block=1 << 16)[: -len(BGZF_EOF)])
    job = await import_file(container, cut)
    assert job.state == "failed" and job.error_code == "VCF_MALFORMED"
    assert "the BGZF end-of-file block is missing: the file may be cut short" in job.error_message


async def test_a_lost_database_connection_is_said_and_keeps_nothing(
    container, tmp_path, database_url
):
    # An administrator ending the loading session gave "InterfaceError: cannot call
    # Transaction.rollback(): the underlying connection is closed", hiding the cause.
    import psycopg
    from sqlalchemy.engine import make_url

    path = trio_copies(2, tmp_path / "cut.vcf")
    project = await new_project(container)
    started = await container.imports.start(SYSTEM, StartImport(project.id, str(path)),
                                            queue=False)  # fmt: skip
    url = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    ended: list[int] = []

    def end_session(fraction: float, records: int) -> None:
        if ended or fraction >= 1.0:
            return
        with psycopg.connect(url, autocommit=True) as admin:  # the import's: it has written
            ended.extend(r[0] for r in admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                "current_database() AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"))

    with pytest.raises(Exception, match="connection to the database was lost") as raised:
        await container.imports.run(SYSTEM, started.job.id, on_progress=end_session)
    assert ended == [True]
    assert "rollback" not in str(raised.value)
    job = await container.imports.get(SYSTEM, started.job.id)
    assert (job.state, job.error_code, job.variants) == ("failed", "IMPORT_FAILED", 0)
    again = await import_file_by_id(container, started.job.id)
    assert again.state == "done" and again.records == 2 * 9940


async def test_a_sample_named_like_a_subject_of_the_project_but_not_the_same_is_refused(
    container, tmp_path
):
    # 'HG002 ' in a second run beside the project's HG002 became a second patient, read the
    # same in every list (within one file such names were refused already).
    project = await new_project(container)
    first = _vcf(tmp_path, "a.vcf", ["1\t100\t.\tC\tT\t50\tPASS\t.\tGT:DP\t0/1:10"], "HG002")
    assert (await import_file(container, first, project=project)).state == "done"
    for i, twin in enumerate(("HG002 ", "HG002\u200b", "H\uff27002")):
        path = _vcf(tmp_path, f"b{i}.vcf", ["1\t200\t.\tC\tT\t50\tPASS\t.\tGT:DP\t0/1:10\t1/1:9"],
                    f"HG003\t{twin}")  # fmt: skip
        job = await import_file(container, path, project=project)
        assert (job.state, job.error_code) == ("failed", "VCF_MALFORMED")
        assert job.error_message == (
            f"{path}, line 6: sample (column 11) {twin!a} and the project's subject 'HG002' look "
            "the same (they differ only by spaces, invisible characters or the Unicode form of a "
            "letter): write it as the other is written if it is that person, otherwise so that "
            "it reads differently")
    subjects = await container.projects.subjects(SYSTEM, project.id)
    assert [s.identifier for s in subjects.items] == ["HG002"]  # HG003 not kept either
    same = _vcf(tmp_path, "c.vcf", ["1\t300\t.\tC\tT\t50\tPASS\t.\tGT:DP\t0/1:10"], "HG002")
    assert (await import_file(container, same, project=project)).state == "done"
    # A PED naming the project's HG002 with a zero-width space as a father made a second,
    # sample-less father; within one import, a PED's M2 + U+200B beside the VCF's M2 so too.
    child = _vcf(tmp_path, "q.vcf", ["1\t400\t.\tC\tT\t50\tPASS\t.\tGT:DP\t0/1:10"], "Q1")
    ped = tmp_path / "q.ped"
    ped.write_text("F9\tQ1\tHG002\u200b\t0\t1\t2\n")
    job = await import_file(container, child, ped=ped, project=project)
    assert (job.state, job.error_code) == ("failed", "PED_MALFORMED")
    assert job.error_message.startswith(
        f"{ped}, line 1: PED father (line 1) 'HG002\\u200b' and the project's subject 'HG002' "
        "look the same")
    trio = _vcf(tmp_path, "m.vcf", ["1\t500\t.\tC\tT\t50\tPASS\t.\tGT:DP\t0/1:10\t0/0:9"],
                "M1\tM2")  # fmt: skip
    ped.write_text("F1\tM1\tM2\u200b\t0\t1\t2\nF1\tM2\u200b\t0\t0\t1\t1\n")
    job = await import_file(container, trio, ped=ped, project=await new_project(container))
    assert (job.state, job.error_code) == ("failed", "PED_MALFORMED")
    assert "PED father (line 1) 'M2\\u200b' and sample (column 11) 'M2' look the same" in (
        job.error_message)
    subjects = await container.projects.subjects(SYSTEM, project.id)
    assert sorted(s.identifier for s in subjects.items) == ["HG002"]


async def test_an_error_on_a_connection_the_server_ended_is_told_as_the_lost_connection(
    container, database_url
):
    # A COPY cut by pg_terminate_backend sometimes failed as asyncpg's "cannot switch to state
    # 21; another operation (2) is in progress", which named no connection: the import said
    # "an unexpected error" instead of "the connection to the database was lost".
    import psycopg
    from sqlalchemy.engine import make_url

    from regovar.repositories.uow import DatabaseConnectionLost, connection_lost

    url = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    with pytest.raises(DatabaseConnectionLost) as raised:
        async with container.projects.uow() as uow:
            driver = await uow.variant_store._driver()
            pid = await driver.fetchval("SELECT pg_backend_pid()")
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            for _ in range(50):
                if driver.is_closed():
                    break
                await asyncio.sleep(0.05)
            raise RuntimeError("cannot switch to state 21; another operation (2) is in progress")
    assert connection_lost(raised.value)
    assert isinstance(raised.value.__cause__, RuntimeError)
    with pytest.raises(ValueError):  # an error on a live connection stays what it is
        async with container.projects.uow() as uow:
            await uow.variant_store._driver()
            raise ValueError("a bug")


async def test_the_cli_finds_a_sample_whose_name_holds_a_colon(container, tmp_path, database_url):
    # '-s RUN1:S1' looked for a sample 'RUN1' with the condition 'S1'; a NOT_FOUND for 'T 1'
    # did not say that 'T 1 ' exists.
    import subprocess
    import sys

    project = await new_project(container)
    path = _vcf(tmp_path, "colon.vcf", ["1\t100\t.\tC\tT\t50\tPASS\t.\tGT:DP\t0/1:10\t1/1:7"],
                "RUN1:S1\tT 1 ")  # fmt: skip
    assert (await import_file(container, path, project=project)).state == "done"
    env = {**os.environ, "REGOVAR_DATABASE_URL": database_url,
           "REGOVAR_DATA_DIR": str(tmp_path / "data")}  # fmt: skip

    def variants(*samples: str) -> subprocess.CompletedProcess[str]:
        args = [a for s in samples for a in ("-s", s)]
        return subprocess.run(
            [sys.executable, "-c", "from regovar.cli import main; main()", "variants", "-p",
             project.name, *args, "--format", "tsv"], capture_output=True, text=True,
            timeout=60, env=env,
        )  # fmt: skip

    for spec, total in (("RUN1:S1", 1), ("RUN1:S1:het", 1), ("RUN1:S1:het:dp>=11", 0)):
        shown = variants(spec)
        assert shown.returncode == 0, shown.stderr
        assert len(shown.stdout.splitlines()) == 1 + total, (spec, shown.stdout)
    assert "RUN1:S1.gt" in variants("RUN1:S1").stdout.splitlines()[0]
    missing = variants("T 1")
    assert missing.returncode != 0
    assert "no sample 'T 1' in project" in missing.stderr
    assert "one that reads the same: 'T 1 '" in missing.stderr

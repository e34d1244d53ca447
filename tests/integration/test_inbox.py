"""The drop folder: runs taken only when complete, imported once, failures kept and reported,
and the data-ready email received by a real SMTP server with the counts of the import."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from regovar.bootstrap import Container, build
from regovar.domain.principal import SYSTEM
from regovar.domain.projects import CreateProject
from regovar.domain.users import CreateUser
from tests.conftest import settings_for
from tests.helpers import DEMO_PED, DEMO_VCF, PASSWORD, trio_copies
from tests.smtp import MailCatcher, text_of

NOTIFY = "sequencing-desk@lab.example"
SUBSCRIBED = "geneticist@lab.example"


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "runs"
    folder.mkdir()
    return folder


def _build(url: str, inbox: Path, smtp: MailCatcher | None, settle: int = 0, **more: str
           ) -> Container:  # fmt: skip
    values = {"inboxes": f"{inbox}=exomes", "inbox_settle_seconds": str(settle),
              "notify_emails": NOTIFY, "public_url": "http://regovar.lab.example:8000", **more}
    if smtp is not None:
        values |= {"smtp_host": "127.0.0.1", "smtp_port": str(smtp.port)}
    return build(settings_for(url, inbox.parent / "incoming", **values), url=url)


async def _setup(c: Container) -> int:
    project = await c.projects.create(SYSTEM, CreateProject("exomes"))
    for login, email, notify in (("gen", SUBSCRIBED, True), ("other", "other@lab.example", False)):
        await c.users.create(SYSTEM, CreateUser(login, PASSWORD, email))
        await c.members.set(SYSTEM, project.id, login, "viewer")
        if notify:
            await c.members.subscribe(SYSTEM, project.id, True, login)
    return project.id


def _drop(
    inbox: Path, name: str, *, marker: str | None = "CopyComplete.txt",
    manifest: dict | None = None, vcf: Path = DEMO_VCF, ped: bool = True,
) -> Path:  # fmt: skip
    run = inbox / name
    run.mkdir()
    shutil.copy(vcf, run / vcf.name)
    if ped:
        shutil.copy(DEMO_PED, run / DEMO_PED.name)
    if manifest is not None:
        (run / "regovar-run.json").write_text(json.dumps(manifest))
    if marker:
        (run / marker).write_text("")
    return run


async def _scan(c: Container):
    job = await c.batches.request(SYSTEM, "inbox", queue=False)
    return await c.batches.run(SYSTEM, job.id)


async def _count(c: Container, sql: str, **params) -> int:
    async with c.engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


async def test_a_complete_run_is_imported_once_and_announced(fresh_url, inbox, smtp):
    c = _build(fresh_url, inbox, smtp)
    project_id = await _setup(c)
    run_folder = _drop(inbox, "RUN_2026_12_04_A")
    job = await _scan(c)
    assert job.state == "done", job.report
    assert job.counts["imported"] == 1 and job.counts["mail_sent"] == 1

    runs = (await c.inbox.page(SYSTEM)).items
    assert [(r.run_id, r.state, r.project_id) for r in runs] == [
        ("RUN_2026_12_04_A", "done", project_id)]  # fmt: skip
    imported = await c.imports.get(SYSTEM, runs[0].import_ids[0])
    assert imported.state == "done" and imported.samples == 3
    assert {f["name"] for f in runs[0].files} == {DEMO_VCF.name, DEMO_PED.name}
    samples = await c.variants.samples(SYSTEM, project_id=project_id)
    assert sorted(s.name for s in samples.items) == ["HG002", "HG003", "HG004"]

    assert len(smtp.received) == 1
    to, message = smtp.received[0]
    assert sorted(to) == [SUBSCRIBED, NOTIFY]  # not the member who did not subscribe
    assert message["Subject"] == "[Regovar] run RUN_2026_12_04_A ready: 3 samples in exomes"
    body = text_of(message)
    assert "HG002, HG003, HG004" in body
    assert f"{imported.records:,}, {imported.variants:,}" in body
    assert "http://regovar.lab.example:8000/graphql" in body
    assert "regovar samples list --project exomes" in body

    # Nothing more on the next looks: no second import, no second email.
    for _ in range(2):
        again = await _scan(c)
        assert again.counts["imported"] == 0 and again.state == "done"
    assert await _count(c, "SELECT count(*) FROM imports") == 1
    assert len(smtp.received) == 1
    assert run_folder.is_dir() and (run_folder / DEMO_VCF.name).is_file()  # left as it was
    await c.aclose()


async def test_a_half_copied_run_is_not_touched(fresh_url, inbox, smtp):
    c = _build(fresh_url, inbox, smtp, settle=60)
    await _setup(c)
    _drop(inbox, "no-marker-yet", marker=None)
    copying = _drop(inbox, "still-copying")
    first = await _scan(c)
    assert (first.counts["waiting_marker"], first.counts["settling"]) == (1, 1)
    # The file grows: the settling starts again.
    with (copying / DEMO_VCF.name).open("ab") as fh:
        fh.write(b"")
    os.utime(copying / DEMO_VCF.name, ns=(1, 1))
    assert (await _scan(c)).counts["settling"] == 1
    # Still for long enough (the clock moved on): taken.
    async with c.engine.begin() as conn:
        await conn.execute(text("UPDATE inbox_runs SET seen_at = now() - interval '61 seconds'"))
    taken = await _scan(c)
    assert taken.counts["imported"] == 1 and taken.counts["waiting_marker"] == 1
    assert await _count(c, "SELECT count(*) FROM inbox_runs WHERE folder = 'no-marker-yet'") == 0
    assert await _count(c, "SELECT count(*) FROM imports") == 1
    await c.aclose()


async def test_the_same_run_dropped_twice_is_imported_once(fresh_url, inbox, smtp):
    c = _build(fresh_url, inbox, smtp)
    await _setup(c)
    manifest = {"run_id": "RUN42", "project": "exomes", "vcfs": [DEMO_VCF.name],
                "ped": DEMO_PED.name, "assembly": "GRCh37"}  # fmt: skip
    _drop(inbox, "RUN42", manifest=manifest, marker=None)
    _drop(inbox, "RUN42-copy", manifest=manifest, marker=None)
    job = await _scan(c)
    assert (job.counts["imported"], job.counts["duplicates"]) == (1, 1)
    runs = {r.folder: r for r in (await c.inbox.page(SYSTEM)).items}
    assert runs["RUN42"].state == "done"
    assert runs["RUN42-copy"].state == "duplicate"
    assert f"run {runs['RUN42'].id}" in (runs["RUN42-copy"].error_message or "")
    assert await _count(c, "SELECT count(*) FROM imports") == 1
    assert len(smtp.received) == 1
    await c.aclose()


async def test_a_failed_run_is_kept_reported_and_retried_once_fixed(fresh_url, inbox, smtp):
    c = _build(fresh_url, inbox, smtp)
    await _setup(c)
    broken = inbox.parent / "broken.vcf"
    with gzip.open(DEMO_VCF, "rt") as fh:
        lines = fh.read().splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#")]
    records = [line for line in lines if not line.startswith("#")]
    bad_line = len(header) + 3
    records[2] = records[2].replace("\t", " ", 3)  # line bad_line: too few columns
    broken.write_text("".join(header + records))
    run = _drop(inbox, "RUN_BAD", vcf=broken)
    job = await _scan(c)
    assert job.state == "failed" and job.counts["failed"] == 1
    row = (await c.inbox.page(SYSTEM)).items[0]
    assert row.state == "failed" and row.error_code == "VCF_MALFORMED"
    assert "broken.vcf" in row.error_message and f"line {bad_line}" in row.error_message
    assert (run / "broken.vcf").is_file()  # left in place
    assert await _count(c, "SELECT count(*) FROM samples") == 0  # nothing half written
    to, message = smtp.received[0]
    assert sorted(to) == [SUBSCRIBED, NOTIFY]
    assert message["Subject"] == "[Regovar] run RUN_BAD failed in exomes"
    assert f"line {bad_line}" in text_of(message)
    checks = {k.name: k for k in (await c.monitoring.status(SYSTEM)).checks}
    assert checks["refused files (24 h)"].value >= 1  # the lab's to fix: not an alert
    assert checks["refused files (24 h)"].state == "ok"

    # Not retried while unchanged; fixed (a new copy of the file): imported.
    assert (await _scan(c)).counts["failed"] == 0
    (run / "broken.vcf").write_bytes(gzip.decompress(DEMO_VCF.read_bytes()))
    fixed = await _scan(c)
    assert fixed.state == "done" and fixed.counts["imported"] == 1
    assert [r.state for r in (await c.inbox.page(SYSTEM)).items] == ["done", "failed"]
    assert len(smtp.received) == 2
    await c.aclose()


@pytest.mark.parametrize(
    "manifest,problem",
    [
        ({"runid": "x"}, "unknown key 'runid'"),
        ({"vcfs": ["../elsewhere.vcf"]}, "outside the run folder"),
        ({"vcfs": ["missing.vcf.gz"]}, "which is not a regular file of the run"),
        ({"vcfs": []}, "vcfs must be a non-empty list"),
        ({"project": "nope"}, "names project 'nope', but this drop folder is for project"),
        ({"run_id": 42}, "run_id must be text"),
    ],
)
async def test_manifest_problems_are_reasons(fresh_url, inbox, manifest, problem):
    c = _build(fresh_url, inbox, None)
    await _setup(c)
    _drop(inbox, "RUN_M", manifest=manifest, marker=None)
    job = await _scan(c)
    row = (await c.inbox.page(SYSTEM)).items[0]
    assert row.state == "failed" and row.error_code == "RUN_REJECTED"
    assert problem in row.error_message, row.error_message
    assert problem in job.report
    assert await _count(c, "SELECT count(*) FROM imports") == 0
    await c.aclose()


async def test_a_broken_manifest_names_its_line(fresh_url, inbox):
    c = _build(fresh_url, inbox, None)
    await _setup(c)
    run = _drop(inbox, "RUN_J", marker=None)
    (run / "regovar-run.json").write_text('{\n  "run_id": "RUN_J",\n  "vcfs": [\n}\n')
    await _scan(c)
    row = (await c.inbox.page(SYSTEM)).items[0]
    assert row.state == "failed" and "regovar-run.json, line 4" in row.error_message
    await c.aclose()


async def test_no_project_and_several_peds_are_reasons(fresh_url, inbox, tmp_path):
    other = tmp_path / "unmapped"
    other.mkdir()
    c = build(settings_for(fresh_url, tmp_path / "incoming", inboxes=str(other),
                           inbox_settle_seconds="0"), url=fresh_url)  # fmt: skip
    _drop(other, "RUN_P")
    run = _drop(other, "RUN_Q")
    shutil.copy(DEMO_PED, run / "second.ped")
    await _scan(c)
    rows = {r.folder: r for r in (await c.inbox.page(SYSTEM)).items}
    assert "no project for the run" in rows["RUN_P"].error_message
    assert "several PED files (ashk-trio.ped, second.ped)" in rows["RUN_Q"].error_message
    await c.aclose()


async def test_two_workers_at_once_import_the_run_once(fresh_url, inbox, smtp):
    one, two = _build(fresh_url, inbox, smtp), _build(fresh_url, inbox, smtp)
    await _setup(one)
    _drop(inbox, "RUN_RACE")
    first, second = await asyncio.gather(one.inbox.scan(SYSTEM), two.inbox.scan(SYSTEM))
    assert first.imported + second.imported == 1
    assert await _count(one, "SELECT count(*) FROM imports") == 1
    await one.batches.request(SYSTEM, "mail", queue=False)
    await one.mail.deliver(SYSTEM)
    assert len(smtp.received) == 1
    await one.aclose()
    await two.aclose()


async def test_a_crash_in_the_middle_then_a_clean_retry(fresh_url, inbox, smtp, tmp_path):
    c = _build(fresh_url, inbox, smtp)
    await _setup(c)
    big = trio_copies(20, tmp_path / "big-trio.vcf")  # an import of a few seconds
    _drop(inbox, "RUN_CRASH", vcf=big)
    env = {**os.environ, "REGOVAR_DATABASE_URL": fresh_url,
           "REGOVAR_DATA_DIR": str(tmp_path / "data"), "REGOVAR_INBOXES": f"{inbox}=exomes",
           "REGOVAR_INBOX_SETTLE_SECONDS": "0", "REGOVAR_NOTIFY_EMAILS": NOTIFY,
           "REGOVAR_SMTP_HOST": "127.0.0.1", "REGOVAR_SMTP_PORT": str(smtp.port)}  # fmt: skip
    scan = subprocess.Popen(
        [sys.executable, "-c", "from regovar.cli import main; main()", "inbox", "scan"],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(1200):
            if await _count(c, "SELECT count(*) FROM imports WHERE state = 'running' "
                               "AND progress >= 0.2") == 1:  # fmt: skip
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the import never got going")
    finally:
        os.killpg(scan.pid, signal.SIGKILL)
        scan.wait()
    await asyncio.sleep(0.5)
    row = (await c.inbox.page(SYSTEM)).items[0]
    assert row.state == "importing"
    assert await _count(c, "SELECT count(*) FROM samples") == 0
    assert smtp.received == []

    retry = await _scan(c)
    assert retry.state == "done" and retry.counts["imported"] == 1, retry.report
    row = (await c.inbox.page(SYSTEM)).items[0]
    assert row.state == "done" and row.attempts == 2 and len(row.import_ids) == 1
    assert await _count(c, "SELECT count(*) FROM imports") == 1
    assert await _count(c, "SELECT count(*) FROM samples") == 3
    assert len(smtp.received) == 1
    await c.aclose()


async def test_one_odd_run_never_stops_the_others(fresh_url, inbox, tmp_path, smtp):
    c = _build(fresh_url, inbox, smtp)
    await _setup(c)
    outside = tmp_path / "outside.vcf"
    outside.write_bytes(gzip.decompress(DEMO_VCF.read_bytes()))
    odd = {}
    for name, make in (
        ("a-link-out", lambda r: (r / "x.vcf").symlink_to(outside)),
        ("b-dangling", lambda r: (r / "x.vcf").symlink_to(r / "missing.vcf")),
        ("c-fifo", lambda r: os.mkfifo(r / "x.vcf")),
    ):
        run = inbox / name
        run.mkdir()
        make(run)
        (run / "CopyComplete.txt").write_text("")
        odd[name] = run
    _drop(inbox, "d-good")
    job = await asyncio.wait_for(_scan(c), 120)
    assert job.counts["imported"] == 1 and job.counts["failed"] == 3, job.report
    rows = {r.folder: r for r in (await c.inbox.page(SYSTEM)).items}
    assert rows["d-good"].state == "done"
    assert "outside the run folder" in rows["a-link-out"].error_message
    assert "not a regular file" in rows["b-dangling"].error_message
    assert "not a regular file" in rows["c-fifo"].error_message
    # Reported once: the next scans say nothing more of them.
    assert (await _scan(c)).counts["failed"] == 0
    await c.aclose()


async def test_a_run_failed_for_a_missing_project_is_taken_once_it_exists(fresh_url, inbox, smtp):
    c = _build(fresh_url, inbox, smtp)
    run = _drop(inbox, "RUN_EARLY")  # the project "exomes" does not exist yet
    await _scan(c)
    first = (await c.inbox.page(SYSTEM)).items[0]
    assert first.state == "failed" and "project 'exomes' does not exist" in first.error_message
    await _setup(c)
    os.utime(run / DEMO_VCF.name)  # the same files, touched: a new look, the same key
    job = await _scan(c)
    assert job.counts["imported"] == 1, job.report
    assert [r.state for r in (await c.inbox.page(SYSTEM)).items] == ["done", "failed"]
    await c.aclose()


async def test_a_done_run_that_changes_is_reported_not_imported_again(fresh_url, inbox, smtp):
    c = _build(fresh_url, inbox, smtp)
    await _setup(c)
    run = _drop(inbox, "RUN_DONE")
    await _scan(c)
    with (run / DEMO_PED.name).open("a") as fh:
        fh.write("\n")
    again = await _scan(c)
    assert "not imported again" in again.report
    assert await _count(c, "SELECT count(*) FROM imports") == 1
    assert "not imported again" not in (await _scan(c)).report  # said once
    await c.aclose()


async def test_names_that_are_not_utf8_are_reasons_not_crashes(fresh_url, inbox, smtp):
    c = _build(fresh_url, inbox, smtp)
    await _setup(c)
    raw = os.fsencode(inbox)
    bad_folder = Path(os.fsdecode(raw + b"/bytes\xff"))
    bad_folder.mkdir()
    shutil.copy(DEMO_VCF, bad_folder)
    (bad_folder / "CopyComplete.txt").write_text("")
    bad_file = _drop(inbox, "file-bytes")
    shutil.copy(DEMO_VCF, Path(os.fsdecode(os.fsencode(bad_file) + b"/x\xff.vcf.gz")))
    _drop(inbox, "good")
    job = await _scan(c)
    assert job.state == "failed" and job.error_code == "BATCH_INCOMPLETE", job.report
    assert job.counts["imported"] == 1 and job.counts["failed"] == 2
    rows = {r.folder: r for r in (await c.inbox.page(SYSTEM)).items}
    assert rows["good"].state == "done"
    assert "name is not printable UTF-8 text" in rows["bytes\ufffd"].error_message
    assert "not UTF-8 text" in rows["file-bytes"].error_message
    assert (await _scan(c)).state == "done"  # reported once
    await c.aclose()


async def test_a_missing_drop_folder_is_said_and_alerted(fresh_url, tmp_path):
    gone = tmp_path / "not-mounted"
    c = build(settings_for(fresh_url, tmp_path / "incoming", inboxes=f"{gone}=exomes"),
              url=fresh_url)  # fmt: skip
    job = await _scan(c)
    assert job.state == "failed" and job.error_code == "BATCH_INCOMPLETE"
    assert job.error_message.startswith("1 drop folder(s) missing")
    assert f"drop folder {gone} is missing" in job.report
    checks = {k.name: k for k in (await c.monitoring.status(SYSTEM)).checks}
    assert checks[f"drop folder {gone}"].state == "critical"
    assert checks[f"drop folder {gone}"].detail == "missing"
    await c.aclose()


def test_listing_runs_without_a_drop_folder_says_how_to_set_one(fresh_url, tmp_path):
    # An empty table and nothing else: no hint that no drop folder was configured.
    env = {k: v for k, v in os.environ.items() if k != "REGOVAR_INBOXES"}
    env |= {"REGOVAR_DATABASE_URL": fresh_url, "REGOVAR_DATA_DIR": str(tmp_path / "data")}
    listed = subprocess.run(
        [sys.executable, "-c", "from regovar.cli import main; main()", "inbox", "list"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert "no drop folder is configured: set REGOVAR_INBOXES" in listed.stderr

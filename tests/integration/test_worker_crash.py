"""A worker killed in the middle of an import leaves no partial data; the retry completes it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from regovar.bootstrap import build
from regovar.domain.imports import StartImport
from regovar.domain.principal import SYSTEM
from tests.helpers import new_project, trio_copies

HEARTBEAT_TTL = "3"
# Records enough for an import of a few seconds: the test must catch it in the middle.
COPIES = 20


def _worker(database_url: str, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "REGOVAR_DATABASE_URL": database_url,
        "REGOVAR_DATA_DIR": str(data_dir),
        "REGOVAR_WORKER_HEARTBEAT_TTL": HEARTBEAT_TTL,
    }
    env.pop("REGOVAR_BROKER_URL", None)
    return subprocess.Popen(
        [sys.executable, "-c", "from regovar.cli import main; main()", "worker", "--threads", "1"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _scalar(container, sql: str, **params):
    async with container.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar_one()


async def _wait(container, import_id: int, done, seconds: float):
    job = None
    for _ in range(int(seconds * 10)):
        job = await container.imports.get(SYSTEM, import_id)
        if done(job):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"import {import_id}: still {job.state if job else '?'} ({job})")


async def test_killed_worker_then_retry(container, import_dir, tmp_path):
    vcf = trio_copies(COPIES, import_dir / "crash-trio.vcf")
    project = await new_project(container, "crash")
    sender = build(
        dataclasses.replace(container.settings, broker_url=None), url=container.database_url
    )
    variants_before = await _scalar(container, "SELECT count(*) FROM variants")
    first = _worker(container.database_url, tmp_path)
    try:
        started = await sender.imports.start(SYSTEM, StartImport(project.id, str(vcf)))
        job_id = started.job.id
        await _wait(container, job_id, lambda j: j.state == "running" and j.progress >= 0.2, 120)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    await asyncio.sleep(0.5)
    job = await container.imports.get(SYSTEM, job_id)
    assert job.state == "running" and job.attempts == 1
    assert (
        await _scalar(container, "SELECT count(*) FROM samples WHERE import_id = :i", i=job_id) == 0
    )
    assert await _scalar(container, "SELECT to_regclass(:t) IS NULL", t=f"calls_i{job_id}")
    assert await _scalar(container, "SELECT count(*) FROM variants") == variants_before

    second = _worker(container.database_url, tmp_path)
    try:
        job = await _wait(container, job_id, lambda j: j.state in ("done", "failed"), 240)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)
        await sender.aclose()
        sender.close_broker()
    assert job.state == "done", job.error_message
    assert job.attempts == 2
    assert job.records == COPIES * 9940
    assert (
        await _scalar(container, "SELECT count(*) FROM samples WHERE import_id = :i", i=job_id) == 3
    )


def _alive_in_group(pgid: int) -> list[int]:
    """Processes of the group still running (zombies, dead but not yet reaped, do not count)."""
    alive = []
    for entry in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        state, _, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            alive.append(int(entry))
    return alive


async def _group_gone(pgid: int, seconds: float = 3.0) -> bool:
    """Whether every process of the worker's group (its parsers, their fork server) ended."""
    for _ in range(int(seconds * 10)):
        if not _alive_in_group(pgid):
            return True
        await asyncio.sleep(0.1)
    return False


@contextlib.asynccontextmanager
async def _queued_import(container, vcf: Path, name: str, tmp_path: Path):
    """A worker process, and an import of ``vcf`` queued for it: (worker, import id)."""
    project = await new_project(container, name)
    sender = build(
        dataclasses.replace(container.settings, broker_url=None), url=container.database_url
    )
    worker = _worker(container.database_url, tmp_path)
    try:
        started = await sender.imports.start(SYSTEM, StartImport(project.id, str(vcf)))
        yield worker, started.job.id
    finally:
        with contextlib.suppress(ProcessLookupError):  # the group, even if the worker is gone
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        await sender.aclose()
        sender.close_broker()


async def test_ctrl_c_stops_a_worker_that_has_run_imports(container, import_dir, tmp_path):
    # A worker that had parsed a file in parallel once ignored SIGINT (Ctrl-C) for good.
    vcf = trio_copies(2, import_dir / "ctrl-c-trio.vcf")
    async with _queued_import(container, vcf, "ctrl-c", tmp_path) as (worker, job_id):
        job = await _wait(container, job_id, lambda j: j.state in ("done", "failed"), 120)
        assert job.state == "done", job.error_message
        os.kill(worker.pid, signal.SIGINT)
        assert worker.wait(timeout=20) == 0


async def test_a_second_ctrl_c_stops_the_worker_in_the_middle_of_an_import(
    container, import_dir, tmp_path
):
    vcf = trio_copies(COPIES, import_dir / "ctrl-c-twice-trio.vcf")
    async with _queued_import(container, vcf, "ctrl-c-twice", tmp_path) as (worker, job_id):
        await _wait(container, job_id, lambda j: j.state == "running" and j.progress >= 0.1, 120)
        os.kill(worker.pid, signal.SIGINT)
        await asyncio.sleep(0.3)
        os.kill(worker.pid, signal.SIGINT)
        assert worker.wait(timeout=10) == 1
        assert await _group_gone(worker.pid), "parser processes outlived the worker"
        job = await container.imports.get(SYSTEM, job_id)
        if job.state == "running":  # stopped before the end: nothing of it was written
            assert await _scalar(container, "SELECT to_regclass(:t) IS NULL", t=f"calls_i{job_id}")
            assert await _scalar(
                container, "SELECT count(*) FROM samples WHERE import_id = :i", i=job_id
            ) == 0


async def test_parser_processes_end_with_a_killed_worker(container, import_dir, tmp_path):
    # Killed alone (the OOM killer, kill -9), a worker once left its parser processes blocked
    # forever on a full pipe, holding their memory: they are children of the fork server.
    vcf = trio_copies(COPIES, import_dir / "kill-worker-trio.vcf")
    async with _queued_import(container, vcf, "kill-worker", tmp_path) as (worker, job_id):
        await _wait(container, job_id, lambda j: j.state == "running" and j.progress >= 0.1, 120)
        assert len(_alive_in_group(worker.pid)) > 2  # the worker, its fork server, its parsers
        os.kill(worker.pid, signal.SIGKILL)  # the worker alone, not its process group
        worker.wait()
        assert await _group_gone(worker.pid, seconds=10), _alive_in_group(worker.pid)


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
async def test_ctrl_c_or_kill_on_an_import_in_place_says_so_and_keeps_nothing(
    container, import_dir, tmp_path, sig, status
):
    vcf = trio_copies(COPIES, import_dir / f"ctrl-c-cli-trio-{status}.vcf")
    project = await new_project(container, f"ctrl-c-cli-{status}")
    env = {**os.environ, "REGOVAR_DATABASE_URL": container.database_url,
           "REGOVAR_DATA_DIR": str(tmp_path)}  # fmt: skip
    env.pop("REGOVAR_BROKER_URL", None)
    cli = subprocess.Popen(
        [sys.executable, "-c", "from regovar.cli import main; main()", "import", str(vcf),
         "--project", project.name],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        job_id = None
        for _ in range(600):
            job_id = await _scalar(container, "SELECT max(id) FROM imports WHERE project_id = :p",
                                   p=project.id)  # fmt: skip
            if job_id is not None:
                break
            await asyncio.sleep(0.1)
        assert job_id is not None
        await _wait(container, job_id, lambda j: j.state == "running" and j.progress >= 0.1, 120)
        os.kill(cli.pid, sig)
        _, err = cli.communicate(timeout=30)
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)
    assert cli.returncode == status
    assert "INTERRUPTED: stopped; work not committed was dropped" in err.decode()
    assert await _group_gone(cli.pid), "parser processes outlived the import"
    assert await _scalar(container, "SELECT to_regclass(:t) IS NULL", t=f"calls_i{job_id}")

"""Server health checks against thresholds: real database, real queue table, real disks."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import text

from regovar.bootstrap import build
from regovar.domain.errors import PermissionDenied
from regovar.domain.principal import SYSTEM, Principal
from tests.conftest import settings_for
from tests.helpers import import_file, new_user

REGOVAR = [sys.executable, "-c", "from regovar.cli import main; main()"]


def _by_name(status) -> dict:
    return {c.name: c for c in status.checks}


async def test_a_healthy_server_and_who_may_ask(container):
    status = await container.monitoring.status(SYSTEM)
    checks = _by_name(status)
    assert {"database", "database size", "failed jobs (24 h)", "queue waiting",
            "queue oldest message", "workers alive", "memory free", "cpu load",
            "disk free: data folder"} <= set(checks)  # fmt: skip
    assert checks["database"].state == "ok" and checks["database"].value < 1000
    assert checks["database size"].value > 0
    assert 0 < checks["memory free"].value <= 100
    user = await new_user(container, "nosy")
    with pytest.raises(PermissionDenied):
        await container.monitoring.status(Principal(user.id, user.login))


async def test_thresholds_crossed_make_checks_critical(database_url, import_dir, container):
    # a failed import in the last 24 hours
    bad = import_dir / f"broken-{uuid.uuid4().hex[:6]}.vcf"
    bad.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n"
                   "1\tnot-a-position\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n")  # fmt: skip
    job = await import_file(container, bad)
    assert job.state == "failed"
    # a message waiting for two hours, and no worker alive (a worker an earlier test killed
    # leaves a heartbeat that is still fresh: no worker runs now, so it is aged)
    message_id = uuid.uuid4()
    async with container.engine.begin() as conn:
        await conn.execute(text(
            "UPDATE dramatiq.worker SET heartbeat_at = now() - interval '1 day'"
        ))  # fmt: skip
        await conn.execute(text(
            "INSERT INTO dramatiq.queue (message_id, queue_name, state, mtime, message) "
            "VALUES (:id, 'regovar-monitor-test', 'queued', now() - interval '2 hours', '{}')"
        ), {"id": message_id})  # fmt: skip
    strict = build(
        settings_for(database_url, import_dir, monitor_disk_min_free_percent="100",
                     monitor_failed_jobs_max="0"),
        url=database_url,
    )  # fmt: skip
    try:
        status = await strict.monitoring.status(SYSTEM)
    finally:
        await strict.aclose()
        async with container.engine.begin() as conn:
            await conn.execute(text("DELETE FROM dramatiq.queue WHERE message_id = :id"),
                               {"id": message_id})  # fmt: skip
    checks = _by_name(status)
    assert status.state == "critical"
    assert checks["disk free: data folder"].state == "critical"
    # A file refused for its content is the lab's to fix: listed, never critical.
    assert checks["refused files (24 h)"].state == "ok"
    assert checks["refused files (24 h)"].value >= 1
    assert f"import {job.id} VCF_MALFORMED" in checks["refused files (24 h)"].detail
    assert f"import {job.id} " not in checks["failed jobs (24 h)"].detail
    assert checks["queue oldest message"].state == "critical"
    assert checks["queue oldest message"].value >= 119
    assert checks["workers alive"].state == "critical"
    assert checks["queue waiting"].value >= 1
    # The same import failing on the server's side (a crash) is an administrator's matter.
    async with container.engine.begin() as conn:
        await conn.execute(text("UPDATE imports SET error_code = 'INTERNAL' WHERE id = :id"),
                           {"id": job.id})  # fmt: skip
    strict = build(settings_for(database_url, import_dir, monitor_failed_jobs_max="0"),
                   url=database_url)  # fmt: skip
    try:
        crashed = _by_name(await strict.monitoring.status(SYSTEM))
    finally:
        await strict.aclose()
        async with container.engine.begin() as conn:  # other tests share the database
            await conn.execute(text("UPDATE imports SET error_code = 'VCF_MALFORMED' "
                                    "WHERE id = :id"), {"id": job.id})  # fmt: skip
    assert crashed["failed jobs (24 h)"].state == "critical"
    assert f"import {job.id} INTERNAL" in crashed["failed jobs (24 h)"].detail
    assert f"import {job.id} " not in crashed["refused files (24 h)"].detail
    after = _by_name(await container.monitoring.status(SYSTEM))
    assert after["disk free: data folder"].state == "ok"  # the default threshold: 10 %


def test_the_cli_says_critical_with_its_exit_status(database_url, tmp_path):
    env = {**os.environ, "REGOVAR_DATABASE_URL": database_url, "REGOVAR_DATA_DIR": str(tmp_path)}
    fine = subprocess.run([*REGOVAR, "status", "--format", "json"], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert fine.returncode in (0, 2) and '"checks"' in fine.stdout
    env["REGOVAR_MONITOR_DISK_MIN_FREE_PERCENT"] = "100"
    full = subprocess.run([*REGOVAR, "status"], env=env, capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert full.returncode == 2 and "server: critical" in full.stdout


def test_status_does_not_start_a_stopped_private_postgresql(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REGOVAR_DATABASE_URL"}
    env["REGOVAR_DATA_DIR"] = str(tmp_path)
    down = subprocess.run([*REGOVAR, "status"], env=env, capture_output=True, text=True,
                          check=False, timeout=60)  # fmt: skip
    assert down.returncode == 2, down
    assert f"the private PostgreSQL in {tmp_path} is not running" in down.stdout
    assert down.stdout.splitlines()[-1] == "server: critical"
    assert not (tmp_path / "postgres").exists()  # nothing was created, nothing started

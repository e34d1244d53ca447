"""Imports queued through each supported broker and run by a real dramatiq worker.

PostgreSQL (the default) always runs; Redis and RabbitMQ run where their servers answer
(REGOVAR_TEST_REDIS_URL, REGOVAR_TEST_AMQP_URL) and are skipped elsewhere.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import socket
import uuid
from urllib.parse import urlparse

import pytest
from dramatiq import Worker

from regovar.adapters.broker import libpq_url
from regovar.bootstrap import build
from regovar.domain.imports import StartImport
from regovar.domain.principal import SYSTEM
from regovar.domain.projects import CreateProject
from regovar.tasks.actors import register
from tests.helpers import DEMO_PED, DEMO_VCF

REDIS = os.environ.get("REGOVAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
AMQP = os.environ.get("REGOVAR_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 0), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.parametrize(
    "kind",
    [
        "postgresql",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("rabbitmq", marks=pytest.mark.rabbitmq),
    ],
)
async def test_import_runs_through_broker(kind, container, import_dir):
    url = {"postgresql": libpq_url(container.database_url), "redis": REDIS, "rabbitmq": AMQP}[kind]
    if not _reachable(url):
        pytest.skip(f"no {kind} server at {urlparse(url).hostname}:{urlparse(url).port}")
    settings = dataclasses.replace(container.settings, broker_url=url)
    worker_side = build(settings, url=container.database_url)
    sender_side = build(settings, url=container.database_url)
    vcf = import_dir / f"{kind}-{uuid.uuid4().hex[:6]}.vcf.gz"
    shutil.copy(DEMO_VCF, vcf)
    register(worker_side)
    worker = Worker(worker_side.queue.broker, worker_threads=1)
    worker.start()
    try:
        project = await sender_side.projects.create(SYSTEM, CreateProject(f"{kind}-{vcf.stem}"))
        started = await sender_side.imports.start(
            SYSTEM, StartImport(project.id, str(vcf), str(DEMO_PED))
        )
        job = await _wait_done(container, started.job.id)
    finally:
        worker.stop()
        await sender_side.aclose()
        sender_side.close_broker()
        worker_side.close_broker()
    assert job.state == "done", job.error_message
    assert (job.records, job.samples) == (9940, 3)


async def _wait_done(container, import_id: int, seconds: float = 90):
    for _ in range(int(seconds * 4)):
        job = await container.imports.get(SYSTEM, import_id)
        if job.state in ("done", "failed"):
            return job
        await asyncio.sleep(0.25)
    raise AssertionError(f"import {import_id} still {job.state} after {seconds} s")

"""An import left "running" by a process that died reads as interrupted (GraphQL, the CLI)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg
import httpx
from sqlalchemy import text

from regovar.domain.imports import StartImport
from regovar.domain.principal import SYSTEM
from regovar.graphql.app import create_app
from tests.helpers import DEMO_VCF, bearer, new_project, signed_in

QUERY = "query($id: ID!) { import(id: $id) { state interrupted } }"


async def _left_running(container, started_ago_s: int) -> int:
    """An import whose loading process died: the row says running, no lock is held."""
    project = await new_project(container, "lost")
    started = await container.imports.start(
        SYSTEM, StartImport(project.id, str(DEMO_VCF)), queue=False
    )
    async with container.engine.begin() as conn:
        await conn.execute(
            text("UPDATE imports SET state = 'running', attempts = 1, "
                 "started_at = now() - make_interval(secs => :s) WHERE id = :i"),
            {"s": started_ago_s, "i": started.job.id},
        )  # fmt: skip
    return started.job.id


def _cli(container, *args: str) -> str:
    env = {**os.environ, "REGOVAR_DATABASE_URL": container.database_url}
    env.pop("REGOVAR_BROKER_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", "from regovar.cli import main; main()", *args],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return out.stdout


async def test_a_running_import_that_nobody_loads_reads_as_interrupted(container):
    lost = await _left_running(container, started_ago_s=60)
    starting = await _left_running(container, started_ago_s=1)  # takes its lock just after
    assert await container.imports.interrupted(SYSTEM, [lost, starting]) == {
        lost: True,
        starting: False,
    }

    # A process that loads it holds the import's lock: then it is running, not interrupted.
    url = container.database_url.replace("postgresql+asyncpg", "postgresql")
    loader = await asyncpg.connect(url)
    try:
        async with loader.transaction():
            assert await loader.fetchval(
                "SELECT pg_try_advisory_xact_lock(hashtext('regovar.import'), $1)", lost
            )
            assert await container.imports.interrupted(SYSTEM, [lost]) == {lost: False}
    finally:
        await loader.close()

    app = create_app(container)
    _, token = await signed_in(container, "lost", admin=True)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", headers=bearer(token)
    ) as client:
        answer = await client.post("/graphql", json={"query": QUERY, "variables": {"id": lost}})
    assert answer.json()["data"]["import"] == {"state": "running", "interrupted": True}

    shown = _cli(container, "imports", "show", str(lost))
    assert shown.splitlines()[0] == f"import {lost}: interrupted 0%"
    assert "interrupted: no process loads it any more" in shown
    listed = _cli(container, "imports", "list", "--format", "tsv", "--limit", "1000")
    states = {line.split("\t")[0]: line.split("\t")[3] for line in listed.splitlines()[1:]}
    assert states[str(lost)] == "interrupted" and states[str(starting)] == "running"

    # Imported again, it is taken up and completed: nothing of the dead attempt remains.
    project_id = (await container.imports.get(SYSTEM, lost)).project_id
    again = await container.imports.start(
        SYSTEM, StartImport(project_id, str(DEMO_VCF)), queue=False
    )
    assert again.job.id == lost and not again.already_imported
    done = await container.imports.run(SYSTEM, lost)
    assert done.state == "done" and done.attempts == 2
    assert await container.imports.interrupted(SYSTEM, [lost]) == {lost: False}


HOLDER = """
import asyncio, sys
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from regovar.db import make_engine
from regovar.repositories.uow import UnitOfWork

async def main(url):
    async with UnitOfWork(async_sessionmaker(make_engine(url), class_=AsyncSession)) as uow:
        await uow.variant_store.begin(987_656, "GRCh37")
        pid = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        print(pid, flush=True)
        await uow.session.execute(text("SELECT pg_sleep(60)"))  # a long statement of a load

asyncio.run(main(sys.argv[1]))
"""


async def test_a_killed_importer_s_statement_ends_with_it(database_url):
    # The server went on with a killed importer's statement (an index of millions of rows)
    # to its end, holding the import's lock: it is checked for a lost client every second.
    import signal
    import time

    holder = subprocess.Popen([sys.executable, "-c", HOLDER, database_url],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        pid = int(holder.stdout.readline())  # type: ignore[union-attr]
        time.sleep(0.5)  # in pg_sleep
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        for _ in range(100):  # up to 20 s; the statement alone would last 60
            if not await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("the killed importer's statement went on")
    finally:
        await conn.close()

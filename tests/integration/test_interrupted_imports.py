"""An import left "running" by a process that died reads as interrupted (GraphQL, the CLI)."""

from __future__ import annotations

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

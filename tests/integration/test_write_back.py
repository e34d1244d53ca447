"""A large import has the checkpointer write its new tables while it finishes (write-back).

Its commit would otherwise write every page of them itself, one after another, while nothing
else runs. The write-back is an optimisation only: where the role may not checkpoint it is
skipped, and when it fails the import does not.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from regovar.domain import import_pipeline
from regovar.repositories.variant_store import VariantStore
from tests.helpers import DEMO_PED, DEMO_VCF, import_file, new_project


async def _requested_checkpoints(container) -> int:
    async with container.engine.connect() as conn:
        newer = await conn.scalar(text("SELECT to_regclass('pg_catalog.pg_stat_checkpointer')"))
        query = (
            "SELECT num_requested FROM pg_stat_checkpointer"
            if newer
            else "SELECT checkpoints_req FROM pg_stat_bgwriter"
        )
        return int(await conn.scalar(text(query)) or 0)


async def test_an_import_has_the_checkpointer_write_its_tables(container, monkeypatch):
    ran: list[bool] = []
    real = VariantStore.write_back

    async def spy(self):
        ran.append(await real(self))
        return ran[-1]

    monkeypatch.setattr(import_pipeline, "WRITE_BACK_MIN_BYTES", 0)  # the demo trio is small
    monkeypatch.setattr(VariantStore, "write_back", spy)
    before = await _requested_checkpoints(container)
    project = await new_project(container)
    job = await import_file(container, DEMO_VCF, ped=DEMO_PED, project=project)
    assert job.state == "done" and job.records == 9940
    assert ran == [True]  # the test role is a superuser
    assert await _requested_checkpoints(container) > before


async def test_small_imports_leave_their_pages_to_the_commit(container, monkeypatch):
    ran: list[bool] = []

    async def spy(self):
        ran.append(True)
        return True

    monkeypatch.setattr(VariantStore, "write_back", spy)
    job = await import_file(container, DEMO_VCF, project=await new_project(container))
    assert job.state == "done" and ran == []  # about 7 MB of COPY: under the threshold


async def test_a_role_that_may_not_checkpoint_is_not_asked_to(container):
    role = f"no_checkpoint_{uuid.uuid4().hex[:8]}"
    async with container.engine.connect() as conn:
        session = AsyncSession(bind=conn)
        await session.execute(text(f'CREATE ROLE "{role}"'))  # undone with the transaction
        await session.execute(text(f'SET LOCAL ROLE "{role}"'))
        assert await VariantStore(session).write_back() is False  # and no error
        await session.rollback()


async def test_a_failed_write_back_fails_nothing(container, monkeypatch):
    async def broken(self):
        raise RuntimeError("checkpoint refused")

    monkeypatch.setattr(import_pipeline, "WRITE_BACK_MIN_BYTES", 0)
    monkeypatch.setattr(VariantStore, "write_back", broken)
    job = await import_file(container, DEMO_VCF, project=await new_project(container))
    assert job.state == "done" and job.records == 9940 and job.error_code is None

"""Dramatiq actors: ids in, one manager call, idempotent. The job row holds the state."""

from __future__ import annotations

import logging
from typing import Any

import dramatiq

from regovar.bootstrap import Container
from regovar.domain.errors import ImportBusy, JobBusy, RegovarError
from regovar.domain.principal import SYSTEM

log = logging.getLogger("regovar.tasks")
IMPORT_TIME_LIMIT_MS = 12 * 3600 * 1000
BATCH_TIME_LIMIT_MS = 24 * 3600 * 1000
MAX_RETRIES = 5


def _retry_when(retries: int, exc: Exception) -> bool:
    """Domain errors are final (the job row says why); crashes and busy imports are retried."""
    if isinstance(exc, RegovarError) and not isinstance(exc, ImportBusy | JobBusy):
        return False
    return retries < MAX_RETRIES


def register(container: Container) -> dict[str, dramatiq.Actor[Any, Any]]:
    if container.queue is None:
        raise RuntimeError("the container was built without a broker")
    broker = container.queue.broker

    async def run_import(import_id: int) -> None:
        try:
            await container.imports.run(SYSTEM, import_id)
        except ImportBusy:
            raise  # another worker holds it: retried later
        except RegovarError as exc:
            # Final, and recorded on the job row. Only the code is logged: messages name files
            # and samples, which are patient identifiers.
            log.warning("import %d failed: %s (see the import's error message)", import_id,
                        exc.code)  # fmt: skip

    async def run_batch(job_id: int) -> None:
        job = await container.batches.run(SYSTEM, job_id)  # JobBusy: retried later
        if job.state == "failed":
            log.warning("batch job %d (%s) failed: %s", job_id, job.kind, job.error_code)

    def actor(fn: Any, queue: str, time_limit_ms: int) -> dramatiq.Actor[Any, Any]:
        return dramatiq.actor(
            actor_name=fn.__name__,
            queue_name=queue,
            broker=broker,
            retry_when=_retry_when,
            min_backoff=2_000,
            max_backoff=60_000,
            time_limit=time_limit_ms,
        )(fn)

    return {
        "run_import": actor(run_import, "imports", IMPORT_TIME_LIMIT_MS),
        "run_batch": actor(run_batch, "default", BATCH_TIME_LIMIT_MS),
    }

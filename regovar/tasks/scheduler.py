"""The scheduler: fires the batches on their cron schedules, one active scheduler at a time.

It only creates job rows (one per tick, see BatchManager.fire_due) and sends them to the
workers; with ``run_here`` it runs them itself, one after the other (a single-server setup
without a worker). A second scheduler waits on standby and takes over when the first stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from regovar.bootstrap import Container
from regovar.domain.principal import SYSTEM

log = logging.getLogger("regovar.scheduler")


async def run_scheduler(
    container: Container,
    stop: asyncio.Event,
    *,
    every_s: float = 15.0,
    run_here: bool = False,
    on_state: Callable[[str], None] | None = None,
) -> None:
    batches, monitoring = container.batches, container.monitoring
    lock = batches.leader_lock()
    leading = False
    last_problem: str | None = None

    told: str | None = None

    def tell(state: str) -> None:
        nonlocal told
        if state == told:
            return
        told = state
        log.info("scheduler %s", state)
        if on_state:
            on_state(state)

    try:
        while not stop.is_set():
            answered = True  # the database answered this look's queries
            try:
                if not leading:
                    leading = await lock.try_acquire()
                    tell("active" if leading else "standby")
                elif not await lock.still_held():
                    leading, answered = False, False
                    tell("standby")  # the database connection was lost: take it again
                if leading:
                    fired = await batches.fire_due(SYSTEM)
                    if run_here:
                        for job_id in fired:
                            if stop.is_set():
                                break
                            await batches.run(SYSTEM, job_id)
                problem, last_problem = "no answer", None
            except Exception as exc:
                answered, problem = False, f"{type(exc).__name__}: {exc}"
                if problem != last_problem:  # the traceback once, not at every look
                    log.exception("scheduler tick failed; trying again every %.0f s", every_s)
                last_problem = problem
                if leading:
                    await lock.release()
                    leading = False
                    tell("standby")
            # The monitor batch cannot run without the database: its loss (and its return)
            # is told from here.
            if answered or await monitoring.alive():
                await monitoring.database_reachable()
            else:
                await monitoring.database_unreachable(problem)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every_s)
    finally:
        await lock.release()

"""Batches: the scheduled jobs of the server (health watch, mail delivery...).

A batch only calls manager methods that a person can call by hand, with the system principal.
Each run is a job row (state, counts, report, error, timings) whoever started it: the scheduler
for one tick of the batch's cron schedule, or an administrator from the CLI or GraphQL. A tick
is fired once, even by two schedulers (a unique index on kind and tick), and a job is run by one
worker at a time (a lock held for the run); a crash leaves the job ``running``, and the
redelivered message runs it again.

After downtime, only the latest missed tick of each batch is fired (once), not every one.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from regovar.cron import Cron
from regovar.domain.access import require_admin
from regovar.domain.archives import ArchiveManager
from regovar.domain.common import Page, check_page, check_state, storable_json
from regovar.domain.errors import (
    BatchIncomplete,
    InvalidInput,
    JobBusy,
    NotFound,
    RegovarError,
)
from regovar.domain.inbox import InboxManager
from regovar.domain.mail import MailManager
from regovar.domain.monitoring import MonitoringManager
from regovar.domain.principal import Principal
from regovar.models import Job
from regovar.repositories.jobs import LeaderLock
from regovar.repositories.uow import UnitOfWorkFactory

log = logging.getLogger("regovar.batches")
STATES = ("queued", "running", "done", "failed")


@dataclass(frozen=True)
class Outcome:
    """What a batch run did: counts a user checks, and a short report."""

    counts: dict[str, Any] = field(default_factory=dict)
    report: str = ""
    failed: RegovarError | None = None  # done its work, but something went wrong (reported)


Runner = Callable[[Principal, dict[str, Any]], Awaitable[Outcome]]


@dataclass(frozen=True)
class Batch:
    kind: str
    description: str
    run: Runner
    options: tuple[str, ...] = ()  # option names accepted by hand
    check: Callable[[dict[str, Any]], None] | None = None  # raises InvalidInput
    # Checks against the database before a job is made (a project named by hand exists)
    validate: Callable[[Principal, dict[str, Any]], Awaitable[None]] | None = None


class BatchManager:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        batches: dict[str, Batch],
        schedules: dict[str, Cron | None],
        *,
        dispatch: Callable[[int], None] | None,
        leader_lock: Callable[[], LeaderLock],
        max_page_size: int,
    ) -> None:
        self.uow, self.batches, self.schedules = uow, batches, schedules
        self.dispatch = dispatch
        self.leader_lock = leader_lock
        self.max_page_size = max_page_size

    def schedules_for(self, principal: Principal) -> list[tuple[Batch, Cron | None]]:
        """Each batch and its schedule (administrators)."""
        require_admin(principal)
        return [(b, self.schedules.get(b.kind)) for b in self.batches.values()]

    async def run_now(self, principal: Principal, kind: str,
                      options: dict[str, Any] | None = None) -> Job:  # fmt: skip
        """A run by hand, here and now: its job row when it is over."""
        job = await self.request(principal, kind, options, queue=False)
        return await self.run(principal, job.id)

    async def submit(self, principal: Principal, kind: str,
                     options: dict[str, Any] | None = None) -> Job:  # fmt: skip
        """A run by hand from the web: sent to a worker, or run here without a broker."""
        if self.dispatch is not None:
            return await self.request(principal, kind, options, queue=True)
        return await self.run_now(principal, kind, options)

    async def request(self, principal: Principal, kind: str, options: dict[str, Any] | None = None,
                      *, queue: bool) -> Job:  # fmt: skip
        """A run by hand: a job row, queued for a worker or to be run by the caller."""
        require_admin(principal)
        batch = self._batch(kind)
        options = dict(options or {})
        unknown = sorted(set(options) - set(batch.options))
        if unknown:
            raise InvalidInput(f"batch {kind} takes no option {', '.join(unknown)}")
        if not storable_json(options) or len(repr(options)) > 10_000:
            raise InvalidInput("options must be short, without NUL characters")
        if batch.check is not None:
            batch.check(options)
        if batch.validate is not None:
            await batch.validate(principal, options)
        if queue and self.dispatch is None:
            raise InvalidInput("no broker configured: run the batch in place")
        async with self.uow() as uow:
            job = await uow.jobs.add(kind, "manual", principal.origin or principal.login, options)
            if queue and self.dispatch is not None:
                uow.after_commit(functools.partial(self.dispatch, job.id))
            await uow.commit()
        return job

    async def run(self, principal: Principal, job_id: int) -> Job:
        """Runs a job; idempotent: a finished job is returned as it is."""
        require_admin(principal)
        async with self.uow() as holder:
            if not await holder.jobs.try_lock(job_id):
                raise JobBusy(f"job {job_id} is being run by another worker", id=job_id)
            job = await holder.jobs.get(job_id)
            if job is None:
                raise NotFound(f"job {job_id} not found", id=job_id)
            if job.state in ("done", "failed"):
                return job
            batch = self._batch(job.kind)
            async with self.uow() as uow:
                await uow.jobs.mark(job_id, state="running", started_at=datetime.now(UTC),
                                    attempts=job.attempts + 1, error_code=None,
                                    error_message=None)  # fmt: skip
                await uow.commit()
            try:
                outcome = await batch.run(principal, dict(job.options))
            except RegovarError as exc:
                outcome = Outcome(failed=exc)
            except Exception as exc:
                log.exception("batch job %d (%s) crashed", job_id, job.kind)
                outcome = Outcome(failed=RegovarError(f"{type(exc).__name__}: {exc}"[:500]))
            async with self.uow() as uow:
                failure = outcome.failed
                await uow.jobs.mark(
                    job_id, state="failed" if failure else "done", counts=outcome.counts,
                    report=_storable(outcome.report)[:100_000],
                    error_code=failure.code if failure else None,
                    error_message=_storable(failure.message)[:4000] if failure else None,
                )  # fmt: skip
                await uow.commit()
                done = await uow.jobs.get(job_id)
        assert done is not None
        return done

    async def fire_due(self, principal: Principal, now: datetime | None = None) -> list[int]:
        """The scheduler's tick: a job for each batch whose schedule came due since it was
        last fired, dispatched to the workers (or returned for the caller to run).

        Schedules are read in the server's wall-clock time, and ticks compared as wall-clock
        times, so a change of daylight-saving time fires nothing twice."""
        require_admin(principal)
        local = _wall_clock(now or datetime.now(UTC))
        fired: list[int] = []
        for kind, cron in self.schedules.items():
            if cron is None or kind not in self.batches:
                continue
            tick = cron.latest(local)
            if tick is None:
                continue
            async with self.uow() as uow:
                last = await uow.jobs.last_tick(kind)
                if last is not None and _wall_clock(last) >= tick:
                    continue
                job_id = await uow.jobs.add_tick(kind, tick.astimezone())
                if job_id is not None and self.dispatch is not None:
                    uow.after_commit(functools.partial(self.dispatch, job_id))
                await uow.commit()
            if job_id is not None:
                log.info("fired %s for %s (job %d)", kind, tick.isoformat(), job_id)
                fired.append(job_id)
        return fired

    async def page(self, principal: Principal, kind: str | None = None,
                   state: str | None = None, offset: int = 0,
                   limit: int = 50) -> Page[Job]:  # fmt: skip
        require_admin(principal)
        check_page(offset, limit, self.max_page_size)
        if kind is not None:
            self._batch(kind)
        check_state(state, STATES, "job")
        async with self.uow() as uow:
            items, total = await uow.jobs.page(kind, state, offset, limit)
        return Page(items, total, offset, limit)

    async def get(self, principal: Principal, job_id: int) -> Job:
        require_admin(principal)
        async with self.uow() as uow:
            job = await uow.jobs.get(job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found", id=job_id)
        return job

    def _batch(self, kind: str) -> Batch:
        batch = self.batches.get(kind)
        if batch is None:
            known = ", ".join(sorted(self.batches))
            raise InvalidInput(f"unknown batch {kind!r}: one of {known}")
        return batch


def standard_batches(monitoring: MonitoringManager, mail: MailManager, inbox: InboxManager,
                     archives: ArchiveManager) -> dict[str, Batch]:  # fmt: skip
    """The server's batches, each a call of a manager method a person can also make."""

    async def send_now(principal: Principal, counts: dict[str, Any], lines: list[str]) -> None:
        """What a batch just queued goes out now, not at the next mail run."""
        if mail.configured:
            sent = await mail.deliver(principal)
            counts["mail_sent"] = sent.sent
            if sent.error:
                lines.append(f"mail: {sent.error}")

    async def monitor(principal: Principal, options: dict[str, Any]) -> Outcome:
        watch = await monitoring.watch(principal)
        checks = watch.status.checks
        counts: dict[str, Any] = {
            "checks": len(checks),
            "critical": sum(c.state == "critical" for c in checks),
            "unknown": sum(c.state == "unknown" for c in checks),
            "raised": len(watch.raised),
            "recovered": len(watch.recovered),
            "alerts_queued": int(watch.mail_id is not None),
        }
        lines = [f"server {watch.status.state}"]
        lines += [f"ALERT {c.name}" for c in watch.raised]
        lines += [f"recovered {c.name}" for c in watch.recovered]
        if (watch.raised or watch.recovered) and not watch.recipients:
            lines.append("nobody to alert: no administrator has an email address and "
                         "REGOVAR_ALERT_EMAILS is empty")  # fmt: skip
        if watch.mail_id is not None:
            await send_now(principal, counts, lines)
        return Outcome(counts, "\n".join(lines))

    async def scan(principal: Principal, options: dict[str, Any]) -> Outcome:
        report = await inbox.scan(principal)
        counts: dict[str, Any] = report.counts()
        lines = list(report.lines)
        if report.imported or report.failed:
            await send_now(principal, counts, lines)
        failed = None
        if report.failed or report.folders_missing:
            parts = [f"{report.failed} run(s) failed"] if report.failed else []
            parts += ([f"{report.folders_missing} drop folder(s) missing"]
                      if report.folders_missing else [])  # fmt: skip
            failed = BatchIncomplete(f"{', '.join(parts)}: see the report and "
                                     "`regovar inbox list`")  # fmt: skip
        return Outcome(counts, "\n".join(lines), failed)

    async def deliver(principal: Principal, options: dict[str, Any]) -> Outcome:
        done = await mail.deliver(principal)
        counts = {"sent": done.sent, "failed": done.failed, "waiting": done.waiting}
        report = f"sent {done.sent}, {done.waiting} waiting"
        if done.error:
            report += f"; {done.error}"
        return Outcome(counts, report)

    async def archive(principal: Principal, options: dict[str, Any]) -> Outcome:
        report = await archives.run(
            principal, dry_run=bool(options.get("dry_run")), days=options.get("days"),
            project=options.get("project"),
        )  # fmt: skip
        counts: dict[str, Any] = {
            "candidates": len(report.candidates), "archived": len(report.archived),
            "failed": len(report.failed), "skipped": len(report.skipped),
            "freed_bytes": report.freed_bytes,
        }  # fmt: skip
        lines = [f"{'would archive' if report.dry_run else 'candidate'} {c.project.name} "
                 f"(unused for {c.days_unused} days)" for c in report.candidates]  # fmt: skip
        lines += [f"archived {a.project_name} as archive {a.id} in {a.path}: "
                  f"{a.freed_bytes / 2**20:.1f} MiB freed" for a in report.archived]  # fmt: skip
        lines += [f"FAILED {name}: {reason}" for name, reason in report.failed]
        lines += [f"skipped {name}: {reason}" for name, reason in report.skipped]
        if not report.dry_run:
            lines.append(f"space freed: {report.freed_bytes / 2**20:.1f} MiB")
        failed = None
        if report.failed:
            failed = BatchIncomplete(f"{len(report.failed)} project(s) could not be archived")
        return Outcome(counts, "\n".join(lines), failed)

    return {
        "monitor": Batch("monitor", "health checks; alert emails when a check changes", monitor),
        "mail": Batch("mail", "sends the emails of the outbox (retries with backoff)", deliver),
        "inbox": Batch("inbox", "imports the complete runs of the drop folders", scan),
        "archive": Batch("archive", "archives the projects unused for a long time", archive,
                         options=("dry_run", "days", "project"), check=_archive_options,
                         validate=archives.validate),
    }


def _archive_options(options: dict[str, Any]) -> None:
    days = options.get("days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days < 0
                             or days > 100_000):  # fmt: skip
        raise InvalidInput("days must be a whole number of days, 0 or more")
    project = options.get("project")
    if project is not None and (not isinstance(project, str) or not project.strip()):
        raise InvalidInput("project must be a project name")
    if not isinstance(options.get("dry_run", False), bool):
        raise InvalidInput("dry_run must be true or false")


def _storable(text: str) -> str:
    """Text PostgreSQL takes: no NUL, no lone surrogate (a file name's stray bytes)."""
    return text.encode("utf-8", "replace").decode("utf-8").replace("\0", "?")


def _wall_clock(at: datetime) -> datetime:
    """The server's local time of an instant, without its offset (naive times are local)."""
    return at.astimezone().replace(tzinfo=None) if at.tzinfo else at

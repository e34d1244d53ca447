"""The server's health: every check with its value, its threshold and its state.

Checks: free disk of the data, import and database folders; the database (reachable, how fast,
how big); the queue (messages waiting, the oldest one's age, live workers: with the PostgreSQL
broker); imports failed in the last 24 hours; free memory; CPU load. A check is ``ok``, or
``critical`` when it crosses its threshold (settings ``monitor_*``), or ``unknown`` when it
cannot be measured here. ``regovar status`` and GraphQL ``serverStatus`` (administrators) show
them; the public ``/health`` only says that the server answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from regovar.adapters import system
from regovar.config import Settings
from regovar.domain.access import require_admin
from regovar.domain.principal import Principal
from regovar.repositories.uow import UnitOfWorkFactory

OK, CRITICAL, UNKNOWN = "ok", "critical", "unknown"


@dataclass(frozen=True)
class Check:
    name: str
    state: str  # ok, critical, unknown
    value: float | None
    unit: str
    threshold: str  # e.g. ">= 10 %"
    detail: str = ""


@dataclass(frozen=True)
class ServerStatus:
    state: str  # critical if any check is, else ok
    checks: list[Check]
    at: datetime


class MonitoringManager:
    def __init__(self, uow: UnitOfWorkFactory, settings: Settings) -> None:
        self.uow = uow
        self.settings = settings

    async def status(self, principal: Principal) -> ServerStatus:
        require_admin(principal)
        s = self.settings
        checks = self._disks(await self._database_folder())
        checks += await self._database()
        memory = system.memory()
        if memory is None:
            checks.append(Check("memory free", UNKNOWN, None, "%", ""))
        else:
            total, available = memory
            free = 100.0 * available / total if total else 0.0
            checks.append(_min("memory free", free, "%", s.monitor_memory_min_free_percent,
                               f"{available / 2**30:.1f} GiB of {total / 2**30:.1f} GiB"))
        load = system.load_percent()
        checks.append(
            Check("cpu load", UNKNOWN, None, "%", "") if load is None
            else _max("cpu load", load, "% of the cores (5 min)", s.monitor_load_max_percent)
        )  # fmt: skip
        state = CRITICAL if any(c.state == CRITICAL for c in checks) else OK
        return ServerStatus(state, checks, datetime.now(UTC))

    async def _database_folder(self) -> Path | None:
        try:
            async with self.uow() as uow:
                folder = await uow.monitoring.data_directory()
        except Exception:
            return None
        return Path(folder) if folder else None

    def _disks(self, database_folder: Path | None) -> list[Check]:
        s = self.settings
        folders = [("data folder", s.data_dir)]
        folders += [(f"import folder {p}", p) for p in s.effective_import_dirs]
        if database_folder is not None:
            folders.append(("database folder", database_folder))
        checks = []
        for name, folder in folders:
            found = system.disk(folder)
            if found is None:
                checks.append(Check(f"disk free: {name}", UNKNOWN, None, "%", "", str(folder)))
                continue
            checks.append(_min(f"disk free: {name}", found.free_percent, "%",
                               s.monitor_disk_min_free_percent,
                               f"{found.free_bytes / 2**30:.1f} GiB free in {folder}"))
        return checks

    async def _database(self) -> list[Check]:
        s = self.settings
        try:
            async with self.uow() as uow:
                ping = await uow.monitoring.ping_ms()
                size = await uow.monitoring.database_bytes()
                queue = await uow.monitoring.queue(s.worker_heartbeat_ttl)
                failed = await uow.monitoring.failed_imports(24)
        except Exception as exc:
            return [Check("database", CRITICAL, None, "", "reachable",
                          f"unreachable: {type(exc).__name__}")]  # fmt: skip
        checks = [
            Check("database", OK, round(ping, 1), "ms", "reachable"),
            Check("database size", OK, round(size / 2**30, 3), "GiB", ""),
            _max("failed imports (24 h)", failed, "", s.monitor_failed_jobs_max),
        ]
        if queue is None:
            checks.append(Check("queue", UNKNOWN, None, "", "",
                                "the broker is not PostgreSQL: see its own monitoring"))
        else:
            age = 0.0
            if queue.oldest is not None:
                age = (datetime.now(UTC) - queue.oldest).total_seconds() / 60
            checks.append(Check("queue waiting", OK, queue.waiting, "messages", ""))
            checks.append(_max("queue oldest message", round(age, 1), "min",
                               s.monitor_queue_max_age_minutes))
            # Workers matter only when something waits for them.
            workers_ok = queue.workers_alive > 0 or queue.waiting == 0
            checks.append(Check("workers alive", OK if workers_ok else CRITICAL,
                                queue.workers_alive, "", "> 0 when messages wait"))
        return checks


def _min(name: str, value: float, unit: str, minimum: float, detail: str = "") -> Check:
    state = OK if value >= minimum else CRITICAL
    return Check(name, state, round(value, 1), unit, f">= {minimum}", detail)


def _max(name: str, value: float, unit: str, maximum: float, detail: str = "") -> Check:
    state = OK if value <= maximum else CRITICAL
    return Check(name, state, round(value, 1), unit, f"<= {maximum}", detail)

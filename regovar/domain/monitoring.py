"""The server's health: every check with its value, its threshold and its state.

Checks: free disk of the data, import and database folders; the database (reachable, how fast,
how big); the queue (messages waiting, the oldest one's age, live workers: with the PostgreSQL
broker); imports failed in the last 24 hours (files refused for their content apart: never
critical); free memory; CPU load. A check is ``ok``, or
``critical`` when it crosses its threshold (settings ``monitor_*``), or ``unknown`` when it
cannot be measured here. ``regovar status`` and GraphQL ``serverStatus`` (administrators) show
them; the public ``/health`` only says that the server answers.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from regovar.adapters import system
from regovar.adapters.state import read_state, write_state
from regovar.config import Settings
from regovar.domain import mail
from regovar.domain.access import require_admin
from regovar.domain.errors import (
    InvalidInput,
    MailUnavailable,
    PedMalformedError,
    VcfMalformedError,
    VcfNoSamples,
)
from regovar.domain.mail import MailManager
from regovar.domain.principal import Principal
from regovar.repositories.uow import UnitOfWorkFactory

OK, CRITICAL, UNKNOWN = "ok", "critical", "unknown"
# Error codes of an import refused for what its files hold: the lab fixes the file and imports
# it again; nothing is wrong with the server. Other failures (crashes, a lost database...) are.
REFUSED_INPUT = tuple(e.code for e in (VcfMalformedError, VcfNoSamples, PedMalformedError,
                                        InvalidInput))
log = logging.getLogger("regovar.monitoring")


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


@dataclass(frozen=True)
class Watch:
    """One watch: the status, the checks that crossed their threshold or came back since the
    last watch, and the alert message queued for them (None when nothing changed or there is
    nobody to tell)."""

    status: ServerStatus
    raised: list[Check]
    recovered: list[Check]
    mail_id: int | None
    recipients: list[str]


DOWN_AFTER = 3  # failed looks in a row before the database is reported unreachable


class MonitoringManager:
    def __init__(self, uow: UnitOfWorkFactory, settings: Settings,
                 mailer: MailManager | None = None) -> None:  # fmt: skip
        self.uow = uow
        self.settings = settings
        self.mailer = mailer
        self.state_file = settings.data_dir / "run" / "database-alert.json"

    async def status(self, principal: Principal) -> ServerStatus:
        require_admin(principal)
        s = self.settings
        checks = self._disks(await self._database_folder())
        checks += [self._inbox(i.path) for i in s.inboxes]
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

    async def alive(self) -> bool:
        """The public answer of ``/health``: the database answers. Says nothing else."""
        try:
            async with self.uow() as uow:
                await uow.monitoring.ping_ms()
        except Exception:
            return False
        return True

    async def watch(self, principal: Principal) -> Watch:
        """The monitor batch: checks the server and alerts the administrators (and the
        addresses of ``alert_emails``) once when a check turns critical and once when it is
        back to ok; a check that stays critical sends nothing more, and an unknown one keeps
        its last state."""
        status = await self.status(principal)
        raised: list[Check] = []
        recovered: list[Check] = []
        async with self.uow() as uow:
            before = await uow.monitoring.alert_states()
            for check in status.checks:
                if check.state == UNKNOWN:
                    continue
                last = before.get(check.name)
                was = last.state if last is not None else OK
                if check.state == CRITICAL and was != CRITICAL:
                    raised.append(check)
                elif check.state == OK and was == CRITICAL:
                    recovered.append(check)
                changed = last is None or last.state != check.state
                await uow.monitoring.set_alert_state(check.name, check.state, check.value,
                                                     check.detail, changed)  # fmt: skip
            admins = await uow.users.admin_emails()
            recipients: list[str] = []
            mail_id = None
            if raised or recovered:
                recipients = admins + list(self.settings.alert_emails)
                mail_id = await mail.queue(uow, _alert_key(status, raised, recovered), "alert",
                                           recipients, _alert_subject(raised, recovered),
                                           _alert_body(status, raised, recovered))  # fmt: skip
            await uow.commit()
        # Whom to tell if the database goes down (then it cannot say).
        await asyncio.to_thread(self._remember_admins, admins)
        return Watch(status, raised, recovered, mail_id, recipients)

    def _remember_admins(self, admins: list[str]) -> None:
        state = read_state(self.state_file)
        if state.get("admins") != admins:
            write_state(self.state_file, state | {"admins": admins})

    async def database_unreachable(self, error: str) -> bool:
        """The scheduler could not reach the database: after DOWN_AFTER looks in a row, one
        alert, sent directly (the outbox is in the database), to the administrators known at
        the last watch and ``alert_emails``. True when the alert went out now."""
        state = await asyncio.to_thread(read_state, self.state_file)
        failures = int(state.get("failures", 0)) + 1
        state |= {"failures": failures, "error": error[:500]}
        if state.get("since") is None:
            state["since"] = datetime.now(UTC).isoformat(timespec="seconds")
        sent = False
        if failures >= DOWN_AFTER and not state.get("alerted"):
            sent = await self._tell_database(state, down=True)
            state["alerted"] = sent
        await asyncio.to_thread(write_state, self.state_file, state)
        return sent

    async def database_reachable(self) -> bool:
        """The database answers again: one recovery email if its loss was alerted."""
        state = await asyncio.to_thread(read_state, self.state_file)
        if not state.get("failures"):
            return False
        sent = False
        if state.get("alerted"):
            sent = await self._tell_database(state, down=False)
            if not sent:
                return False  # told at the next look
        kept = {"admins": state.get("admins", [])}
        await asyncio.to_thread(write_state, self.state_file, kept)
        return sent

    async def _tell_database(self, state: dict[str, Any], *, down: bool) -> bool:
        recipients = list(dict.fromkeys([*state.get("admins", []), *self.settings.alert_emails]))
        if self.mailer is None or not self.mailer.configured or not recipients:
            # Nobody can be told by email: the log says it, once.
            log.error("database %s; no email for it (no SMTP server or no recipient)",
                      "unreachable" if down else "reachable again")  # fmt: skip
            return True
        host, since = system.hostname(), state.get("since", "")
        if down:
            subject = f"[Regovar] ALERT on {host}: database unreachable"
            rows = [("CRITICAL: database", f"unreachable since {since}"),
                    ("error", str(state.get("error", "")))]  # fmt: skip
            paragraphs = ["The scheduler cannot reach the database: batches, imports and the "
                          "web server are stopped until it is back."]  # fmt: skip
        else:
            subject = f"[Regovar] recovered on {host}: database"
            rows = [("ok again: database", f"reachable (unreachable since {since})")]
            paragraphs = ["The database answers again."]
        body = mail.compose("Regovar server health", paragraphs, rows)
        key = f"database-{'down' if down else 'up'}-{since}"
        try:
            await self.mailer.send_direct(key, recipients, subject, body)
        except MailUnavailable as exc:
            log.error("database alert not sent: %s", exc.message)
            return False
        return True

    def _inbox(self, folder: Path) -> Check:
        """A drop folder that is not there (a share not mounted, a typo) is critical."""
        problem = system.folder_problem(folder)
        return Check(f"drop folder {folder}", CRITICAL if problem else OK, None, "",
                     "readable folder", problem or "")  # fmt: skip

    async def _database_folder(self) -> Path | None:
        try:
            async with self.uow() as uow:
                folder = await uow.monitoring.data_directory()
        except Exception:
            return None
        return Path(folder) if folder else None

    def _disks(self, database_folder: Path | None) -> list[Check]:
        s = self.settings
        folders = [("data folder", s.data_dir), ("archive folder", s.effective_archive_dir)]
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
                failed_imports, latest, refused, refused_latest = (
                    await uow.monitoring.failed_imports(24, REFUSED_INPUT)
                )
                failed_batches = await uow.jobs.failed_since(24)
                mail_waiting, mail_oldest = await uow.outbox.waiting()
        except Exception as exc:
            return [Check("database", CRITICAL, None, "", "reachable",
                          f"unreachable: {type(exc).__name__}")]  # fmt: skip
        checks = [
            Check("database", OK, round(ping, 1), "ms", "reachable"),
            Check("database size", OK, round(size / 2**30, 3), "GiB", ""),
            _max("failed jobs (24 h)", failed_imports + failed_batches, "imports and batches",
                 s.monitor_failed_jobs_max, _failures(failed_imports, latest, failed_batches)),
            # The lab's to fix (its sender is told; drop-folder runs by email): never critical.
            Check("refused files (24 h)", OK, refused, "imports", "",
                  _failures(refused, refused_latest, 0)),
        ]
        if not s.smtp_host:
            checks.append(Check("mail waiting", UNKNOWN, mail_waiting, "messages", "",
                                "no SMTP server configured (REGOVAR_SMTP_HOST)"))
        else:
            age = _minutes_since(mail_oldest)
            checks.append(_max("mail oldest waiting", round(age, 1), "min",
                               s.monitor_mail_max_age_minutes, f"{mail_waiting} waiting"))
        if queue is None:
            checks.append(Check("queue", UNKNOWN, None, "", "",
                                "the broker is not PostgreSQL: see its own monitoring"))
        else:
            age = _minutes_since(queue.oldest)
            checks.append(Check("queue waiting", OK, queue.waiting, "messages", ""))
            checks.append(_max("queue oldest message", round(age, 1), "min",
                               s.monitor_queue_max_age_minutes))
            # Workers matter only when something waits for them.
            workers_ok = queue.workers_alive > 0 or queue.waiting == 0
            checks.append(Check("workers alive", OK if workers_ok else CRITICAL,
                                queue.workers_alive, "", "> 0 when messages wait"))
        return checks


def _alert_key(status: ServerStatus, raised: list[Check], recovered: list[Check]) -> str:
    changes = ",".join(sorted([f"{c.name}=critical" for c in raised]
                              + [f"{c.name}=ok" for c in recovered]))  # fmt: skip
    return f"alert:{status.at.isoformat()}:{changes}"


def _alert_subject(raised: list[Check], recovered: list[Check]) -> str:
    host = system.hostname()
    if raised and not recovered and len(raised) == 1:
        return f"[Regovar] ALERT on {host}: {raised[0].name}"
    if recovered and not raised and len(recovered) == 1:
        return f"[Regovar] recovered on {host}: {recovered[0].name}"
    parts = [f"{len(raised)} alert{'s' * (len(raised) != 1)}"] if raised else []
    parts += [f"{len(recovered)} recovered"] if recovered else []
    return f"[Regovar] {' and '.join(parts)} on {host}"


def _describe(check: Check) -> str:
    value = "unmeasured" if check.value is None else f"{check.value:g} {check.unit}".strip()
    bound = f" (threshold {check.threshold})" if check.threshold else ""
    return f"{value}{bound}{' - ' + check.detail if check.detail else ''}"


def _alert_body(status: ServerStatus, raised: list[Check], recovered: list[Check]) -> mail.Body:
    rows = [(f"CRITICAL: {c.name}", _describe(c)) for c in raised]
    rows += [(f"ok again: {c.name}", _describe(c)) for c in recovered]
    still = [c.name for c in status.checks if c.state == CRITICAL and c not in raised]
    paragraphs = [f"Health checks of {system.hostname()} at {status.at:%Y-%m-%d %H:%M:%S %Z}."]
    if still:
        paragraphs.append("Still critical (already reported): " + ", ".join(still) + ".")
    paragraphs.append("`regovar status` on the server shows every check.")
    return mail.compose("Regovar server health", paragraphs, rows)


def _minutes_since(at: datetime | None) -> float:
    return 0.0 if at is None else max((datetime.now(UTC) - at).total_seconds() / 60, 0.0)


def _min(name: str, value: float, unit: str, minimum: float, detail: str = "") -> Check:
    state = OK if value >= minimum else CRITICAL
    return Check(name, state, round(value, 1), unit, f">= {minimum}", detail)


def _failures(imports: int, latest: list[tuple[int, str]], batches: int) -> str:
    """Which jobs failed: the last imports with their error codes, then the batches."""
    parts = [", ".join(f"import {i} {code}" for i, code in latest)] if latest else []
    if imports > len(latest):
        parts.append(f"{imports - len(latest)} more import{'s' * (imports - len(latest) > 1)}")
    if batches:
        parts.append(f"{batches} batch{'es' * (batches > 1)} (regovar batches list)")
    return "; ".join(parts)


def _max(name: str, value: float, unit: str, maximum: float, detail: str = "") -> Check:
    state = OK if value <= maximum else CRITICAL
    return Check(name, state, round(value, 1), unit, f"<= {maximum}", detail)

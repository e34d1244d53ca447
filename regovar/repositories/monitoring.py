"""What the database says of the server's health: reachability, size, queue, workers, jobs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from regovar.models import AlertState


@dataclass(frozen=True)
class QueueState:
    waiting: int
    oldest: datetime | None
    workers_alive: int


class MonitoringRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ping_ms(self) -> float:
        start = time.perf_counter()
        await self.session.execute(text("SELECT 1"))
        return (time.perf_counter() - start) * 1000

    async def database_bytes(self) -> int:
        return int(await self.session.scalar(text("SELECT pg_database_size(current_database())")))

    async def data_directory(self) -> str | None:
        """Where the server keeps its files, when this role may know (a superuser or
        pg_read_all_settings member, as the embedded server's owner is)."""
        try:
            async with self.session.begin_nested():
                return str(await self.session.scalar(text("SHOW data_directory")))
        except Exception:
            return None

    async def queue(self, heartbeat_ttl_s: int) -> QueueState | None:
        """The PostgreSQL broker's queue (None when the broker is another service)."""
        exists = await self.session.scalar(text("SELECT to_regclass('dramatiq.queue')"))
        if exists is None:
            return None
        row = (await self.session.execute(text(
            "SELECT count(*), min(mtime) FROM dramatiq.queue WHERE state = 'queued'"
        ))).one()  # fmt: skip
        alive = await self.session.scalar(
            text("SELECT count(*) FROM dramatiq.worker "
                 "WHERE heartbeat_at > now() - make_interval(secs => :ttl)"),
            {"ttl": heartbeat_ttl_s},
        )  # fmt: skip
        return QueueState(int(row[0]), row[1], int(alive or 0))

    async def failed_imports(
        self, hours: int, refused_codes: tuple[str, ...], latest: int = 3
    ) -> tuple[int, list[tuple[int, str]], int, list[tuple[int, str]]]:
        """Imports failed in the last ``hours``, in one query: how many failed otherwise than
        refused (an error code not in ``refused_codes``) and (id, error code) of the last
        ``latest`` of them, newest first; then the same for those refused."""
        rows = (await self.session.execute(text(
            "SELECT id, code, refused, total FROM ("
            "  SELECT id, code, refused, at, count(*) OVER (PARTITION BY refused) AS total, "
            "  row_number() OVER (PARTITION BY refused ORDER BY at DESC, id DESC) AS rank FROM ("
            "    SELECT id, coalesce(error_code, '?') AS code, coalesce(error_code, '?') = "
            "    ANY(:refused) AS refused, coalesce(finished_at, started_at, created_at) AS at "
            "    FROM imports WHERE state = 'failed' AND coalesce(finished_at, started_at, "
            "    created_at) > now() - make_interval(hours => :h)) f) r "
            "WHERE rank <= :n ORDER BY at DESC, id DESC"
        ), {"h": hours, "refused": list(refused_codes), "n": latest})).all()  # fmt: skip
        totals = {False: 0, True: 0}
        last: dict[bool, list[tuple[int, str]]] = {False: [], True: []}
        for import_id, code, refused, total in rows:
            totals[refused] = int(total)
            last[refused].append((int(import_id), str(code)))
        return totals[False], last[False], totals[True], last[True]

    async def alert_states(self) -> dict[str, AlertState]:
        """The state each check had at the last watch, locked until the transaction ends (two
        watches at once would both see a change and both alert)."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('regovar.alerts'))")
        )
        rows = await self.session.scalars(select(AlertState))
        return {r.check_name: r for r in rows}

    async def set_alert_state(self, name: str, state: str, value: float | None, detail: str,
                              changed: bool) -> None:  # fmt: skip
        now = datetime.now(UTC)
        values = {"state": state, "value": value, "detail": detail, "updated_at": now}
        stmt = insert(AlertState).values(check_name=name, since=now, **values)
        update_values = values | ({"since": now} if changed else {})
        await self.session.execute(
            stmt.on_conflict_do_update(index_elements=["check_name"], set_=update_values)
        )

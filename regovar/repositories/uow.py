"""The unit of work: one session, one transaction, repositories bound to it.

Managers open it, repositories never commit, and messages for the workers are sent only after
the commit succeeded (so a worker never sees a job row that was rolled back).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from regovar.repositories.analyses import AnalysisRepository, FilterRepository
from regovar.repositories.archives import ArchiveRepository
from regovar.repositories.audit import AuditRepository
from regovar.repositories.files import FileRepository
from regovar.repositories.imports import ImportRepository
from regovar.repositories.inbox import InboxRepository
from regovar.repositories.jobs import JobRepository
from regovar.repositories.mail import OutboxRepository
from regovar.repositories.monitoring import MonitoringRepository
from regovar.repositories.notes import NoteRepository
from regovar.repositories.projects import ProjectRepository
from regovar.repositories.samples import SampleRepository
from regovar.repositories.subjects import SubjectRepository
from regovar.repositories.users import (
    MemberRepository,
    SessionRepository,
    SignInFailureRepository,
    UserRepository,
)
from regovar.repositories.variant_query import VariantQueryRepository
from regovar.repositories.variant_store import VariantStore

_log = logging.getLogger("regovar.uow")

AfterCommit = Callable[[], Awaitable[None] | None]
USE_EVERY_S = 3600.0  # a project's last use is written at most this often per process
_last_use: dict[tuple[int, int], float] = {}  # (database, project id): when it was written


class UnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._after_commit: list[AfterCommit] = []
        self._used: set[int] = set()

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        s = self.session
        self.projects = ProjectRepository(s)
        self.subjects = SubjectRepository(s)
        self.files = FileRepository(s)
        self.imports = ImportRepository(s)
        self.samples = SampleRepository(s)
        self.variant_store = VariantStore(s)
        self.variant_query = VariantQueryRepository(s)
        self.users = UserRepository(s)
        self.sessions = SessionRepository(s)
        self.members = MemberRepository(s)
        self.sign_in_failures = SignInFailureRepository(s)
        self.audit = AuditRepository(s)
        self.analyses = AnalysisRepository(s)
        self.filters = FilterRepository(s)
        self.notes = NoteRepository(s)
        self.monitoring = MonitoringRepository(s)
        self.jobs = JobRepository(s)
        self.outbox = OutboxRepository(s)
        self.inbox = InboxRepository(s)
        self.archives = ArchiveRepository(s)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # A COPY cut by the server's end of the session can surface as a driver state error
        # ("cannot switch to state 21; another operation is in progress") that names no
        # connection: the connection itself tells.
        lost = (isinstance(exc, Exception) and not connection_lost(exc)
                and self.variant_store.connection_closed())  # fmt: skip
        # close() ends the transaction without expiring loaded objects, so read-only units of
        # work can hand their entities to the caller; anything not committed is discarded.
        try:
            await self.session.close()
        except Exception:
            if exc is None:
                raise
            # Leaving on an error already (a lost connection cannot roll back): that error is
            # the one to tell, not "cannot call Transaction.rollback()".
            _log.debug("closing a unit of work after %s failed", type(exc).__name__,
                       exc_info=True)  # fmt: skip
        if self._used:
            await self._write_use()
        if lost:
            raise DatabaseConnectionLost("the connection to the database was lost") from exc

    def used(self, project_id: int) -> None:
        """A person read or changed the project (written when this unit of work ends, in a
        transaction of its own, so that read-only work records it too)."""
        now, key = time.monotonic(), (id(self._sessions), project_id)
        last = _last_use.get(key)
        if last is None or now - last >= USE_EVERY_S:
            _last_use[key] = now
            self._used.add(project_id)

    async def _write_use(self) -> None:
        ids, self._used = sorted(self._used), set()
        try:
            async with self._sessions() as session:
                await session.execute(
                    text("UPDATE projects SET last_used_at = now() WHERE id = ANY(:ids)"),
                    {"ids": ids},
                )
                await session.commit()
        except Exception:  # a best-effort mark: never fail the work that used the project
            for project_id in ids:
                _last_use.pop((id(self._sessions), project_id), None)

    def after_commit(self, action: AfterCommit) -> None:
        self._after_commit.append(action)

    async def commit(self) -> None:
        await self.session.commit()
        actions, self._after_commit = self._after_commit, []
        for action in actions:
            result = action()
            if result is not None:
                await result


UnitOfWorkFactory = Callable[[], UnitOfWork]


class DatabaseConnectionLost(ConnectionError):
    """The database connection of a unit of work was closed under the error it ended with."""


_DISCONNECTS = {"ConnectionDoesNotExistError", "AdminShutdownError", "CrashShutdownError",
                "CannotConnectNowError", "ConnectionFailureError"}  # fmt: skip


def connection_lost(error: BaseException) -> bool:
    """Whether the database connection went away under this error (the server restarted, the
    session was ended by an administrator, the network dropped)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ConnectionError) or type(current).__name__ in _DISCONNECTS:
            return True
        if type(current).__name__ == "InterfaceError" and "connection is closed" in str(current):
            return True  # asyncpg, on the next use of a connection the server ended
        if getattr(current, "connection_invalidated", False):  # SQLAlchemy's judgement
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__ or getattr(current, "orig", None)
    return False

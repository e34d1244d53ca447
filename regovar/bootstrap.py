"""The composition root: settings, database, broker, unit of work and managers, built once.

The web app, the worker, the CLI and the tests all take their managers from a Container.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from regovar.adapters.broker import JobQueue, make_broker
from regovar.adapters.directory import Directory, DirectoryConfig
from regovar.adapters.mail import Mailer, SmtpConfig
from regovar.adapters.pgserver import EmbeddedPostgres
from regovar.config import Settings
from regovar.cron import Cron, parse_cron
from regovar.db import make_engine, own_application_suffix
from regovar.domain.analyses import AnalysisManager
from regovar.domain.archives import ArchiveManager
from regovar.domain.audit import AuditManager
from regovar.domain.batches import BatchManager, standard_batches
from regovar.domain.exports import ExportManager
from regovar.domain.filters import FilterManager
from regovar.domain.import_parse import ImportTuning
from regovar.domain.imports import ImportManager
from regovar.domain.inbox import InboxManager
from regovar.domain.interpretation import InterpretationManager
from regovar.domain.mail import MailManager
from regovar.domain.members import MemberManager
from regovar.domain.monitoring import MonitoringManager
from regovar.domain.projects import ProjectManager
from regovar.domain.users import AuthPolicy, UserManager
from regovar.domain.variants import VariantManager
from regovar.repositories.jobs import LeaderLock
from regovar.repositories.uow import UnitOfWork


@dataclass
class Container:
    settings: Settings
    database_url: str
    engine: AsyncEngine
    projects: ProjectManager
    imports: ImportManager
    variants: VariantManager
    analyses: AnalysisManager
    filters: FilterManager
    exports: ExportManager
    interpretation: InterpretationManager
    monitoring: MonitoringManager
    mail: MailManager
    inbox: InboxManager
    archives: ArchiveManager
    batches: BatchManager
    users: UserManager
    members: MemberManager
    audit: AuditManager
    queue: JobQueue | None
    embedded: EmbeddedPostgres | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    async def aclose(self) -> None:
        await self.engine.dispose()

    def close_broker(self) -> None:
        if self.queue is not None:
            close = getattr(self.queue.broker, "close", None)
            if close:
                close()

    def stop_embedded(self) -> dict[str, int]:
        """Stops the private PostgreSQL if this process started it, unless another process
        uses it (a worker, a server, a command): it is then left running for them, and they
        are returned (application name: sessions)."""
        if self.embedded is None or not self.embedded.started_here:
            return {}
        try:
            others = self.embedded.client_sessions(but=own_application_suffix())
        except Exception:  # the server went away meanwhile: nothing to stop
            others = {}
        if others:
            self.embedded.release()
            return others
        self.embedded.stop()
        return {}


def database_url(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    if settings.database_url:
        return settings.database_url, None
    server = EmbeddedPostgres(settings.data_dir)
    return server.ensure_running(), server


def build(settings: Settings, *, with_broker: bool = True, url: str | None = None) -> Container:
    embedded = None
    if url is None:
        url, embedded = database_url(settings)
    engine = make_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False, class_=AsyncSession)

    def uow() -> UnitOfWork:
        return UnitOfWork(sessions)

    queue = None
    if with_broker:
        broker = make_broker(settings.broker_url, url, heartbeat_ttl=settings.worker_heartbeat_ttl)
        queue = JobQueue(broker)
    variants = VariantManager(uow, settings.max_page_size)
    mail = MailManager(uow, _mailer(settings), settings, settings.max_page_size)
    monitoring = MonitoringManager(uow, settings, mail)
    imports = ImportManager(
        uow,
        import_dirs=settings.effective_import_dirs,
        default_assembly=settings.default_assembly,
        tuning=ImportTuning(
            batch_rows=settings.import_batch_rows,
            processes=settings.import_processes,
            parallel_min_bytes=settings.import_parallel_min_mb << 20,
            columnar_rows=settings.import_columnar_rows,
            chunk_bytes=settings.import_chunk_kb << 10,
        ),
        max_page_size=settings.max_page_size,
        dispatch=queue.run_import if queue else None,
    )
    inbox = InboxManager(uow, imports, settings, settings.max_page_size)
    archives = ArchiveManager(uow, settings, settings.max_page_size)
    batches = BatchManager(
        uow,
        standard_batches(monitoring, mail, inbox, archives),
        schedules(settings),
        dispatch=queue.run_batch if queue else None,
        leader_lock=lambda: LeaderLock(engine),
        max_page_size=settings.max_page_size,
    )
    return Container(
        settings=settings,
        database_url=url,
        engine=engine,
        projects=ProjectManager(uow, settings.max_page_size),
        imports=imports,
        variants=variants,
        analyses=AnalysisManager(uow, settings.max_page_size),
        filters=FilterManager(uow),
        exports=ExportManager(uow),
        interpretation=InterpretationManager(uow),
        monitoring=monitoring,
        mail=mail,
        inbox=inbox,
        archives=archives,
        batches=batches,
        users=UserManager(
            uow,
            AuthPolicy(
                session_hours=settings.session_hours,
                max_failures=settings.sign_in_max_failures,
                window_minutes=settings.sign_in_window_minutes,
            ),
            settings.max_page_size,
            directory=_directory(settings),
        ),
        members=MemberManager(uow),
        audit=AuditManager(uow, settings.max_page_size),
        queue=queue,
        embedded=embedded,
    )


def schedules(settings: Settings) -> dict[str, Cron | None]:
    """The cron schedule of each batch (None: run by hand only)."""
    raw = {"monitor": settings.schedule_monitor, "mail": settings.schedule_mail,
           "inbox": settings.schedule_inbox, "archive": settings.schedule_archive}  # fmt: skip
    return {kind: parse_cron(text) if text.strip() else None for kind, text in raw.items()}


def _mailer(settings: Settings) -> Mailer | None:
    if not settings.smtp_host:
        return None
    return Mailer(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            user=settings.smtp_user,
            password=settings.smtp_password,
            timeout_s=settings.smtp_timeout_s,
            sender=settings.mail_from,
            ca_file=str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
        )
    )


def _directory(settings: Settings) -> Directory | None:
    if not settings.ldap_url:
        return None
    return Directory(
        DirectoryConfig(
            url=settings.ldap_url,
            user_dn=settings.ldap_user_dn,
            base_dn=settings.ldap_base_dn,
            user_filter=settings.ldap_user_filter,
            bind_dn=settings.ldap_bind_dn,
            bind_password=settings.ldap_bind_password,
        )
    )

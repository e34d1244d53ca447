"""Batches for administrators: their schedules, their runs (jobs), a run by hand, the outbox."""

from __future__ import annotations

from datetime import datetime

import strawberry

from regovar.domain.errors import InvalidInput
from regovar.graphql.pages import Page, page_of
from regovar.graphql.projects.types import Project
from regovar.graphql.scalars import JSON, parse_id
from regovar.models import Archive as ArchiveRow
from regovar.models import InboxRun as InboxRunRow
from regovar.models import Job as JobRow
from regovar.models import OutgoingMail


@strawberry.type(description="A batch of the server, with its schedule.")
class BatchKind:
    kind: str
    description: str
    schedule: str | None = strawberry.field(description="cron schedule; null: by hand only")


@strawberry.type(description="One run of a batch.")
class Job:
    id: strawberry.ID
    kind: str
    trigger: str = strawberry.field(description="schedule or manual")
    scheduled_for: datetime | None = strawberry.field(description="the tick, when scheduled")
    requested_by: str
    state: str = strawberry.field(description="queued, running, done or failed")
    counts: JSON  # type: ignore[valid-type]
    report: str
    error_code: str | None
    error_message: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_row(cls, j: JobRow) -> Job:
        return cls(id=strawberry.ID(str(j.id)), kind=j.kind, trigger=j.trigger,
                   scheduled_for=j.scheduled_for, requested_by=j.requested_by, state=j.state,
                   counts=j.counts, report=j.report,
                   error_code=j.error_code, error_message=j.error_message, attempts=j.attempts,
                   created_at=j.created_at, started_at=j.started_at,
                   finished_at=j.finished_at)  # fmt: skip


@strawberry.type(description="A message of the outbox.")
class Mail:
    id: strawberry.ID
    kind: str
    state: str = strawberry.field(description="pending or sent")
    recipients: list[str]
    subject: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def from_row(cls, m: OutgoingMail) -> Mail:
        return cls(id=strawberry.ID(str(m.id)), kind=m.kind, state=m.state,
                   recipients=list(m.recipients), subject=m.subject, attempts=m.attempts,
                   last_error=m.last_error,
                   created_at=m.created_at, sent_at=m.sent_at)  # fmt: skip


@strawberry.type(description="A run folder of a drop folder.")
class InboxRun:
    id: strawberry.ID
    run_id: str
    folder: str
    state: str = strawberry.field(description="settling, importing, done, failed or duplicate")
    files: JSON = strawberry.field(description="name, size and sha256 of each file taken")  # type: ignore[valid-type]
    project_id: strawberry.ID | None
    import_ids: list[strawberry.ID]
    error_code: str | None
    error_message: str | None
    seen_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_row(cls, r: InboxRunRow) -> InboxRun:
        return cls(id=strawberry.ID(str(r.id)), run_id=r.run_id, folder=f"{r.inbox}/{r.folder}",
                   state=r.state, files=r.files,
                   project_id=strawberry.ID(str(r.project_id)) if r.project_id else None,
                   import_ids=[strawberry.ID(str(i)) for i in r.import_ids],
                   error_code=r.error_code, error_message=r.error_message, seen_at=r.seen_at,
                   finished_at=r.finished_at)  # fmt: skip


@strawberry.type(description="An archive bundle of a project's data.")
class Archive:
    id: strawberry.ID
    project_id: strawberry.ID | None
    project_name: str
    path: str
    state: str = strawberry.field(description="archived or restored")
    bytes: float = strawberry.field(description="size of the bundle")
    freed_bytes: float = strawberry.field(description="space freed when it was archived")
    counts: JSON = strawberry.field(description="rows of each table in the bundle")  # type: ignore[valid-type]
    last_used_at: datetime | None
    created_by: str
    created_at: datetime
    restored_at: datetime | None

    @classmethod
    def from_row(cls, a: ArchiveRow) -> Archive:
        return cls(id=strawberry.ID(str(a.id)),
                   project_id=strawberry.ID(str(a.project_id)) if a.project_id else None,
                   project_name=a.project_name, path=a.path, state=a.state, bytes=a.bytes,
                   freed_bytes=a.freed_bytes, counts=a.counts, last_used_at=a.last_used_at,
                   created_by=a.created_by, created_at=a.created_at,
                   restored_at=a.restored_at)  # fmt: skip


@strawberry.type
class BatchQueries:
    @strawberry.field(description="The server's batches and their schedules (administrators).")
    async def batches(self, info: strawberry.Info) -> list[BatchKind]:
        ctx = info.context
        return [
            BatchKind(kind=b.kind, description=b.description, schedule=c.text if c else None)
            for b, c in ctx.container.batches.schedules_for(ctx.principal)
        ]

    @strawberry.field(description="Batch runs, newest first (administrators).")
    async def jobs(
        self, info: strawberry.Info, kind: str | None = None, state: str | None = None,
        offset: int = 0, limit: int = 50,
    ) -> Page[Job]:  # fmt: skip
        ctx = info.context
        page = await ctx.container.batches.page(ctx.principal, kind, state, offset, limit)
        return page_of(page, Job.from_row)

    @strawberry.field(description="One batch run (administrators).")
    async def job(self, info: strawberry.Info, id: strawberry.ID) -> Job:
        ctx = info.context
        return Job.from_row(await ctx.container.batches.get(ctx.principal, parse_id(id)))

    @strawberry.field(description="Runs of the drop folders, newest first (administrators).")
    async def inbox_runs(self, info: strawberry.Info, state: str | None = None, offset: int = 0,
                         limit: int = 50) -> Page[InboxRun]:  # fmt: skip
        ctx = info.context
        return page_of(await ctx.container.inbox.page(ctx.principal, state, offset, limit),
                       InboxRun.from_row)  # fmt: skip

    @strawberry.field(description="Archive bundles, newest first (administrators).")
    async def archives(self, info: strawberry.Info, offset: int = 0,
                       limit: int = 50) -> Page[Archive]:  # fmt: skip
        ctx = info.context
        return page_of(await ctx.container.archives.page(ctx.principal, offset, limit),
                       Archive.from_row)  # fmt: skip

    @strawberry.field(description="Messages of the email outbox, newest first (administrators).")
    async def mails(self, info: strawberry.Info, state: str | None = None, offset: int = 0,
                    limit: int = 50) -> Page[Mail]:  # fmt: skip
        ctx = info.context
        return page_of(await ctx.container.mail.page(ctx.principal, state, offset, limit),
                       Mail.from_row)  # fmt: skip


@strawberry.type
class BatchMutations:
    @strawberry.mutation(
        description="Runs a batch now (administrators): sent to a worker, or run in the "
        "server when it has no broker; answers its job row."
    )
    async def run_batch(
        self, info: strawberry.Info, kind: str,
        options: JSON | None = strawberry.UNSET,  # type: ignore[valid-type]
    ) -> Job:  # fmt: skip
        ctx = info.context
        if options not in (None, strawberry.UNSET) and not isinstance(options, dict):
            raise InvalidInput("options must be a JSON object, e.g. {dry_run: true}")
        chosen = options if isinstance(options, dict) else {}
        return Job.from_row(await ctx.container.batches.submit(ctx.principal, kind, chosen))

    @strawberry.mutation(description="Puts an archived project's data back (administrators).")
    async def restore_archive(self, info: strawberry.Info, id: strawberry.ID) -> Archive:
        ctx = info.context
        return Archive.from_row(await ctx.container.archives.restore(ctx.principal, parse_id(id)))

    @strawberry.mutation(description="Protects a project from archiving (administrators).")
    async def set_project_protected(self, info: strawberry.Info, project_id: strawberry.ID,
                                    protected: bool) -> Project:  # fmt: skip
        ctx = info.context
        done = await ctx.container.projects.set_protected(
            ctx.principal, parse_id(project_id, "projectId"), protected
        )
        return Project.from_model(done)

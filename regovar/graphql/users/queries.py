from __future__ import annotations

import strawberry

from regovar.domain.audit import AuditQuery, parse_anchors
from regovar.graphql.pages import Page, page_of
from regovar.graphql.scalars import optional_id
from regovar.graphql.users.types import AuditEvent, AuditVerification, Session, User


@strawberry.type
class UserQueries:
    @strawberry.field(description="The signed-in user.")
    async def me(self, info: strawberry.Info) -> User:
        ctx = info.context
        return User.from_model(await ctx.container.users.me(ctx.principal))

    @strawberry.field(description="All users (administrators).")
    async def users(self, info: strawberry.Info, offset: int = 0, limit: int = 100) -> Page[User]:
        ctx = info.context
        return page_of(
            await ctx.container.users.page(ctx.principal, offset, limit), User.from_model
        )

    @strawberry.field(description="The signed-in user's open sessions.")
    async def my_sessions(self, info: strawberry.Info) -> list[Session]:
        ctx = info.context
        found = await ctx.container.users.sessions(ctx.principal)
        return [Session.from_model(s, ctx.principal.session_id) for s in found]

    @strawberry.field(description="The audit trail, newest first (administrators).")
    async def audit_events(
        self,
        info: strawberry.Info,
        object_type: str | None = None,
        object_id: str | None = None,
        actor_id: strawberry.ID | None = None,
        project_id: strawberry.ID | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> Page[AuditEvent]:
        ctx = info.context
        query = AuditQuery(
            object_type=object_type,
            object_id=object_id,
            actor_id=optional_id(actor_id, "actorId"),
            project_id=optional_id(project_id, "projectId"),
            offset=offset,
            limit=limit,
        )
        return page_of(
            await ctx.container.audit.events(ctx.principal, query), AuditEvent.from_model
        )

    @strawberry.field(description="Recomputes the audit hash chain (administrators).")
    async def verify_audit(
        self, info: strawberry.Info, anchors: list[str] | None = None
    ) -> AuditVerification:
        ctx = info.context
        report = await ctx.container.audit.verify(ctx.principal, parse_anchors(anchors or []))
        bad = strawberry.ID(str(report.first_bad_id)) if report.first_bad_id else None
        head = f"{report.head_id}:{report.head_hash}" if report.head_id is not None else None
        return AuditVerification(
            events=report.events,
            intact=report.intact,
            first_bad_id=bad,
            problem=report.problem,
            anchor=head,
        )

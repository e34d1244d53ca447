from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from regovar import models
from regovar.graphql.pages import Page, page_of

if TYPE_CHECKING:
    from regovar.graphql.imports.types import Import
    from regovar.graphql.samples.types import Sample
    from regovar.graphql.users.types import ProjectMember

SEX = {0: "unknown", 1: "male", 2: "female"}
AFFECTED = {0: "unknown", 1: "unaffected", 2: "affected"}


@strawberry.type
class Subject:
    id: strawberry.ID
    identifier: str
    family: str | None
    sex: str
    affected: str
    father_id: strawberry.ID | None
    mother_id: strawberry.ID | None

    @classmethod
    def from_model(cls, s: models.Subject) -> Subject:
        return cls(
            id=strawberry.ID(str(s.id)),
            identifier=s.identifier,
            family=s.family,
            sex=SEX[s.sex],
            affected=AFFECTED[s.affected],
            father_id=strawberry.ID(str(s.father_id)) if s.father_id else None,
            mother_id=strawberry.ID(str(s.mother_id)) if s.mother_id else None,
        )


@strawberry.type
class Project:
    id: strawberry.ID
    name: str
    description: str
    created_at: datetime
    last_used_at: datetime = strawberry.field(description="last read or changed by a person")
    protected: bool = strawberry.field(description="never archived for disuse")
    archived_at: datetime | None = strawberry.field(
        description="its data is in an archive bundle since then (restore to read it)"
    )

    @classmethod
    def from_model(cls, p: models.Project) -> Project:
        return cls(
            id=strawberry.ID(str(p.id)),
            name=p.name,
            description=p.description,
            created_at=p.created_at,
            last_used_at=p.last_used_at,
            protected=p.protected,
            archived_at=p.archived_at,
        )

    @strawberry.field
    async def subjects(
        self, info: strawberry.Info, offset: int = 0, limit: int = 100
    ) -> Page[Subject]:
        ctx = info.context
        page = await ctx.container.projects.subjects(ctx.principal, int(self.id), offset, limit)
        return page_of(page, Subject.from_model)

    @strawberry.field
    async def samples(
        self, info: strawberry.Info, offset: int = 0, limit: int = 100
    ) -> Page[Annotated[Sample, strawberry.lazy("regovar.graphql.samples.types")]]:
        from regovar.graphql.samples.types import Sample

        ctx = info.context
        page = await ctx.container.variants.samples(
            ctx.principal, project_id=int(self.id), offset=offset, limit=limit
        )
        return page_of(page, Sample.from_model)

    @strawberry.field
    async def imports(
        self, info: strawberry.Info, offset: int = 0, limit: int = 100
    ) -> Page[Annotated[Import, strawberry.lazy("regovar.graphql.imports.types")]]:
        from regovar.graphql.imports.types import Import

        ctx = info.context
        page = await ctx.container.imports.page(
            ctx.principal, project_id=int(self.id), offset=offset, limit=limit
        )
        return page_of(page, Import.from_model)

    @strawberry.field
    async def members(
        self, info: strawberry.Info
    ) -> list[Annotated[ProjectMember, strawberry.lazy("regovar.graphql.users.types")]]:
        from regovar.graphql.users.types import ProjectMember

        ctx = info.context
        found = await ctx.container.members.list(ctx.principal, int(self.id))
        return [ProjectMember.from_domain(m, ctx.principal) for m in found]

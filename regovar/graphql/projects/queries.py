from __future__ import annotations

import strawberry

from regovar.graphql.pages import Page, page_of
from regovar.graphql.projects.types import Project
from regovar.graphql.scalars import parse_id


@strawberry.type
class ProjectQueries:
    @strawberry.field
    async def projects(
        self, info: strawberry.Info, offset: int = 0, limit: int = 100
    ) -> Page[Project]:
        ctx = info.context
        return page_of(
            await ctx.container.projects.page(ctx.principal, offset, limit), Project.from_model
        )

    @strawberry.field
    async def project(self, info: strawberry.Info, id: strawberry.ID) -> Project:
        ctx = info.context
        return Project.from_model(await ctx.container.projects.get(ctx.principal, parse_id(id)))

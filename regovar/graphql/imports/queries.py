from __future__ import annotations

import strawberry

from regovar.graphql.imports.types import Import
from regovar.graphql.pages import Page, page_of
from regovar.graphql.scalars import optional_id, parse_id


@strawberry.type
class ImportQueries:
    @strawberry.field
    async def imports(
        self,
        info: strawberry.Info,
        project_id: strawberry.ID | None = None,
        state: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> Page[Import]:
        ctx = info.context
        page = await ctx.container.imports.page(
            ctx.principal, optional_id(project_id, "projectId"), state, offset, limit
        )
        return page_of(page, Import.from_model)

    @strawberry.field(name="import")
    async def import_(self, info: strawberry.Info, id: strawberry.ID) -> Import:
        ctx = info.context
        return Import.from_model(await ctx.container.imports.get(ctx.principal, parse_id(id)))

from __future__ import annotations

import strawberry

from regovar.graphql.pages import Page, page_of
from regovar.graphql.samples.types import Sample
from regovar.graphql.scalars import optional_id


@strawberry.type
class SampleQueries:
    @strawberry.field
    async def samples(
        self,
        info: strawberry.Info,
        project_id: strawberry.ID | None = None,
        import_id: strawberry.ID | None = None,
        name: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> Page[Sample]:
        ctx = info.context
        page = await ctx.container.variants.samples(
            ctx.principal,
            project_id=optional_id(project_id, "projectId"),
            import_id=optional_id(import_id, "importId"),
            name=name,
            offset=offset,
            limit=limit,
        )
        return page_of(page, Sample.from_model)

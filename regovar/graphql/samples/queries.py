from __future__ import annotations

import strawberry

from regovar.graphql.samples.types import SamplePage


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
    ) -> SamplePage:
        ctx = info.context
        page = await ctx.container.variants.samples(
            ctx.principal,
            project_id=int(project_id) if project_id else None,
            import_id=int(import_id) if import_id else None,
            name=name,
            offset=offset,
            limit=limit,
        )
        return SamplePage.from_page(page)

from __future__ import annotations

import strawberry

from regovar.graphql.pages import Page, page_of
from regovar.graphql.variants.inputs import VariantQueryInput
from regovar.graphql.variants.types import VariantRecord


@strawberry.type
class VariantQueries:
    @strawberry.field(description="Variants of one or several samples, filtered and paginated.")
    async def variants(
        self, info: strawberry.Info, query: VariantQueryInput
    ) -> Page[VariantRecord]:
        ctx = info.context
        page = await ctx.container.variants.query(ctx.principal, query.to_query())
        return page_of(page, VariantRecord.from_row)

from __future__ import annotations

import strawberry

from regovar.graphql.analyses.types import Analysis, AnalysisResult
from regovar.graphql.pages import Page
from regovar.graphql.scalars import JSON, optional_id, parse_id
from regovar.graphql.variants.inputs import SortInput, sort_keys


@strawberry.type
class AnalysisQueries:
    @strawberry.field(description="Analyses of the projects you can read.")
    async def analyses(
        self,
        info: strawberry.Info,
        project_id: strawberry.ID | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> Page[Analysis]:
        ctx = info.context
        page = await ctx.container.analyses.page(
            ctx.principal, optional_id(project_id, "projectId"), offset, limit
        )
        views = [await ctx.container.analyses.get(ctx.principal, a.id) for a in page.items]
        return Page(
            total=page.total,
            offset=page.offset,
            limit=page.limit,
            items=[Analysis.from_view(v) for v in views],
        )

    @strawberry.field
    async def analysis(self, info: strawberry.Info, id: strawberry.ID) -> Analysis:
        ctx = info.context
        return Analysis.from_view(await ctx.container.analyses.get(ctx.principal, parse_id(id)))

    @strawberry.field(
        description="The analysis's variants kept by a filter in its JSON form "
        '(docs/analyses.md), e.g. {"version": 1, "filter": {"all": [{"impact": "MODERATE"}, '
        '{"inheritance": "compound_heterozygous"}]}}.'
    )
    async def analysis_results(
        self,
        info: strawberry.Info,
        analysis_id: strawberry.ID,
        filter: JSON,  # type: ignore[valid-type]
        sort: list[SortInput] | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> AnalysisResult:
        ctx = info.context
        # The counts per gene cost a second pass over the analysis: only when asked for.
        genes = any(
            getattr(s, "name", "") == "genes" for f in info.selected_fields for s in f.selections
        )
        result = await ctx.container.analyses.results(
            ctx.principal,
            parse_id(analysis_id, "analysisId"),
            filter,
            sort_keys(sort),
            offset,
            limit,
            gene_counts=genes,
        )
        return AnalysisResult.from_results(result)

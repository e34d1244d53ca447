from __future__ import annotations

import base64

import strawberry

from regovar.graphql.analyses.types import (
    Analysis,
    AnalysisResult,
    AnalysisVariant,
    ExportFile,
    SavedFilter,
)
from regovar.graphql.pages import Page, page_of
from regovar.graphql.scalars import JSON, optional_id, parse_id
from regovar.graphql.variants.inputs import SortInput, sort_keys
from regovar.graphql.variants.types import VariantRecord


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
        return page_of(page, Analysis.from_view)

    @strawberry.field
    async def analysis(self, info: strawberry.Info, id: strawberry.ID) -> Analysis:
        ctx = info.context
        return Analysis.from_view(await ctx.container.analyses.get(ctx.principal, parse_id(id)))

    @strawberry.field(
        description="The analysis's variants kept by a filter in its JSON form "
        '(docs/analyses.md), e.g. {"version": 1, "filter": {"all": [{"impact": "MODERATE"}, '
        '{"inheritance": "compound_heterozygous"}]}}, or by a saved filter.'
    )
    async def analysis_results(
        self,
        info: strawberry.Info,
        analysis_id: strawberry.ID,
        filter: JSON | None = None,  # type: ignore[valid-type]
        saved_filter: SavedFilterInput | None = None,
        sort: list[SortInput] | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> AnalysisResult:
        ctx = info.context
        # The counts per gene cost a second pass over the analysis: only when asked for.
        genes = any(
            getattr(s, "name", "") == "genes" for f in info.selected_fields for s in f.selections
        )
        saved = None
        if saved_filter is not None:
            saved = (parse_id(saved_filter.id, "savedFilter.id"), saved_filter.version)
        result = await ctx.container.analyses.results(
            ctx.principal,
            parse_id(analysis_id, "analysisId"),
            filter,
            saved=saved,
            sort=sort_keys(sort),
            offset=offset,
            limit=limit,
            gene_counts=genes,
        )
        return AnalysisResult.from_results(result)

    @strawberry.field(description="The analysis's saved filters, then its project's presets.")
    async def analysis_filters(
        self, info: strawberry.Info, analysis_id: strawberry.ID
    ) -> list[SavedFilter]:
        ctx = info.context
        views = await ctx.container.filters.of_analysis(
            ctx.principal, parse_id(analysis_id, "analysisId")
        )
        return [SavedFilter.from_view(v) for v in views]


    @strawberry.field(
        description="The analysis's variants kept by a filter (or a saved filter) as a TSV, "
        "XLSX or VCF file whose header records the analysis, filter, samples, software and date."
    )
    async def analysis_export(
        self,
        info: strawberry.Info,
        analysis_id: strawberry.ID,
        format: str = "xlsx",
        filter: JSON | None = None,  # type: ignore[valid-type]
        saved_filter: SavedFilterInput | None = None,
    ) -> ExportFile:
        ctx = info.context
        saved = None
        if saved_filter is not None:
            saved = (parse_id(saved_filter.id, "savedFilter.id"), saved_filter.version)
        made = await ctx.container.exports.export(
            ctx.principal, parse_id(analysis_id, "analysisId"), format, filter, saved=saved
        )
        return ExportFile(
            filename=made.filename,
            content_type=made.content_type,
            variants=made.rows,
            base64=base64.b64encode(made.data).decode(),
        )


    @strawberry.field(description="One variant of the analysis, with all its transcripts.")
    async def analysis_variant(
        self, info: strawberry.Info, analysis_id: strawberry.ID, variant_key: strawberry.ID
    ) -> AnalysisVariant:
        ctx = info.context
        found = await ctx.container.analyses.variant(
            ctx.principal, parse_id(analysis_id, "analysisId"), str(variant_key)
        )
        return AnalysisVariant(
            variant=VariantRecord.from_row(found.row), transcripts=found.transcripts
        )


@strawberry.input(description="A saved filter; without a version, its latest one.")
class SavedFilterInput:
    id: strawberry.ID
    version: int | None = None

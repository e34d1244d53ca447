from __future__ import annotations

import strawberry

from regovar.domain.analyses import CreateAnalysis, MemberSpec, UpdateAnalysis
from regovar.domain.filters import SaveFilter
from regovar.graphql.analyses.types import Analysis, SavedFilter
from regovar.graphql.scalars import JSON, parse_id


@strawberry.input(description="A sample of a new analysis; what is left out comes from the PED.")
class AnalysisMemberInput:
    sample_id: strawberry.ID
    role: str | None = None
    sex: str | None = None
    affected: str | None = None


@strawberry.input
class CreateAnalysisInput:
    project_id: strawberry.ID
    name: str
    samples: list[AnalysisMemberInput] = strawberry.field(
        description="The first is the proband unless a role says otherwise."
    )
    description: str = ""
    with_family: bool = strawberry.field(
        default=True, description="Add the samples of the proband's parents and siblings."
    )


@strawberry.input(description="What changes in an analysis; what is left out stays.")
class UpdateAnalysisInput:
    analysis_id: strawberry.ID
    name: str | None = None
    description: str | None = None
    status: str | None = strawberry.field(default=None, description="open, in_review, closed")
    samples: list[AnalysisMemberInput] = strawberry.field(
        default_factory=list, description="New role, sex or affected status of some samples"
    )
    settings: JSON | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="The analysis's settings: a JSON object, replaced whole"
    )


@strawberry.type
class AnalysisMutations:
    @strawberry.mutation
    async def update_analysis(self, info: strawberry.Info, input: UpdateAnalysisInput) -> Analysis:
        ctx = info.context
        view = await ctx.container.analyses.update(
            ctx.principal,
            UpdateAnalysis(
                parse_id(input.analysis_id, "analysisId"),
                input.name,
                input.description,
                input.status,
                tuple(
                    MemberSpec(parse_id(m.sample_id, "sampleId"), m.role, m.sex, m.affected)
                    for m in input.samples
                ),
                input.settings,
            ),
        )
        return Analysis.from_view(view)

    @strawberry.mutation
    async def create_analysis(self, info: strawberry.Info, input: CreateAnalysisInput) -> Analysis:
        ctx = info.context
        view = await ctx.container.analyses.create(
            ctx.principal,
            CreateAnalysis(
                project_id=parse_id(input.project_id, "projectId"),
                name=input.name,
                samples=tuple(
                    MemberSpec(parse_id(m.sample_id, "sampleId"), m.role, m.sex, m.affected)
                    for m in input.samples
                ),
                description=input.description,
                with_family=input.with_family,
            ),
        )
        return Analysis.from_view(view)

    @strawberry.mutation(
        description="Save a filter for an analysis (or as a preset of its project); saving a "
        "changed document under the same name adds a version."
    )
    async def save_filter(
        self,
        info: strawberry.Info,
        analysis_id: strawberry.ID,
        name: str,
        filter: JSON,  # type: ignore[valid-type]
        preset: bool = False,
        description: str = "",
    ) -> SavedFilter:
        ctx = info.context
        view = await ctx.container.filters.save(
            ctx.principal,
            SaveFilter(parse_id(analysis_id, "analysisId"), name, filter, description, preset),
        )
        return SavedFilter.from_view(view)

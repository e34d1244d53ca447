from __future__ import annotations

import strawberry

from regovar.domain.analyses import CreateAnalysis, MemberSpec
from regovar.graphql.analyses.types import Analysis
from regovar.graphql.scalars import parse_id


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


@strawberry.type
class AnalysisMutations:
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

from __future__ import annotations

import strawberry

from regovar.domain.projects import CreateProject
from regovar.graphql.projects.types import Project


@strawberry.type
class ProjectMutations:
    @strawberry.mutation
    async def create_project(
        self, info: strawberry.Info, name: str, description: str = ""
    ) -> Project:
        ctx = info.context
        project = await ctx.container.projects.create(
            ctx.principal, CreateProject(name=name, description=description)
        )
        return Project.from_model(project)

from __future__ import annotations

from typing import Annotated

import strawberry

from regovar.domain.projects import CreateProject
from regovar.graphql.projects.types import Project


@strawberry.type
class ProjectMutations:
    @strawberry.mutation
    async def create_project(
        self,
        info: strawberry.Info,
        name: str,
        description: str = "",
        owner: Annotated[
            str | None,
            strawberry.argument(description="Administrators: the owner's login (default: you)."),
        ] = None,
    ) -> Project:
        ctx = info.context
        project = await ctx.container.projects.create(
            ctx.principal, CreateProject(name=name, description=description, owner_login=owner)
        )
        return Project.from_model(project)

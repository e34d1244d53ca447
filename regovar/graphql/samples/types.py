from __future__ import annotations

import strawberry

from regovar import models
from regovar.graphql.imports.types import Import
from regovar.graphql.projects.types import Project


@strawberry.type
class Sample:
    id: strawberry.ID
    name: str
    project_id: strawberry.ID
    import_id: strawberry.ID
    subject_id: strawberry.ID | None

    @classmethod
    def from_model(cls, s: models.Sample) -> Sample:
        return cls(
            id=strawberry.ID(str(s.id)),
            name=s.name,
            project_id=strawberry.ID(str(s.project_id)),
            import_id=strawberry.ID(str(s.import_id)),
            subject_id=strawberry.ID(str(s.subject_id)) if s.subject_id else None,
        )

    @strawberry.field
    async def project(self, info: strawberry.Info) -> Project:
        return Project.from_model(await info.context.loader("project").load(int(self.project_id)))

    @strawberry.field(name="import")
    async def import_(self, info: strawberry.Info) -> Import:
        return Import.from_model(await info.context.loader("import").load(int(self.import_id)))

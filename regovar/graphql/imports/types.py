from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from regovar import models
from regovar.graphql.projects.types import Project


@strawberry.type
class ImportWarning:
    kind: str
    count: int
    lines: list[int]
    message: str


@strawberry.type
class ImportedFile:
    id: strawberry.ID
    name: str
    path: str
    size: int
    sha256: str


@strawberry.type
class Import:
    id: strawberry.ID
    project_id: strawberry.ID
    file_id: strawberry.ID
    ped_file_id: strawberry.ID | None
    state: str
    progress: float
    records: int
    variants: int
    new_variants: int
    sample_count: int
    genotypes: int
    assembly: str | None
    warnings: list[ImportWarning]
    error_code: str | None
    error_message: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_model(cls, i: models.Import) -> Import:
        return cls(
            id=strawberry.ID(str(i.id)),
            project_id=strawberry.ID(str(i.project_id)),
            file_id=strawberry.ID(str(i.file_id)),
            ped_file_id=strawberry.ID(str(i.ped_file_id)) if i.ped_file_id else None,
            state=i.state,
            progress=i.progress,
            records=i.records,
            variants=i.variants,
            new_variants=i.new_variants,
            sample_count=i.samples,
            genotypes=i.genotypes,
            assembly=i.assembly,
            warnings=[
                ImportWarning(
                    kind=w["kind"], count=w["count"], lines=w["lines"], message=w["message"]
                )
                for w in i.warnings or []
            ],
            error_code=i.error_code,
            error_message=i.error_message,
            created_at=i.created_at,
            started_at=i.started_at,
            finished_at=i.finished_at,
        )

    @strawberry.field(
        description="True when the import reads running although no process loads it any "
        "more (its worker or command stopped; nothing of it was kept). It runs again when a "
        "worker takes its message back, or when the same file is imported again."
    )
    async def interrupted(self, info: strawberry.Info) -> bool:
        if self.state != "running":
            return False
        return bool(await info.context.loader("interrupted").load(int(self.id)))

    @strawberry.field(description="The VCF file.")
    async def file(self, info: strawberry.Info) -> ImportedFile:
        return _file(await info.context.loader("file").load(int(self.file_id)))

    @strawberry.field(description="The PED file, when one was given.")
    async def ped_file(self, info: strawberry.Info) -> ImportedFile | None:
        if self.ped_file_id is None:
            return None
        return _file(await info.context.loader("file").load(int(self.ped_file_id)))

    @strawberry.field
    async def project(self, info: strawberry.Info) -> Project:
        found = await info.context.loader("project").load(int(self.project_id))
        return Project.from_model(found)


@strawberry.type
class ImportStarted:
    import_: Annotated[Import, strawberry.field(name="import")]
    already_imported: bool
    pedigree_updated: list[str] | None = strawberry.field(
        default=None,
        description="With a new PED for a VCF imported before (which is not loaded again): the "
        "subjects whose pedigree it changed. Null when no new PED was given.",
    )


def _file(f: models.File) -> ImportedFile:
    return ImportedFile(
        id=strawberry.ID(str(f.id)), name=f.name, path=f.path, size=f.size, sha256=f.sha256
    )

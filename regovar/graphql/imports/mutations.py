from __future__ import annotations

import strawberry

from regovar.domain.imports import StartImport
from regovar.graphql.imports.types import Import, ImportStarted
from regovar.graphql.scalars import parse_id


@strawberry.type
class ImportMutations:
    @strawberry.mutation(description="Import a VCF (and PED) that lies in an import folder.")
    async def start_import(
        self,
        info: strawberry.Info,
        project_id: strawberry.ID,
        path: str,
        ped_path: str | None = None,
        assembly: str | None = None,
    ) -> ImportStarted:
        ctx = info.context
        started = await ctx.container.imports.start(
            ctx.principal,
            StartImport(
                project_id=parse_id(project_id, "projectId"),
                path=path,
                ped_path=ped_path,
                assembly=assembly,
            ),
        )
        return ImportStarted(
            import_=Import.from_model(started.job),
            already_imported=started.already_imported,
            pedigree_updated=started.pedigree_updated,
        )

"""Saved filters: named, versioned filter documents of an analysis, or presets of a project.

Saving a filter under a name that exists adds a version when the document changed (versions are
never modified), so a result can always name the exact filter that produced it. A filter of an
analysis records how many variants it kept there when saved; a preset, usable by every analysis
of its project, does not (its count depends on the analysis).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from regovar.domain import filter_json
from regovar.domain import variant_filter as vf
from regovar.domain.access import require_role, require_user
from regovar.domain.analyses import Prepared, prepare
from regovar.domain.audit import record
from regovar.domain.common import checked_description, checked_name
from regovar.domain.errors import InvalidInput
from regovar.domain.principal import Principal
from regovar.domain.variants import check_query, run_query
from regovar.models import FilterVersion, SavedFilter
from regovar.repositories.uow import UnitOfWork, UnitOfWorkFactory

MAX_DOCUMENT_BYTES = 256 * 1024


@dataclass(frozen=True)
class SaveFilter:
    analysis_id: int  # where it is saved from (and validated against)
    name: str
    document: Any
    description: str = ""
    preset: bool = False  # a preset of the analysis's project, for all its analyses


@dataclass(frozen=True)
class FilterView:
    filter: SavedFilter
    version: FilterVersion
    created: bool  # False: the document was that of the latest version; nothing was added
    count: int | None = None  # variants kept in the analysis it is listed for (None: unknown)


class FilterManager:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow = uow

    async def save(self, principal: Principal, command: SaveFilter) -> FilterView:
        require_user(principal)
        name = checked_name(command.name, "a filter")
        description = checked_description(command.description)
        if len(repr(command.document)) > MAX_DOCUMENT_BYTES:
            raise InvalidInput("a filter document has at most 256 KiB", field="filter")
        async with self.uow() as uow:
            prepared = await prepare(uow, principal, command.analysis_id)
            analysis = prepared.analysis
            await require_role(uow, principal, analysis.project_id, "editor")
            # validates the document against the analysis
            tree, _ = filter_json.parse(
                command.document, prepared.family, analysis.id, prepared.project_imports
            )
            count = None
            if not command.preset:
                query = vf.VariantQuery(prepared.sample_ids, tree, limit=0)
                check_query(query, 0)
                page, _ = await run_query(uow, query, prepared.placements)
                count = page.total
            owner = None if command.preset else analysis.id
            saved = await uow.filters.by_name(analysis.project_id, owner, name)
            if saved is None:
                saved = await uow.filters.add(
                    SavedFilter(
                        project_id=analysis.project_id,
                        analysis_id=owner,
                        name=name,
                        description=description,
                        created_by=principal.user_id,
                    )
                )
                latest = None
            else:
                await uow.filters.lock(saved.id)
                latest = await uow.filters.latest(saved.id)
            if latest is not None and latest.document == command.document:
                return FilterView(saved, latest, created=False, count=latest.variant_count)
            version = await uow.filters.add_version(
                FilterVersion(
                    filter_id=saved.id,
                    version=(latest.version + 1) if latest else 1,
                    document=command.document,
                    variant_count=count,
                    created_by=principal.user_id,
                )
            )
            await record(uow, principal, "filter.save", "filter", saved.id,
                         project_id=analysis.project_id, analysis_id=owner, name=name,
                         version=version.version, variants=count)  # fmt: skip
            await uow.commit()
            return FilterView(saved, version, created=True, count=count)

    async def of_analysis(self, principal: Principal, analysis_id: int) -> list[FilterView]:
        """The analysis's own filters, then its project's presets; each at its latest version,
        with how many variants it keeps (a preset's counted now, in this analysis)."""
        async with self.uow() as uow:
            prepared = await prepare(uow, principal, analysis_id)
            pairs = await uow.filters.of_analysis(prepared.analysis.project_id, analysis_id)
            views = []
            for f, v in pairs:
                count = v.variant_count
                if f.analysis_id is None:
                    count = await _count(uow, prepared, v.document)
                views.append(FilterView(f, v, created=False, count=count))
            return views


async def _count(uow: UnitOfWork, prepared: Prepared, document: Any) -> int | None:
    """What a preset keeps in this analysis; None when it does not apply to it (a mode that
    needs parents the analysis lacks, say)."""
    try:
        tree, _ = filter_json.parse(
            document, prepared.family, prepared.analysis.id, prepared.project_imports
        )
        query = vf.VariantQuery(prepared.sample_ids, tree, limit=0)
        check_query(query, 0)
        page, _ = await run_query(uow, query, prepared.placements)
    except InvalidInput:
        return None
    return page.total

from __future__ import annotations

from datetime import datetime

import strawberry

from regovar.domain.analyses import AnalysisResults, AnalysisView
from regovar.domain.filters import FilterView
from regovar.graphql.scalars import JSON
from regovar.graphql.variants.types import VariantRecord


@strawberry.type(description="A sample of an analysis, with what the inheritance modes use.")
class AnalysisMember:
    sample_id: strawberry.ID
    sample: str
    role: str = strawberry.field(description="proband, mother, father, sibling or other")
    sex: str = strawberry.field(description="unknown, male or female")
    affected: str = strawberry.field(description="unknown, unaffected or affected")


@strawberry.type
class Analysis:
    id: strawberry.ID
    project_id: strawberry.ID
    name: str
    description: str
    status: str
    settings: JSON  # type: ignore[valid-type]
    created_by: strawberry.ID | None
    updated_by: strawberry.ID | None
    created_at: datetime
    updated_at: datetime
    members: list[AnalysisMember]

    @classmethod
    def from_view(cls, view: AnalysisView) -> Analysis:
        a = view.analysis
        return cls(
            id=strawberry.ID(str(a.id)),
            project_id=strawberry.ID(str(a.project_id)),
            name=a.name,
            description=a.description,
            status=a.status,
            settings=a.settings,
            created_by=strawberry.ID(str(a.created_by)) if a.created_by else None,
            updated_by=strawberry.ID(str(a.updated_by)) if a.updated_by else None,
            created_at=a.created_at,
            updated_at=a.updated_at,
            members=[
                AnalysisMember(
                    sample_id=strawberry.ID(str(m.sample_id)),
                    sample=m.sample,
                    role=m.role,
                    sex=m.sex,
                    affected=m.affected,
                )
                for m in view.members
            ],
        )


@strawberry.type
class GeneCount:
    gene: str
    variants: int


@strawberry.type(description="A page of an analysis's variants kept by a filter.")
class AnalysisResult:
    analysis_id: strawberry.ID
    mode: str | None = strawberry.field(
        description="The inheritance mode used; for compound heterozygous, with the evidence "
        "available (compound_heterozygous:trio, :duo or :singleton)."
    )
    total: int
    offset: int
    limit: int
    items: list[VariantRecord]
    genes: list[GeneCount] = strawberry.field(description="Variants per gene, most first")
    filter_id: strawberry.ID | None = strawberry.field(
        description="The saved filter that produced the result (with filterVersion)"
    )
    filter_version: int | None
    notes: list[str] = strawberry.field(
        description="What to know of the result, e.g. members whose affected status is unknown"
    )

    @classmethod
    def from_results(cls, r: AnalysisResults) -> AnalysisResult:
        return cls(
            analysis_id=strawberry.ID(str(r.analysis_id)),
            mode=r.mode,
            total=r.page.total,
            offset=r.page.offset,
            limit=r.page.limit,
            items=[VariantRecord.from_row(row) for row in r.page.items],
            genes=[GeneCount(gene=g, variants=n) for g, n in r.genes],
            filter_id=strawberry.ID(str(r.filter_id)) if r.filter_id else None,
            filter_version=r.filter_version,
            notes=r.notes,
        )


@strawberry.type(description="A saved filter at one of its versions.")
class SavedFilter:
    id: strawberry.ID
    name: str
    description: str
    preset: bool = strawberry.field(description="A preset of the project, for all its analyses")
    version: int
    document: JSON  # type: ignore[valid-type]
    variant_count: int | None = strawberry.field(
        description="Variants it keeps: an analysis filter's when this version was saved, a "
        "preset's now in the analysis it is listed for (null where it does not apply)"
    )
    created: bool = strawberry.field(
        description="saveFilter: false when the document was that of the latest version"
    )
    saved_at: datetime

    @classmethod
    def from_view(cls, v: FilterView) -> SavedFilter:
        return cls(
            id=strawberry.ID(str(v.filter.id)),
            name=v.filter.name,
            description=v.filter.description,
            preset=v.filter.analysis_id is None,
            version=v.version.version,
            document=v.version.document,
            variant_count=v.count if v.count is not None else v.version.variant_count,
            created=v.created,
            saved_at=v.version.created_at,
        )


@strawberry.type(description="An export file, its bytes in base64.")
class ExportFile:
    filename: str
    content_type: str
    variants: int
    base64: str


@strawberry.type(description="One variant of an analysis: every call and every transcript.")
class AnalysisVariant:
    variant: VariantRecord
    transcripts: JSON = strawberry.field(  # type: ignore[valid-type]
        description="Per-transcript annotations: source, gene, feature, biotype, consequences, "
        "impact, hgvsc, hgvsp..."
    )

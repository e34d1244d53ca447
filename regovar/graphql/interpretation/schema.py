"""Selections, tags, comments and classifications of an analysis's variants."""

from __future__ import annotations

import strawberry

from regovar.domain.interpretation import Interpretation, Note, NoteView
from regovar.graphql.scalars import parse_id


@strawberry.type(description="One note of a variant's append-only history.")
class VariantNote:
    id: strawberry.ID
    analysis_id: strawberry.ID | None = strawberry.field(
        description="Where it was made; null for a classification made in another analysis"
    )
    variant_key: strawberry.ID
    variant: str
    kind: str = strawberry.field(
        description="select, unselect, tag, untag, comment or classify"
    )
    value: str = strawberry.field(description="The tag, the comment or the class")
    criteria: list[str]
    reason: str | None = strawberry.field(description="Null when made in another analysis")
    actor: str
    at: str

    @classmethod
    def from_view(cls, n: NoteView) -> VariantNote:
        return cls(
            id=strawberry.ID(str(n.id)),
            analysis_id=strawberry.ID(str(n.analysis_id)) if n.analysis_id else None,
            variant_key=strawberry.ID(n.variant_key),
            variant=n.variant,
            kind=n.kind,
            value=n.value,
            criteria=n.criteria,
            reason=n.reason,
            actor=n.actor,
            at=n.at,
        )


@strawberry.type(description="What a variant's notes add up to in an analysis.")
class VariantInterpretation:
    variant_key: strawberry.ID
    selected: bool
    tags: list[str]
    comments: int
    classification: VariantNote | None = strawberry.field(
        description="The latest classification, made in any analysis"
    )

    @classmethod
    def from_domain(cls, i: Interpretation) -> VariantInterpretation:
        return cls(
            variant_key=strawberry.ID(i.variant_key),
            selected=i.selected,
            tags=i.tags,
            comments=i.comments,
            classification=VariantNote.from_view(i.classification) if i.classification else None,
        )


@strawberry.input
class VariantNoteInput:
    analysis_id: strawberry.ID
    variant_keys: list[strawberry.ID]
    kind: str = strawberry.field(description="select, unselect, tag, untag, comment, classify")
    value: str = strawberry.field(default="", description="The tag, the comment or the class")
    criteria: list[str] = strawberry.field(
        default_factory=list, description="ACMG criteria of a classification: PVS1, PM2_Supporting"
    )
    reason: str = ""


@strawberry.type
class InterpretationQueries:
    @strawberry.field(description="A variant's notes in an analysis, oldest first.")
    async def variant_history(
        self, info: strawberry.Info, analysis_id: strawberry.ID, variant_key: strawberry.ID
    ) -> list[VariantNote]:
        ctx = info.context
        notes = await ctx.container.interpretation.history(
            ctx.principal, parse_id(analysis_id, "analysisId"), str(variant_key)
        )
        return [VariantNote.from_view(n) for n in notes]

    @strawberry.field(description="The current selection, tags and class of these variants.")
    async def variant_interpretations(
        self, info: strawberry.Info, analysis_id: strawberry.ID, variant_keys: list[strawberry.ID]
    ) -> list[VariantInterpretation]:
        ctx = info.context
        found = await ctx.container.interpretation.of_variants(
            ctx.principal, parse_id(analysis_id, "analysisId"), [str(k) for k in variant_keys]
        )
        return [VariantInterpretation.from_domain(i) for i in found]


@strawberry.type
class InterpretationMutations:
    @strawberry.mutation(
        description="Select, unselect, tag, untag, comment or classify variants of an analysis: "
        "adds a note to their history (nothing is ever changed or removed)."
    )
    async def add_variant_note(
        self, info: strawberry.Info, input: VariantNoteInput
    ) -> list[VariantNote]:
        ctx = info.context
        notes = await ctx.container.interpretation.add(
            ctx.principal,
            Note(
                parse_id(input.analysis_id, "analysisId"),
                tuple(str(k) for k in input.variant_keys),
                input.kind,
                input.value,
                tuple(input.criteria),
                input.reason,
            ),
        )
        return [VariantNote.from_view(n) for n in notes]

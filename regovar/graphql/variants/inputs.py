"""GraphQL inputs of a variant query, and their translation to the domain's filter tree."""

from __future__ import annotations

import strawberry

from regovar.domain import variant_filter as vf
from regovar.domain.errors import InvalidInput
from regovar.graphql.scalars import parse_id
from regovar.graphql.variants.types import Impact, Operator, SampleField, SortField, Zygosity


@strawberry.input
class GenotypeInput:
    sample: strawberry.ID
    zygosity: list[Zygosity]


@strawberry.input
class SampleValueInput:
    sample: strawberry.ID
    field: SampleField
    op: Operator
    value: float


@strawberry.input
class RegionInput:
    chrom: str
    start: int | None = None
    end: int | None = None


@strawberry.input
class QualInput:
    op: Operator
    value: float


@strawberry.input
class FilterInput:
    pass_only: bool = True
    missing_is_pass: bool = False
    any_of: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class InfoInput:
    name: str
    op: str = strawberry.field(description="eq, ne, lt, le, gt, ge or exists")
    number: float | None = None
    text: str | None = None
    flag: bool | None = None


@strawberry.input
class SortInput:
    field: SortField = SortField.POSITION
    descending: bool = False
    sample: strawberry.ID | None = None


@strawberry.input
class VariantQueryInput:
    samples: list[strawberry.ID]
    genotypes: list[GenotypeInput] = strawberry.field(default_factory=list)
    sample_values: list[SampleValueInput] = strawberry.field(default_factory=list)
    regions: list[RegionInput] = strawberry.field(default_factory=list)
    genes: list[str] = strawberry.field(default_factory=list)
    consequences: list[str] = strawberry.field(default_factory=list)
    min_impact: Impact | None = None
    qual: QualInput | None = None
    filter: FilterInput | None = None
    info: list[InfoInput] = strawberry.field(default_factory=list)
    sort: list[SortInput] = strawberry.field(default_factory=list)
    offset: int = 0
    limit: int = 100

    def to_query(self) -> vf.VariantQuery:
        leaves: list[vf.Node] = [
            vf.Genotype(parse_id(g.sample, "sample"), tuple(_value(z) for z in g.zygosity))
            for g in self.genotypes
        ]
        leaves += [
            vf.SampleValue(parse_id(s.sample, "sample"), _value(s.field), _value(s.op), s.value)
            for s in self.sample_values
        ]
        if self.regions:
            leaves.append(vf.Or(tuple(vf.Region(r.chrom, r.start, r.end) for r in self.regions)))
        if self.genes:
            leaves.append(vf.Genes(tuple(self.genes)))
        if self.consequences:
            leaves.append(vf.Consequences(tuple(self.consequences)))
        if self.min_impact is not None:
            leaves.append(vf.MinImpact(_value(self.min_impact)))
        if self.qual is not None:
            leaves.append(vf.Qual(_value(self.qual.op), self.qual.value))
        if self.filter is not None:
            f = self.filter
            leaves.append(vf.Filters(f.pass_only, f.missing_is_pass, tuple(f.any_of)))
        leaves += [vf.Info(i.name, i.op.lower(), _info_value(i)) for i in self.info]  # GE: ge
        sort = sort_keys(self.sort)
        return vf.VariantQuery(
            sample_ids=tuple(parse_id(s, "samples") for s in self.samples),
            filter=vf.And(tuple(leaves)) if leaves else None,
            sort=sort,
            offset=self.offset,
            limit=self.limit,
        )


def sort_keys(sort: list[SortInput] | None) -> tuple[vf.SortKey, ...]:
    return tuple(
        vf.SortKey(
            _value(s.field), s.descending, parse_id(s.sample, "sample") if s.sample else None
        )
        for s in sort or ()
    ) or (vf.SortKey(),)


def _value(enum_member: object) -> str:
    return str(getattr(enum_member, "value", enum_member))


def _info_value(i: InfoInput) -> float | str | bool | None:
    given = [value for value in (i.number, i.text, i.flag) if value is not None]
    if len(given) > 1:
        raise InvalidInput(f"the INFO condition on {i.name} gives several values: give one of "
                           "number, text or flag", field="info")  # fmt: skip
    return given[0] if given else None

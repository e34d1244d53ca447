from __future__ import annotations

from enum import Enum

import strawberry

from regovar.domain import variant_filter as vf
from regovar.domain.variants import VariantRow
from regovar.graphql.scalars import JSON, real


@strawberry.enum(
    description="Genotype relative to the row's ALT. CARRIER, NON_CARRIER, REF and "
    "ALT are groups; HET includes HET_ALT (this ALT with another ALT)."
)
class Zygosity(Enum):
    HOM_REF = "hom_ref"
    HET = "het"
    HOM_ALT = "hom_alt"
    HEMI_REF = "hemi_ref"
    HEMI_ALT = "hemi_alt"
    HET_ALT = "het_alt"
    OTHER_ALT = "other_alt"
    PARTIAL_ALT = "partial_alt"
    PARTIAL = "partial"
    MISSING = "missing"
    CARRIER = "carrier"
    NON_CARRIER = "non_carrier"
    REF = "ref"
    ALT = "alt"


@strawberry.enum
class Operator(Enum):
    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"


@strawberry.enum
class SampleField(Enum):
    DP = "dp"
    GQ = "gq"
    VAF = "vaf"
    AD_REF = "ad_ref"
    AD_ALT = "ad_alt"


@strawberry.enum
class Impact(Enum):
    MODIFIER = "MODIFIER"
    LOW = "LOW"
    MODERATE = "MODERATE"
    HIGH = "HIGH"


@strawberry.enum
class SortField(Enum):
    POSITION = "position"
    QUAL = "qual"
    GENE = "gene"
    IMPACT = "impact"
    CONSEQUENCE = "consequence"
    FILTER = "filter"
    REF = "ref"
    ALT = "alt"
    AC = "ac"
    DP = "dp"
    GQ = "gq"
    VAF = "vaf"
    AD_REF = "ad_ref"
    AD_ALT = "ad_alt"
    ZYGOSITY = "zygosity"


IMPACT_NAMES = dict(enumerate(vf.IMPACTS))


@strawberry.type
class Call:
    sample_id: strawberry.ID
    gt: str | None
    zygosity: Zygosity | None
    dp: int | None
    gq: int | None
    ad_ref: int | None
    ad_alt: int | None
    vaf: float | None
    phase_set: int | None
    filter: str | None = strawberry.field(description="The call's own FILTER (FORMAT FT)")


@strawberry.type
class VariantRecord:
    variant_key: strawberry.ID = strawberry.field(description="Stable key of the variant (hex)")
    chrom: str
    pos: int
    end: int
    ref: str
    alt: str
    qual: float | None
    filters: list[str] | None
    info: JSON | None  # type: ignore[valid-type]
    ac: int | None = strawberry.field(description="Copies of this ALT among called alleles")
    an: int | None = strawberry.field(description="Called alleles (haploid calls count one)")
    genes: list[str]
    consequences: list[str]
    worst_consequence: str | None
    worst_impact: str | None
    calls: list[Call]

    @classmethod
    def from_row(cls, r: VariantRow) -> VariantRecord:
        return cls(
            variant_key=strawberry.ID(r.variant_key),
            chrom=r.chrom,
            pos=r.pos,
            end=r.end,
            ref=r.ref,
            alt=r.alt,
            qual=real(r.qual),
            filters=r.filters,
            info=r.info,
            ac=r.ac,
            an=r.an,
            genes=r.genes or [],
            consequences=r.consequences or [],
            worst_consequence=r.worst_consequence,
            worst_impact=IMPACT_NAMES.get(r.worst_impact) if r.worst_impact is not None else None,
            calls=[
                Call(
                    sample_id=strawberry.ID(str(sid)),
                    gt=v["gt"],
                    zygosity=Zygosity(vf.ZYGOSITY_NAMES[v["zyg"]])
                    if v["zyg"] is not None
                    else None,
                    dp=v["dp"],
                    gq=v["gq"],
                    ad_ref=v["ad_ref"],
                    ad_alt=v["ad_alt"],
                    vaf=real(v["vaf"]),
                    phase_set=v["ps"],
                    filter=v.get("ft"),
                )
                for sid, v in r.samples.items()
            ],
        )

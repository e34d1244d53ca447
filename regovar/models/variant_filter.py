"""The typed filter tree of a variant query: what a user may ask, before any SQL.

Plain values shared by the domain (which validates them) and the repository that compiles
them.

The tree is compiled to SQL in exactly one place (repositories/variant_query.py), from the
whitelists below; nothing here is ever formatted into SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ZYGOSITY_CODES: dict[str, tuple[int, ...]] = {
    "hom_ref": (0,),
    "het": (1, 5),  # 5: this ALT with another ALT (1/2) is heterozygous for this ALT
    "hom_alt": (2,),
    "hemi_ref": (3,),
    "hemi_alt": (4,),
    "het_alt": (5,),
    "other_alt": (6,),
    "partial_alt": (7,),
    "partial": (8,),
    "missing": (9,),
    # groups
    "carrier": (1, 2, 4, 5, 7),
    "non_carrier": (0, 3, 6),
    "ref": (0, 3),
    "alt": (2, 4),  # every allele is this ALT: hom-alt or hemizygous
}
ZYGOSITY_NAMES = {
    0: "hom_ref",
    1: "het",
    2: "hom_alt",
    3: "hemi_ref",
    4: "hemi_alt",
    5: "het_alt",
    6: "other_alt",
    7: "partial_alt",
    8: "partial",
    9: "missing",
}

SAMPLE_FIELDS = ("dp", "gq", "vaf", "ad_ref", "ad_alt")
OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge")
IMPACTS = ("MODIFIER", "LOW", "MODERATE", "HIGH")
SORT_KEYS = (
    "position", "qual", "gene", "impact", "consequence", "filter", "ref", "alt", "ac",
    "dp", "gq", "vaf", "ad_ref", "ad_alt", "zygosity",
)  # fmt: skip
PER_SAMPLE_SORT_KEYS = ("dp", "gq", "vaf", "ad_ref", "ad_alt", "zygosity")
INFO_NAME = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_.]{0,63}|1000G)$")  # 1000G: the VCF spec's
# A CSQ/ANN column: plugins name them GERP++_RS, MES-SWA_acceptor_alt (compared as a bound key)
ANNOTATION_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$")


@dataclass(frozen=True)
class Genotype:
    sample_id: int
    zygosity: tuple[str, ...]  # any of these


@dataclass(frozen=True)
class SampleValue:
    sample_id: int
    field: str
    op: str
    value: float


@dataclass(frozen=True)
class SampleFilter:
    """The sample's own FILTER (FORMAT FT): PASS (a missing FT only with ``missing_is_pass``),
    or any of the named filters."""

    sample_id: int
    pass_only: bool = True
    missing_is_pass: bool = False
    any_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class Region:
    chrom: str
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class Genes:
    symbols: tuple[str, ...]


_ORF = re.compile(r"^(C[0-9]{1,2}|CX|CY)ORF([0-9]+)$")


def gene_spellings(symbols: tuple[str, ...]) -> tuple[str, ...]:
    """How the genes a query names may be stored: as typed, and as HGNC writes symbols (upper
    case, but for the 'orf' of C1orf112), so that 'efhd2' finds EFHD2."""
    found: dict[str, None] = {}
    for symbol in symbols:
        upper = symbol.upper()
        found |= {symbol: None, upper: None, _ORF.sub(r"\1orf\2", upper): None}
    return tuple(found)


@dataclass(frozen=True)
class Consequences:
    terms: tuple[str, ...]


@dataclass(frozen=True)
class MinImpact:
    impact: str


@dataclass(frozen=True)
class Qual:
    op: str
    value: float


@dataclass(frozen=True)
class Filters:
    """``pass_only``: FILTER is PASS (a missing FILTER only when ``missing_is_pass``)."""

    pass_only: bool = True
    missing_is_pass: bool = False
    any_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class Info:
    name: str
    op: str  # one of OPERATORS or "exists"
    value: float | str | bool | None = None


@dataclass(frozen=True)
class Chromosome:
    """A class of chromosome, whatever the naming: autosome (1-22), X, Y or MT."""

    kind: str


CHROMOSOME_KINDS = ("autosome", "X", "Y", "MT")
CLASSES = (  # ACMG/AMP classes of a variant
    "pathogenic", "likely_pathogenic", "uncertain_significance", "likely_benign", "benign",
)  # fmt: skip
VARIANT_TYPES = ("snv", "mnv", "indel", "sv")
SV_MIN_LENGTH = 50  # a length change from 50 bp on, or a symbolic ALT, is structural


@dataclass(frozen=True)
class VariantType:
    """snv: 1 base for 1; mnv: n bases for n; indel: a length change under 50 bp;
    sv: a symbolic ALT (<DEL>, breakends) or a length change of 50 bp or more."""

    types: tuple[str, ...]


@dataclass(frozen=True)
class Alleles:
    """REF and/or ALT exactly (upper-case, as stored after normalisation)."""

    ref: str | None = None
    alt: str | None = None


@dataclass(frozen=True)
class VariantKey:
    """Any of these variants, by their stored keys (16 bytes each)."""

    keys: tuple[bytes, ...]


@dataclass(frozen=True)
class Hgvs:
    """Any transcript's HGVS (coding or protein) contains this text, e.g. c.512C>T, p.Ala171Val."""

    text: str


@dataclass(frozen=True)
class AnnotationField:
    """Any transcript's annotation field (a column of the file's CSQ/ANN layout, e.g. gnomADe_AF,
    SIFT, or gene, biotype, impact) compares with the value; numbers compare as numbers."""

    name: str
    op: str
    value: float | str


@dataclass(frozen=True)
class InHouse:
    """How many samples of the database (or, with ``imports``, of these imports: a project's),
    other than the queried ones, carry the variant."""

    op: str
    value: int
    imports: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Selected:
    """Selected (or, with ``selected`` False, not selected) in the analysis."""

    analysis_id: int
    selected: bool = True


@dataclass(frozen=True)
class Tagged:
    analysis_id: int
    tag: str


@dataclass(frozen=True)
class Classified:
    """The variant's latest classification, made in any analysis, is one of ``classes``."""

    classes: tuple[str, ...]


@dataclass(frozen=True)
class CompoundHet:
    """Genes with two or more heterozygous variants of the proband among ``candidates``.

    With both parents: one variant from the mother only and one from the father only (each
    parent a called heterozygous carrier of one and a called non-carrier of the other). With
    one parent: one variant that parent carries and one it does not. Alone: two variants in the
    gene, unless read-backed phase puts all of them on one haplotype. Missing parental calls
    never count as non-carrier. Every variant of a qualifying gene that takes part is kept.

    With ``unaffected`` siblings, the variants pair up one pair at a time: a pair that an
    unaffected sibling carries both halves of (the same compound genotype, no disease) does not
    count."""

    candidates: Node | None
    proband: int
    mother: int | None = None
    father: int | None = None
    unaffected: tuple[int, ...] = ()


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


Node = (
    Genotype
    | SampleValue
    | SampleFilter
    | Region
    | Genes
    | Consequences
    | MinImpact
    | Qual
    | Filters
    | Info
    | Chromosome
    | VariantType
    | Alleles
    | VariantKey
    | Hgvs
    | AnnotationField
    | InHouse
    | Selected
    | Tagged
    | Classified
    | CompoundHet
    | And
    | Or
    | Not
)


@dataclass(frozen=True)
class SortKey:
    key: str = "position"
    descending: bool = False
    sample_id: int | None = None  # for dp, gq, vaf


@dataclass(frozen=True)
class VariantQuery:
    sample_ids: tuple[int, ...]
    filter: Node | None = None
    sort: tuple[SortKey, ...] = field(default_factory=lambda: (SortKey(),))
    offset: int = 0
    limit: int = 100

"""Inheritance modes, defined on the zygosity of each member of the analysis's family.

Each mode becomes an ordinary filter tree (genotype conditions per sample and chromosome
conditions), except the compound heterozygous mode, which pairs variants within a gene and is a
node of its own. The definitions, which docs/analyses.md repeats for users:

- A *carrier* of the ALT has a called copy of it: het, hom-alt, hemizygous alt, or het with
  another ALT (1/2). A *called non-carrier* is hom-ref, hemizygous ref, or carries another ALT
  only. Missing and partial calls (./., ./1) are neither: **a missing call never satisfies a
  condition**, so a missing parent is never taken as hom-ref (nor as a carrier).
- Samples whose affected status is unknown are not constrained.
- **de novo**: the proband is a carrier and both parents are called non-carriers (needs both
  parents). On Y only the father is required, on the mitochondrion only the mother. No
  unaffected sibling carries it (a sibling's missing call does not exclude the variant).
- **autosomal dominant**: on chromosomes 1-22, the proband is heterozygous, every affected
  member is a carrier, every unaffected member a called non-carrier.
- **autosomal recessive (homozygous)**: on 1-22, the proband and every affected member are
  hom-alt; unaffected members are called and not hom-alt; the proband's unaffected parents are
  heterozygous carriers.
- **compound heterozygous**: see :class:`CompoundHet`; the label says which evidence was
  available: ``trio``, ``duo`` (one parent) or ``singleton``. A pair both halves of which an
  unaffected sibling carries does not count.
- **X-linked recessive**: on X outside the pseudo-autosomal regions, an affected male is a
  hemizygous (or hom-alt called) carrier, an affected female hom-alt; an unaffected mother of
  the proband is a heterozygous carrier; unaffected males are called non-carriers; unaffected
  females are called and not hom-alt.
- **X-linked dominant**: on X outside the PARs, affected members are carriers and unaffected
  members called non-carriers.
- **mitochondrial**: on the mitochondrion, the proband and every affected member are carriers
  (heteroplasmic calls included); the father is not considered.
"""

from __future__ import annotations

from dataclasses import dataclass

from regovar.domain.errors import InvalidInput
from regovar.models import variant_filter as vf

MODES = (
    "de_novo",
    "autosomal_dominant",
    "autosomal_recessive",
    "compound_heterozygous",
    "x_linked_recessive",
    "x_linked_dominant",
    "mitochondrial",
)
CARRIER = ("het", "hom_alt", "hemi_alt", "het_alt")
NON_CARRIER = ("hom_ref", "hemi_ref", "other_alt")
HET = ("het", "het_alt")
NOT_HOM_ALT = ("hom_ref", "het", "hemi_ref", "het_alt", "other_alt")
MALE_CARRIER = ("hom_alt", "hemi_alt")
# No called copy of the ALT, missing calls included (and absence from the member's file).
NO_ALT_COPY = ("hom_ref", "hemi_ref", "other_alt", "partial", "missing")

# Pseudo-autosomal regions of X (1-based, inclusive), per assembly.
PAR = {
    "GRCh37": ((60_001, 2_699_520), (154_931_044, 155_260_560)),
    "GRCh38": ((10_001, 2_781_479), (155_701_383, 156_030_895)),
}
X_NAME = {"GRCh37": "X", "GRCh38": "chrX"}


@dataclass(frozen=True)
class Member:
    sample_id: int
    role: str  # proband, mother, father, sibling, other
    sex: int  # 0 unknown, 1 male, 2 female
    affected: int  # 0 unknown, 1 unaffected, 2 affected


@dataclass(frozen=True)
class Family:
    members: tuple[Member, ...]
    assembly: str

    def role(self, role: str) -> Member | None:
        return next((m for m in self.members if m.role == role), None)

    @property
    def proband(self) -> Member:
        found = self.role("proband")
        if found is None:
            raise InvalidInput("an inheritance mode needs a proband in the analysis")
        return found

    def affected(self) -> list[Member]:
        return [m for m in self.members if m.affected == 2]

    def unaffected(self) -> list[Member]:
        """The proband is the one the analysis is about: never among the unaffected."""
        return [m for m in self.members if m.affected == 1 and m.role != "proband"]

    def unaffected_siblings(self) -> list[Member]:
        """Children of the proband's parents without the disease (not other relatives: an
        aunt may carry two variants of a gene in cis)."""
        return [m for m in self.unaffected() if m.role == "sibling"]


def _is(member: Member, zygosity: tuple[str, ...]) -> vf.Node:
    return vf.Genotype(member.sample_id, zygosity)


def _outside_par(family: Family) -> vf.Node:
    name = X_NAME.get(family.assembly, "X")
    pars = PAR.get(family.assembly, ())
    return vf.And(
        (
            vf.Chromosome("X"),
            *(vf.Not(vf.Region(name, start, end)) for start, end in pars),
        )
    )


def mode_label(mode: str, family: Family) -> str:
    """How much evidence the mode had: for compound heterozygous, trio, duo or singleton."""
    if mode != "compound_heterozygous":
        return mode
    parents = sum(family.role(r) is not None for r in ("mother", "father"))
    return f"{mode}:{('singleton', 'duo', 'trio')[parents]}"


def expand(mode: str, family: Family, candidates: vf.Node | None) -> vf.Node:
    """The filter tree of ``mode`` for ``family``; ``candidates`` are the other conditions of
    the analysis's filter (only the compound heterozygous mode needs them)."""
    if mode not in MODES:
        raise InvalidInput(f"unknown inheritance mode {mode!r}; expected one of {MODES}")
    proband = family.proband
    mother, father = family.role("mother"), family.role("father")
    parts: list[vf.Node] = []
    if mode == "de_novo":
        if mother is None or father is None:
            raise InvalidInput("the de novo mode needs the proband's mother and father")
        parts.append(_is(proband, CARRIER))
        autosomal_or_x = vf.And(
            (
                vf.Not(vf.Or((vf.Chromosome("Y"), vf.Chromosome("MT")))),
                _is(mother, NON_CARRIER),
                _is(father, NON_CARRIER),
            )
        )
        on_y = vf.And((vf.Chromosome("Y"), _is(father, NON_CARRIER)))
        on_mt = vf.And((vf.Chromosome("MT"), _is(mother, NON_CARRIER)))
        parts.append(vf.Or((autosomal_or_x, on_y, on_mt)))
        # An unaffected sibling who carries it too points to a parent's call or mosaicism,
        # not a new mutation of the proband (a sibling's missing call does not exclude).
        parts += [_is(m, NO_ALT_COPY) for m in family.unaffected_siblings()]
    elif mode == "autosomal_dominant":
        parts += [vf.Chromosome("autosome"), _is(proband, HET)]
        parts += [_is(m, CARRIER) for m in family.affected() if m is not proband]
        parts += [_is(m, NON_CARRIER) for m in family.unaffected()]
    elif mode == "autosomal_recessive":
        parts += [vf.Chromosome("autosome"), _is(proband, ("hom_alt",))]
        parts += [_is(m, ("hom_alt",)) for m in family.affected() if m is not proband]
        for m in family.unaffected():
            parent = m is mother or m is father
            parts.append(_is(m, HET if parent else NOT_HOM_ALT))
    elif mode == "compound_heterozygous":
        # Two copies of the gene: not on Y or MT, nor on a male's X outside the PARs (a 'het'
        # call there is an artefact, or heteroplasmy)
        haploid: list[vf.Node] = [vf.Chromosome("Y"), vf.Chromosome("MT")]
        if proband.sex == 1:
            haploid.append(_outside_par(family))
        diploid = vf.Not(vf.Or(tuple(haploid)))
        return vf.CompoundHet(
            diploid if candidates is None else vf.And((diploid, candidates)),
            proband.sample_id,
            mother.sample_id if mother else None,
            father.sample_id if father else None,
            tuple(m.sample_id for m in family.unaffected_siblings()),
        )
    elif mode == "x_linked_recessive":
        parts.append(_outside_par(family))
        for m in family.affected():
            parts.append(_is(m, _x_affected(m)))
        if proband.affected != 2:
            parts.append(_is(proband, _x_affected(proband)))
        for m in family.unaffected():
            if m is mother:
                parts.append(_is(m, HET))
            elif m.sex == 1:
                parts.append(_is(m, NON_CARRIER))
            else:
                parts.append(_is(m, NOT_HOM_ALT))
    elif mode == "x_linked_dominant":
        parts.append(_outside_par(family))
        parts.append(_is(proband, CARRIER))
        parts += [_is(m, CARRIER) for m in family.affected() if m is not proband]
        parts += [_is(m, NON_CARRIER) for m in family.unaffected()]
    else:  # mitochondrial
        parts += [vf.Chromosome("MT"), _is(proband, CARRIER)]
        parts += [_is(m, CARRIER) for m in family.affected() if m is not proband]
    return vf.And(tuple(parts))


def _x_affected(member: Member) -> tuple[str, ...]:
    if member.sex == 1:
        return MALE_CARRIER
    if member.sex == 2:
        return ("hom_alt",)
    return MALE_CARRIER  # unknown sex: a single ALT copy (or two) on X


def members_condition(
    family: Family, which: str, quantifier: str, zygosity: tuple[str, ...]
) -> vf.Node:
    """``any``/``all`` of the affected (or unaffected) members have one of ``zygosity``."""
    group = family.affected() if which == "affected" else family.unaffected()
    if not group:
        raise InvalidInput(f"the analysis has no {which} member")
    tests = tuple(_is(m, zygosity) for m in group)
    return vf.And(tests) if quantifier == "all" else vf.Or(tests)

"""Sequence Ontology consequence terms, their severity rank and IMPACT class.

Annotators disagree on vocabulary (old SnpEff effect names, bcftools' short names) and some omit
the impact (bcftools csq, minimal VEP ``--fields``), so every consequence is brought to the SO term
Ensembl uses and its impact taken from Ensembl's table of calculated consequences. A term this
table does not know is kept as written but never decides the worst consequence or impact when a
known term exists, so a new annotator release cannot silently hide a HIGH impact variant.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

IMPACT_ORDER: tuple[str, ...] = ("HIGH", "MODERATE", "LOW", "MODIFIER")  # most severe first
# The stored code of each impact (worst_impact smallint): higher is more severe.
IMPACT_CODES = {"MODIFIER": 0, "LOW": 1, "MODERATE": 2, "HIGH": 3}
_IMPACT_RANK = {impact: rank for rank, impact in enumerate(IMPACT_ORDER)}

# Ensembl's calculated consequences, most severe first.
_ENSEMBL_TERMS: tuple[tuple[str, str], ...] = (
    ("transcript_ablation", "HIGH"),
    ("splice_acceptor_variant", "HIGH"),
    ("splice_donor_variant", "HIGH"),
    ("stop_gained", "HIGH"),
    ("frameshift_variant", "HIGH"),
    ("stop_lost", "HIGH"),
    ("start_lost", "HIGH"),
    ("transcript_amplification", "HIGH"),
    ("feature_elongation", "HIGH"),
    ("feature_truncation", "HIGH"),
    ("inframe_insertion", "MODERATE"),
    ("inframe_deletion", "MODERATE"),
    ("missense_variant", "MODERATE"),
    ("protein_altering_variant", "MODERATE"),
    ("splice_donor_5th_base_variant", "LOW"),
    ("splice_region_variant", "LOW"),
    ("splice_donor_region_variant", "LOW"),
    ("splice_polypyrimidine_tract_variant", "LOW"),
    ("incomplete_terminal_codon_variant", "LOW"),
    ("start_retained_variant", "LOW"),
    ("stop_retained_variant", "LOW"),
    ("synonymous_variant", "LOW"),
    ("coding_sequence_variant", "MODIFIER"),
    ("mature_miRNA_variant", "MODIFIER"),
    ("5_prime_UTR_variant", "MODIFIER"),
    ("3_prime_UTR_variant", "MODIFIER"),
    ("non_coding_transcript_exon_variant", "MODIFIER"),
    ("intron_variant", "MODIFIER"),
    ("NMD_transcript_variant", "MODIFIER"),
    ("non_coding_transcript_variant", "MODIFIER"),
    ("coding_transcript_variant", "MODIFIER"),
    ("upstream_gene_variant", "MODIFIER"),
    ("downstream_gene_variant", "MODIFIER"),
    ("TFBS_ablation", "MODIFIER"),
    ("TFBS_amplification", "MODIFIER"),
    ("TF_binding_site_variant", "MODIFIER"),
    ("regulatory_region_ablation", "MODERATE"),
    ("regulatory_region_amplification", "MODIFIER"),
    ("regulatory_region_variant", "MODIFIER"),
    ("intergenic_variant", "MODIFIER"),
    ("sequence_variant", "MODIFIER"),
)
CONSEQUENCE_RANK: dict[str, int] = {term: rank for rank, (term, _) in enumerate(_ENSEMBL_TERMS)}
_IMPACT = dict(_ENSEMBL_TERMS)

# Synonyms written by SnpEff (ANN) for terms Ensembl names differently.
_SYNONYMS = {
    "intergenic_region": "intergenic_variant",
    "5_prime_UTR_premature_start_codon_gain_variant": "5_prime_UTR_variant",
    "conservative_inframe_insertion": "inframe_insertion",
    "disruptive_inframe_insertion": "inframe_insertion",
    "conservative_inframe_deletion": "inframe_deletion",
    "disruptive_inframe_deletion": "inframe_deletion",
    "exon_loss_variant": "transcript_ablation",
    "non_coding_exon_variant": "non_coding_transcript_exon_variant",
    "non_coding_transcript_exon": "non_coding_transcript_exon_variant",
}

# Old SnpEff EFF effect names -> SO terms.
EFF_TO_SO = {
    "INTERGENIC": "intergenic_variant",
    "INTERGENIC_CONSERVED": "intergenic_variant",
    "UPSTREAM": "upstream_gene_variant",
    "DOWNSTREAM": "downstream_gene_variant",
    "UTR_5_PRIME": "5_prime_UTR_variant",
    "UTR_5_DELETED": "5_prime_UTR_variant",
    "UTR_3_PRIME": "3_prime_UTR_variant",
    "UTR_3_DELETED": "3_prime_UTR_variant",
    "START_GAINED": "5_prime_UTR_premature_start_codon_gain_variant",
    "SPLICE_SITE_ACCEPTOR": "splice_acceptor_variant",
    "SPLICE_SITE_DONOR": "splice_donor_variant",
    "SPLICE_SITE_REGION": "splice_region_variant",
    "SPLICE_SITE_BRANCH": "splice_region_variant",
    "SPLICE_SITE_BRANCH_U12": "splice_region_variant",
    "INTRON": "intron_variant",
    "INTRON_CONSERVED": "intron_variant",
    "INTRAGENIC": "intragenic_variant",
    "EXON": "non_coding_transcript_exon_variant",
    "EXON_DELETED": "exon_loss_variant",
    "TRANSCRIPT": "transcript_variant",
    "GENE": "gene_variant",
    "CDS": "coding_sequence_variant",
    "NON_SYNONYMOUS_CODING": "missense_variant",
    "SYNONYMOUS_CODING": "synonymous_variant",
    "START_LOST": "start_lost",
    "NON_SYNONYMOUS_START": "initiator_codon_variant",
    "SYNONYMOUS_START": "start_retained_variant",
    "STOP_GAINED": "stop_gained",
    "STOP_LOST": "stop_lost",
    "SYNONYMOUS_STOP": "stop_retained_variant",
    "NON_SYNONYMOUS_STOP": "stop_lost",
    "FRAME_SHIFT": "frameshift_variant",
    "CODON_CHANGE": "coding_sequence_variant",
    "CODON_INSERTION": "inframe_insertion",
    "CODON_CHANGE_PLUS_CODON_INSERTION": "inframe_insertion",
    "CODON_DELETION": "inframe_deletion",
    "CODON_CHANGE_PLUS_CODON_DELETION": "inframe_deletion",
    "RARE_AMINO_ACID": "protein_altering_variant",
    "REGULATION": "regulatory_region_variant",
    "MOTIF": "TF_binding_site_variant",
    "MICRO_RNA": "mature_miRNA_variant",
}

# bcftools csq short names -> SO terms.
BCSQ_TO_SO = {
    "intergenic": "intergenic_variant",
    "intron": "intron_variant",
    "non_coding": "non_coding_transcript_variant",
    "5_prime_utr": "5_prime_UTR_variant",
    "3_prime_utr": "3_prime_UTR_variant",
    "splice_region": "splice_region_variant",
    "splice_donor": "splice_donor_variant",
    "splice_acceptor": "splice_acceptor_variant",
    "synonymous": "synonymous_variant",
    "missense": "missense_variant",
    "stop_gained": "stop_gained",
    "stop_lost": "stop_lost",
    "start_lost": "start_lost",
    "stop_retained": "stop_retained_variant",
    "start_retained": "start_retained_variant",
    "frameshift": "frameshift_variant",
    "inframe_deletion": "inframe_deletion",
    "inframe_insertion": "inframe_insertion",
    "inframe_altering": "protein_altering_variant",
    "coding_sequence": "coding_sequence_variant",
    "feature_elongation": "feature_elongation",
    "upstream": "upstream_gene_variant",
    "downstream": "downstream_gene_variant",
}


def canonical_term(term: str) -> str:
    return _SYNONYMS.get(term, term)


def impact_of(term: str) -> str | None:
    """IMPACT class of an SO consequence term, None when the term is unknown."""
    return _IMPACT.get(_SYNONYMS.get(term, term))


def worst_consequence(terms: Iterable[str]) -> str | None:
    """The most severe term by Ensembl's rank; an unknown term wins only when all are unknown."""
    worst: str | None = None
    worst_rank = len(_ENSEMBL_TERMS)
    first_unknown: str | None = None
    for term in terms:
        rank = CONSEQUENCE_RANK.get(_SYNONYMS.get(term, term))
        if rank is None:
            first_unknown = first_unknown or term
        elif rank < worst_rank:
            worst, worst_rank = term, rank
    return worst if worst is not None else first_unknown


def worst_impact(impacts: Iterable[str | None]) -> str | None:
    """Most severe of several impact classes; None and unknown values are ignored."""
    best = len(IMPACT_ORDER)
    for impact in impacts:
        if impact is not None:
            best = min(best, _IMPACT_RANK.get(impact, best))
    return IMPACT_ORDER[best] if best < len(IMPACT_ORDER) else None


def known_term(term: str) -> bool:
    """Whether ``term`` is an SO consequence of the table (or a synonym of one), as written."""
    return _SYNONYMS.get(term, term) in CONSEQUENCE_RANK


def annotator_impact(text: str | None) -> str | None:
    """The IMPACT an annotator wrote, in the table's case ('high' is HIGH); None for a word the
    table does not know, so that the terms decide (it once left the variant without one)."""
    if not text:
        return None
    upper = text.upper()
    return upper if upper in IMPACT_CODES else None


def impact_of_terms(terms: Iterable[str]) -> str | None:
    """Impact of a list of consequences (worst known one), for annotators that give none."""
    return _impact_of_terms(tuple(terms))


@lru_cache(maxsize=4096)
def _impact_of_terms(terms: tuple[str, ...]) -> str | None:
    return worst_impact(impact_of(t) for t in terms)


def _spellings() -> dict[str, str]:
    """Every way a query may name a consequence, lower-cased -> the term as it is stored."""
    names = {term.lower(): term for term in CONSEQUENCE_RANK}
    for short, so in (*EFF_TO_SO.items(), *BCSQ_TO_SO.items()):
        names.setdefault(so.lower(), so)  # stored as such, if outside the table (gene_variant)
        names.setdefault(short.lower(), so)
    names |= {synonym.lower(): synonym for synonym in _SYNONYMS}
    return names


_QUERY_NAMES = _spellings()


def stored_spellings(term: str) -> tuple[str, ...] | None:
    """The terms stored for a consequence a query names, whatever the case or the annotator's
    short name (bcftools 'missense', SnpEff EFF 'NON_SYNONYMOUS_CODING'). An SO term of the
    table brings the SnpEff synonyms that mean it ('inframe_insertion' finds the
    'disruptive_inframe_insertion' SnpEff wrote); a synonym asked is that term alone. None for a
    term Regovar does not know."""
    stored = _QUERY_NAMES.get(term.lower())
    if stored is None:
        return None
    if stored not in CONSEQUENCE_RANK:
        return (stored,)
    return (stored, *sorted(s for s, target in _SYNONYMS.items() if target == stored))

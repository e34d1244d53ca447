"""SnpEff annotations: ``ANN`` (SnpEff >= 4.1) and the older ``EFF``.

ANN names its allele as written in ALT, so an entry is attached by exact match and dropped when
the record has no such ALT (typically a record split after annotation that still lists the
sibling allele). EFF gives a 1-based ALT number instead and uses SnpEff's own effect names, which
are translated to SO terms so that filters work the same whichever annotator ran.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from regovar.adapters.vcf.consequences import (
    EFF_TO_SO,
    annotator_impact,
    impact_of_terms,
    known_term,
)
from regovar.adapters.vcf.meta import percent_decode
from regovar.adapters.vcf.model import Annotation

ByAlt = dict[int, list[Annotation]]
_NON_ALNUM = re.compile(r"[^a-z0-9]")
_ANN_MAPPED = frozenset(
    {
        "annotation",
        "annotationimpact",
        "genename",
        "geneid",
        "featureid",
        "transcriptbiotype",
        "hgvsc",
        "hgvsp",
        "errorswarningsinfo",
    }
)
_EFF_MAPPED = frozenset(
    {
        "effect",
        "effectimpact",
        "genename",
        "transcriptbiotype",
        "transcriptid",
        "aminoacidchange",
        "errors",
        "warnings",
        "genotypenum",
        "genotypenumber",
    }
)


@lru_cache(maxsize=16)
def _normalised(layout: tuple[str, ...]) -> dict[str, int]:
    return {_NON_ALNUM.sub("", name.lower()): i for i, name in enumerate(layout)}


@lru_cache(maxsize=16)
def _unmapped(layout: tuple[str, ...], mapped: frozenset[str]) -> tuple[tuple[int, str], ...]:
    """(position, declared name) of the sub-fields that go to ``extra``."""
    return tuple(
        (i, name) for i, name in enumerate(layout) if _NON_ALNUM.sub("", name.lower()) not in mapped
    )


def _extra(values: list[str], unmapped: tuple[tuple[int, str], ...]) -> dict[str, str]:
    out = {}
    for i, name in unmapped:
        if i < len(values):
            v = values[i].strip()
            if v:
                out[name] = percent_decode(v)
    return out


def _getter(values: list[str], idx: dict[str, int]) -> Callable[[str], str | None]:
    def get(name: str) -> str | None:
        i = idx.get(name)
        v = values[i].strip() if i is not None and i < len(values) else ""
        return percent_decode(v) if v else None

    return get


def _split_terms(text: str | None) -> list[str]:
    return [t for t in re.split(r"[&+]", text) if t] if text else []


def parse_ann(raw: str, layout: list[str], alts: list[str], out: ByAlt) -> int:
    """Attach ANN entries to their ALT; returns how many named an allele the record lacks."""
    idx = _normalised(tuple(layout))
    by_allele = {a.upper(): i for i, a in enumerate(alts, start=1)}
    allele_at = idx.get("allele", 0)
    dropped = 0
    for entry in raw.split(","):
        values = entry.split("|")
        allele = values[allele_at].strip().upper() if allele_at < len(values) else ""
        alt_index = by_allele.get(allele)
        if alt_index is None:
            dropped += 1
            continue
        if alt_index in out:
            out[alt_index].append(_ann_annotation(values, layout, idx))
    return dropped


def _ann_annotation(values: list[str], layout: list[str], idx: dict[str, int]) -> Annotation:
    get = _getter(values, idx)
    consequences = _split_terms(get("annotation"))
    messages = _split_terms(get("errorswarningsinfo"))
    extra = _extra(values, _unmapped(tuple(layout), _ANN_MAPPED))
    return Annotation(
        source="ANN",
        gene=get("genename"),
        gene_id=get("geneid"),
        feature=get("featureid"),
        biotype=get("transcriptbiotype"),
        consequences=consequences,
        impact=annotator_impact(get("annotationimpact")) or impact_of_terms(consequences),
        hgvsc=get("hgvsc"),
        hgvsp=get("hgvsp"),
        warnings=messages,
        extra=extra,
    )


def parse_eff(raw: str, layout_list: list[str], alts: list[str], out: ByAlt) -> int:
    """Attach ``EFF=EFFECT(impact|...|genotype_number[|errors|warnings])`` entries."""
    layout = tuple(layout_list)
    idx = _normalised(layout)
    gt_at = idx.get("genotypenumber", idx.get("genotypenum"))
    by_allele = {a.upper(): i for i, a in enumerate(alts, start=1)}
    dropped = 0
    for entry in raw.split(","):
        open_at = entry.find("(")
        if open_at < 0:
            continue
        close_at = entry.rfind(")")
        inner = entry[open_at + 1 : close_at if close_at > 0 else None]
        values = [entry[:open_at], *inner.split("|")]
        number = values[gt_at].strip() if gt_at is not None and gt_at < len(values) else ""
        if number.isdigit():  # an ALT's number: 0 or beyond the last names none
            targets = [int(number)] if 1 <= int(number) <= len(alts) else []
        elif number:
            found = by_allele.get(number.upper())
            targets = [found] if found else []
        else:
            targets = list(out)  # no genotype number: it applies to the record as a whole
        if not targets:
            dropped += 1
        for alt_index in targets:
            if alt_index in out:
                out[alt_index].append(_eff_annotation(values, layout, idx))
    return dropped


def _eff_annotation(values: list[str], layout: tuple[str, ...], idx: dict[str, int]) -> Annotation:
    get = _getter(values, idx)
    effects = _split_terms(get("effect"))
    # Newer SnpEff writes SO terms in EFF too ('5_prime_UTR_variant'): kept as written.
    consequences = [e if known_term(e) else EFF_TO_SO.get(e.upper(), e.lower()) for e in effects]
    hgvsc = hgvsp = None
    for part in (get("aminoacidchange") or "").split("/"):
        if part.startswith("p."):
            hgvsp = part
        elif part.startswith(("c.", "n.")):
            hgvsc = part
    messages = _split_terms(get("errors")) + _split_terms(get("warnings"))
    extra = _extra(values, _unmapped(layout, _EFF_MAPPED))
    extra["effect"] = "&".join(effects)
    if get("aminoacidchange") and hgvsp is None:
        extra["amino_acid_change"] = get("aminoacidchange") or ""
    return Annotation(
        source="EFF",
        gene=get("genename"),
        gene_id=None,
        feature=get("transcriptid"),
        biotype=get("transcriptbiotype"),
        consequences=consequences,
        impact=annotator_impact(get("effectimpact")) or impact_of_terms(consequences),
        hgvsc=hgvsc,
        hgvsp=hgvsp,
        warnings=messages,
        extra=extra,
    )

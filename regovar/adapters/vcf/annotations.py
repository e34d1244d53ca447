"""Transcript annotations (VEP CSQ, SnpEff ANN/EFF, bcftools BCSQ) attached to the right ALT.

A multi-allelic record carries the annotations of all its ALTs in one INFO value; after the split
each row must only get its own, otherwise a benign allele inherits a stop_gained. Each annotator
names the allele its own way, so the matching rules live with each parser.
"""

from __future__ import annotations

from regovar.adapters.vcf.bcsq import Consequences, parse_bcsq
from regovar.adapters.vcf.consequences import annotator_impact, impact_of_terms
from regovar.adapters.vcf.meta import percent_decode
from regovar.adapters.vcf.model import Annotation, ImportWarnings
from regovar.adapters.vcf.snpeff import parse_ann, parse_eff

ByAlt = dict[int, list[Annotation]]
_CSQ_MAPPED = {"Consequence", "IMPACT", "SYMBOL", "Gene", "Feature", "BIOTYPE", "HGVSc", "HGVSp"}

# The annotators' columns that Regovar stores under its own keys (the others stay as written,
# under 'extra'): VEP's as written, SnpEff's and bcftools' lower-cased without punctuation.
_CSQ_KEYS = {"Consequence": "consequences", "IMPACT": "impact", "SYMBOL": "gene",
             "Gene": "gene_id", "Feature": "feature", "BIOTYPE": "biotype", "HGVSc": "hgvsc",
             "HGVSp": "hgvsp"}  # fmt: skip
_OTHER_KEYS = {"annotation": "consequences", "annotationimpact": "impact", "genename": "gene",
               "geneid": "gene_id", "featureid": "feature", "transcriptbiotype": "biotype",
               "errorswarningsinfo": "warnings", "effect": "consequences",
               "effectimpact": "impact", "transcriptid": "feature", "consequence": "consequences",
               "transcript": "feature", "hgvsc": "hgvsc", "hgvsp": "hgvsp"}  # fmt: skip


def stored_key(name: str) -> str | None:
    """The key Regovar stores a file's annotation column under ('SYMBOL' is 'gene'), or None
    for a column kept as written."""
    return _CSQ_KEYS.get(name) or _OTHER_KEYS.get("".join(c for c in name.lower() if c.isalnum()))


def vep_allele_keys(ref: str, alts: list[str]) -> dict[str, int]:
    """The strings VEP may write in ``Allele`` for each ALT (1-based index), most likely first.

    By default VEP drops the first base shared by REF and every ALT when the record has an indel
    and writes '-' for an empty allele; ``--minimal`` trims each ALT against REF on its own; some
    pipelines write the ALT unchanged. All three are recognised, in that order of preference.
    """
    keys: dict[str, int] = {}
    ref_u = ref.upper()
    ups = [a.upper() for a in alts]
    is_indel = any(len(a) != len(ref_u) for a in ups)
    firsts = {a[:1] for a in [ref_u, *ups] if "*" not in a}
    if is_indel and len(firsts) == 1 and (len(ups) > 1 or ref_u[:1] == ups[0][:1]):
        default = [a if "*" in a else (a[1:] or "-") for a in ups]
    else:
        default = ups
    for candidates in (default, ups, [_minimal(ref_u, a) for a in ups]):
        for index, key in enumerate(candidates, start=1):
            keys.setdefault(key, index)
    for index, alt in enumerate(ups, start=1):  # VEP names symbolic alleles by their SV type
        for name in _SV_NAMES.get(alt.strip("<>").split(":")[0] if alt.startswith("<") else "", ()):
            keys.setdefault(name, index)
    return keys


_SV_NAMES = {
    "DEL": ("DELETION",),
    "DUP": ("DUPLICATION", "TANDEM_DUPLICATION"),
    "INS": ("INSERTION",),
    "INV": ("INVERSION",),
    "CNV": ("COPY_NUMBER_VARIATION",),
}


def _minimal(ref: str, alt: str) -> str:
    if alt.startswith("<") or "[" in alt or "]" in alt or alt == "*":
        return alt
    p = 0
    while p < len(ref) and p < len(alt) and ref[p] == alt[p]:
        p += 1
    r, a = ref[p:], alt[p:]
    s = 0
    while s < len(r) and s < len(a) and r[-1 - s] == a[-1 - s]:
        s += 1
    return (a[: len(a) - s] if s else a) or "-"


class AnnotationParser:
    """Parses the annotation INFO values of one record into annotations per ALT index."""

    def __init__(self, layouts: dict[str, list[str]], warnings: ImportWarnings) -> None:
        self.layouts = layouts
        self.index = {
            key: {name: i for i, name in enumerate(layout)} for key, layout in layouts.items()
        }
        self.warnings = warnings
        self.bcsq_consequences: dict[str, Consequences] = {}

    def parse(
        self,
        raws: dict[str, str],
        ref: str,
        alts: list[str],
        kept: list[int],
        line: int,
        bcsq_masks: list[tuple[int, tuple[int, ...]]] | None = None,
        pos: str = "",
    ) -> ByAlt:
        out: ByAlt = {i: [] for i in kept}
        for key, raw in raws.items():
            if not raw or raw == ".":
                continue
            layout = self.layouts.get(key)
            if layout is None:
                self.warnings.add("annotation_layout", line, f"INFO/{key} has no declared layout")
                continue
            if key == "CSQ":
                dropped = self._csq(raw, layout, ref, alts, out)
            elif key == "ANN":
                dropped = parse_ann(raw, layout, alts, out)
            elif key == "EFF":
                dropped = parse_eff(raw, layout, alts, out)
            else:
                dropped = parse_bcsq(raw, layout, kept, bcsq_masks, out, self.bcsq_consequences,
                                     (pos, ref, alts) if pos else None)  # fmt: skip
            if dropped:
                self.warnings.add(
                    f"{key.lower()}_allele_unmatched",
                    line,
                    f"{key} entries naming an allele absent from ALT were dropped",
                )
        return out

    def _csq(self, raw: str, layout: list[str], ref: str, alts: list[str], out: ByAlt) -> int:
        idx = self.index["CSQ"]
        allele_at, num_at = idx.get("Allele"), idx.get("ALLELE_NUM")
        keys = vep_allele_keys(ref, alts) if allele_at is not None else {}
        real = list(out)
        # VEP names structural alleles by type ('deletion', 'duplication') or oddly for breakends
        single_sv = len(real) == 1 and _is_symbolic(alts[real[0] - 1])
        dropped = 0
        for entry in raw.split(","):
            values = entry.split("|")
            targets = _csq_targets(values, allele_at, num_at, keys, real, single_sv, len(alts))
            if targets is None:
                dropped += 1
                continue
            for alt_index in targets:
                if alt_index in out:
                    out[alt_index].append(_csq_annotation(values, layout, idx))
        return dropped


def _csq_targets(
    values: list[str],
    allele_at: int | None,
    num_at: int | None,
    keys: dict[str, int],
    real: list[int],
    single_sv: bool,
    n_alts: int,
) -> list[int] | None:
    """ALT indexes an entry belongs to; None when it names an allele the record does not have.

    ALLELE_NUM decides, unless the entry's Allele (made of bases) is none of this record's:
    in a file split after annotation (``bcftools norm -m -``) every line carries the whole
    record's entries, numbered for the whole record (C>T got C>A's entry, numbered 1). A
    number that is no ALT of the record (0, or beyond the last) leaves it to the Allele."""
    allele = values[allele_at].upper() if allele_at is not None and allele_at < len(values) else ""
    if num_at is not None and num_at < len(values) and values[num_at].isdigit():
        number = int(values[num_at])
        named = not allele.strip(ALLELE_BASES) and not single_sv  # bases, checkable
        if 1 <= number <= n_alts and (not named or allele in keys):
            return [number]
        if named and allele not in keys:
            return None  # another record's allele
    if allele_at is None:
        return real  # no Allele sub-field: VEP annotated every ALT alike
    index = keys.get(allele)
    if index is not None:
        return [index]
    return real if single_sv else None


ALLELE_BASES = "ACGTN*-"  # what an Allele made of bases holds (the columnar parser too)


def _is_symbolic(alt: str) -> bool:
    return alt.startswith("<") or "[" in alt or "]" in alt or "." in alt


def _csq_annotation(values: list[str], layout: list[str], idx: dict[str, int]) -> Annotation:
    def get(name: str) -> str | None:
        i = idx.get(name)
        v = values[i] if i is not None and i < len(values) else ""
        return percent_decode(v) if v else None

    terms = get("Consequence")
    consequences = terms.split("&") if terms else []
    extra = {
        name: percent_decode(v)
        for name, v in zip(layout, values, strict=False)
        if v and name not in _CSQ_MAPPED
    }
    return Annotation(
        source="CSQ",
        gene=get("SYMBOL"),
        gene_id=get("Gene"),
        feature=get("Feature"),
        biotype=get("BIOTYPE"),
        consequences=consequences,
        impact=annotator_impact(get("IMPACT")) or impact_of_terms(consequences),
        hgvsc=get("HGVSc"),
        hgvsp=get("HGVSp"),
        extra=extra,
    )

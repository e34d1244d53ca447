"""Annotations of the ordinary records (VEP CSQ, SnpEff ANN, bcftools BCSQ), see columnar.py.

The rules are those of annotations.py, snpeff.py and bcsq.py for a one-ALT record: every entry
belongs to the ALT (an entry naming another allele leaves its record to the general parser,
which warns), sub-fields are read by the declared layout, consequences are split and brought to
SO terms, and the per-variant summary (genes, consequences, worst consequence and impact) is
the one ``summarize`` computes. The per-entry JSON is the general encoder's, key for key.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import polars as pl

from regovar.adapters.vcf.annotations import ALLELE_BASES
from regovar.adapters.vcf.bcsq import _CHANGE, _positions, _translate
from regovar.adapters.vcf.consequences import IMPACT_CODES, impact_of_terms, worst_consequence

SOURCES = ("CSQ", "ANN", "BCSQ")
DOWNSTREAM_OF_STOP = '"downstream_of_stop":"true"'  # a BCSQ '*' entry's, in its extra
_SEP = "\x1f"  # joins terms in one string (control characters never reach this path)
# The escapes percent_decode turns into characters that need no JSON escaping; any other '%'
# leaves the record to the general parser.
_DECODED = {"3A": ":", "3B": ";", "3D": "=", "2C": ",", "7C": "|"}
_PERCENT = "%(3[ABDabd]|2[Cc]|7[Cc])"
_CSQ_MAPPED = {"Consequence", "IMPACT", "SYMBOL", "Gene", "Feature", "BIOTYPE", "HGVSc", "HGVSp"}
_ANN_MAPPED = {"annotation", "annotationimpact", "genename", "geneid", "featureid",
               "transcriptbiotype", "hgvsc", "hgvsp", "errorswarningsinfo"}  # fmt: skip
_NON_ALNUM = re.compile(r"[^a-z0-9]")
_SUMMARY: dict[str, pl.DataType] = {"genes": pl.List(pl.String), "consequences": pl.List(pl.String),
            "worst_consequence": pl.String(), "worst_impact": pl.Int16(),
            "transcripts": pl.String()}  # fmt: skip


def annotate(df: pl.DataFrame, layouts: dict[str, list[str] | None]) -> pl.DataFrame:
    """Adds the summary columns and ``transcripts`` (JSON text) from ``ann_key``/``ann_raw``;
    clears ``ok`` where the general parser must read the annotations."""
    has = pl.col("ann_raw").is_not_null() & ~pl.col("ann_raw").is_in([".", ""])
    pieces, bad = [], []
    for key in SOURCES:
        layout = layouts.get(key)
        rows = df.filter(pl.col("ok") & has & (pl.col("ann_key") == key))
        if rows.is_empty():
            continue
        if not layout or not _plain_names(layout):
            bad.append(rows.select("line"))
            continue
        entries = _entries(rows, key, layout)
        bad.append(entries.filter(~pl.col("entry_ok")).select("line").unique())
        pieces.append(entries)
    summary = _summary(pl.concat(pieces, how="diagonal_relaxed") if pieces else None)
    out = (
        df.join(summary, on="line", how="left")
        if summary is not None
        else df.with_columns(*(pl.lit(None, dtype=t).alias(n) for n, t in _SUMMARY.items()))
    )
    if bad:
        lines = pl.concat(bad)["line"]
        out = out.with_columns((pl.col("ok") & ~pl.col("line").is_in(lines.implode())).alias("ok"))
    return out.drop("ann_key", "ann_raw")


def _plain_names(layout: list[str]) -> bool:
    """Sub-field names that can be JSON keys as written, each once."""
    return len(set(layout)) == len(layout) and not any(
        '"' in n or "\\" in n or any(ord(c) < 32 for c in n) for n in layout
    )


def _entries(rows: pl.DataFrame, key: str, layout: list[str]) -> pl.DataFrame:
    raw = pl.col("ann_raw")
    clean = raw.str.replace_all(_PERCENT, "").str.contains("%", literal=True).not_()
    frame = rows.select(
        "line", "pos", "ref", "alt", clean.alias("clean"),
        raw.str.contains(r"\s").alias("spaces"), raw.str.split(",").alias("entry"),
    ).explode("entry")  # fmt: skip
    fields = _Fields(bool(rows["ann_raw"].str.contains("%", literal=True).any()))
    if key == "BCSQ":
        return _bcsq(frame, layout, fields)
    if key == "CSQ":
        return _csq(frame, layout, fields)
    return _ann(frame, layout, fields)


class _Fields:
    """Reads the sub-fields of ``values`` (an entry split on '|'); ``percent`` says whether any
    entry of the source has a '%' (without one, decoding is skipped)."""

    def __init__(self, percent: bool) -> None:
        self.percent = percent

    def get(self, at: int | None, decode: bool = True) -> pl.Expr:
        """Sub-field ``at``, percent-decoded; null when absent or empty."""
        if at is None:
            return pl.lit(None, dtype=pl.String)
        v = pl.col("values").list.get(at, null_on_oob=True)
        return pl.when(v == "").then(None).otherwise(self._decode(v) if decode else v)

    def extra(self, named: list[tuple[int, str]]) -> pl.Expr:
        """The sub-fields without a column of their own, as JSON members."""
        pieces = [pl.format('"{}":"{}"', pl.lit(name), self.get(i)) for i, name in named]
        if not pieces:
            return pl.lit(None, dtype=pl.String)
        joined = pl.concat_str(pieces, separator=",", ignore_nulls=True)
        return pl.when(joined == "").then(None).otherwise(joined)  # none of them: null

    def _decode(self, expr: pl.Expr) -> pl.Expr:
        if not self.percent:
            return expr
        for code, char in _DECODED.items():
            expr = expr.str.replace_all("%" + code, char, literal=True)
            expr = expr.str.replace_all("%" + code.lower(), char, literal=True)
        return expr


def _terms_map(
    texts: pl.Series, split: Callable[[str], list[str]]
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Per distinct consequence text: SO terms joined by _SEP, the impact from the terms, and
    the texts with an empty term (left to the general parser)."""
    terms, impacts, odd = {}, {}, []
    for text in texts.unique().drop_nulls().to_list():
        found = split(text)
        terms[text] = _SEP.join(found)
        impacts[text] = impact_of_terms(found) or ""
        if "" in found:
            odd.append(text)
    return terms, impacts, odd


def _bcsq(frame: pl.DataFrame, layout: list[str], f: _Fields) -> pl.DataFrame:
    at = _positions(tuple(layout))
    frame = frame.filter((pl.col("entry") != "") & ~pl.col("entry").str.starts_with("@"))
    star = pl.col("entry").str.starts_with("*")
    values = pl.when(star).then(pl.col("entry").str.slice(1)).otherwise(pl.col("entry"))
    frame = frame.with_columns(star.alias("star"), values.str.split("|").alias("values"))
    v = pl.col("values")
    consequence = v.list.get(at[0], null_on_oob=True).fill_null("")
    texts = frame.select(consequence.alias("c"))["c"].unique().to_list()
    translated = {t: _translate(t, {}) for t in texts}
    terms = {t: _SEP.join(found) for t, (found, _) in translated.items()}
    impacts = {t: impact or "" for t, (_, impact) in translated.items()}
    extra = f.extra([(4 + i, name) for i, name in enumerate(layout[4:])])
    extra = pl.when(pl.col("star")).then(pl.concat_str(
        [extra, pl.lit(DOWNSTREAM_OF_STOP)], separator=",", ignore_nulls=True,
    )).otherwise(extra)  # fmt: skip
    entry_ok = pl.col("clean")
    if "dna_change" in layout:  # a substitution of another ALT here: bcsq.named_alt says 0
        change = v.list.get(layout.index("dna_change"), null_on_oob=True)
        part = change.str.extract_groups(f"^{_CHANGE.pattern}$").struct.field
        other = (
            (part("1") == pl.col("pos")) & (part("2") == pl.col("ref").str.to_uppercase())
            & (part("2").str.len_bytes() == part("3").str.len_bytes())
            & (part("3") != pl.col("alt").str.to_uppercase())
        )  # fmt: skip
        entry_ok = entry_ok & ~other.fill_null(False)
    return frame.select(
        "line", entry_ok.alias("entry_ok"), pl.lit("BCSQ").alias("source"),
        f.get(at[1]).alias("gene"), pl.lit(None, dtype=pl.String).alias("gene_id"),
        f.get(at[2], decode=False).alias("feature"),
        f.get(at[3], decode=False).alias("biotype"),
        consequence.replace_strict(terms, return_dtype=pl.String).alias("terms"),
        consequence.replace_strict(impacts, return_dtype=pl.String).alias("impact"),
        pl.lit(None, dtype=pl.String).alias("hgvsc"), pl.lit(None, dtype=pl.String).alias("hgvsp"),
        pl.lit(None, dtype=pl.String).alias("warnings"), extra.alias("extra"),
    )  # fmt: skip


def _csq(frame: pl.DataFrame, layout: list[str], f: _Fields) -> pl.DataFrame:
    idx = {name: i for i, name in enumerate(layout)}
    frame = frame.with_columns(pl.col("entry").str.split("|").alias("values"))
    v = pl.col("values")
    ok = pl.col("clean")
    if "ALLELE_NUM" in idx:
        ok = ok & (v.list.get(idx["ALLELE_NUM"], null_on_oob=True) == "1").fill_null(False)
        if "Allele" in idx:  # bases of another record's allele (a file split after VEP)
            written = v.list.get(idx["Allele"], null_on_oob=True).str.to_uppercase()
            other = written.str.contains(f"^[{re.escape(ALLELE_BASES)}]+$") & ~written.is_in(
                pl.concat_list(_vep_alleles()))  # fmt: skip
            ok = ok & ~other.fill_null(False)
    elif "Allele" in idx:
        allele = v.list.get(idx["Allele"], null_on_oob=True).str.to_uppercase()
        ok = ok & allele.is_in(pl.concat_list(_vep_alleles())).fill_null(False)
    consequence = f.get(idx.get("Consequence"))
    terms, impacts, odd = _terms_map(
        frame.select(consequence.alias("c"))["c"], lambda t: t.split("&")
    )
    ok = ok & ~consequence.is_in(odd).fill_null(False)
    named = [(i, n) for i, n in enumerate(layout) if n not in _CSQ_MAPPED]
    names = ("SYMBOL", "Gene", "Feature", "BIOTYPE", "IMPACT", "HGVSc", "HGVSp")
    return frame.select(
        "line", ok.alias("entry_ok"), pl.lit("CSQ").alias("source"),
        *_entry_columns(f, [idx.get(n) for n in names], consequence, terms, impacts),
        pl.lit(None, dtype=pl.String).alias("warnings"), f.extra(named).alias("extra"),
    )  # fmt: skip


def _entry_columns(
    f: _Fields, at: list[int | None], consequence: pl.Expr, terms: dict[str, str],
    impacts: dict[str, str],
) -> list[pl.Expr]:
    """gene, gene_id, feature, biotype, terms, impact (the annotator's, else from the terms),
    hgvsc, hgvsp of a CSQ or ANN entry; ``at``: where the sub-fields are, in that order
    (impact before hgvsc)."""
    gene, gene_id, feature, biotype, impact, hgvsc, hgvsp = (f.get(i) for i in at)
    return [
        gene.alias("gene"), gene_id.alias("gene_id"), feature.alias("feature"),
        biotype.alias("biotype"),
        consequence.replace_strict(terms, default=None, return_dtype=pl.String).alias("terms"),
        pl.coalesce(_annotator_impact(impact), consequence.replace_strict(
            impacts, default="", return_dtype=pl.String)).alias("impact"),
        hgvsc.alias("hgvsc"), hgvsp.alias("hgvsp"),
    ]  # fmt: skip


def _annotator_impact(impact: pl.Expr) -> pl.Expr:
    """consequences.annotator_impact: the table's case, null for a word it does not know."""
    upper = impact.str.to_uppercase()
    return pl.when(upper.is_in(list(IMPACT_CODES))).then(upper).otherwise(None)


def _vep_alleles() -> list[pl.Expr]:
    """The names VEP may give the ALT of a one-ALT record whose REF or ALT is one base
    (annotations.vep_allele_keys for that case): as written, VEP's default, --minimal."""
    ref, alt = pl.col("ref").str.to_uppercase(), pl.col("alt").str.to_uppercase()
    first = ref.str.slice(0, 1) == alt.str.slice(0, 1)
    last = ref.str.slice(-1, 1) == alt.str.slice(-1, 1)
    rest = pl.when(alt.str.len_bytes() > 1).then(alt.str.slice(1)).otherwise(pl.lit("-"))
    head = alt.str.slice(0, alt.str.len_bytes() - 1)
    default = pl.when(first & (ref.str.len_bytes() != alt.str.len_bytes())).then(rest)
    minimal = (
        pl.when(first).then(rest)
        .when(last).then(pl.when(head == "").then(pl.lit("-")).otherwise(head))
        .otherwise(alt)
    )  # fmt: skip
    return [alt, default.otherwise(alt), minimal]


def _ann(frame: pl.DataFrame, layout: list[str], f: _Fields) -> pl.DataFrame:
    idx = {_NON_ALNUM.sub("", name.lower()): i for i, name in enumerate(layout)}
    frame = frame.with_columns(pl.col("entry").str.split("|").alias("values"))
    v = pl.col("values")
    allele = v.list.get(idx.get("allele", 0), null_on_oob=True).str.to_uppercase()
    ok = pl.col("clean") & ~pl.col("spaces") & (allele == pl.col("alt").str.to_uppercase())
    consequence = f.get(idx.get("annotation"))
    messages = f.get(idx.get("errorswarningsinfo"))
    terms, impacts, _ = _terms_map(frame.select(consequence.alias("c"))["c"], _split_terms)
    named = [(i, n) for i, n in enumerate(layout)
             if _NON_ALNUM.sub("", n.lower()) not in _ANN_MAPPED]  # fmt: skip
    names = ("genename", "geneid", "featureid", "transcriptbiotype", "annotationimpact", "hgvsc",
             "hgvsp")  # fmt: skip
    return frame.select(
        "line", ok.fill_null(False).alias("entry_ok"), pl.lit("ANN").alias("source"),
        *_entry_columns(f, [idx.get(n) for n in names], consequence, terms, impacts),
        messages.str.replace_all("+", "&", literal=True).str.split("&")
        .list.eval(pl.element().filter(pl.element() != "")).list.join(_SEP).alias("warnings"),
        f.extra(named).alias("extra"),
    )  # fmt: skip


def _split_terms(text: str) -> list[str]:
    return [t for t in re.split(r"[&+]", text) if t]


def _json_list(joined: pl.Expr) -> pl.Expr:
    """'a<SEP>b' -> '["a","b"]'; null for no item (the general encoder leaves empty lists out)."""
    return (
        pl.when(joined.is_null() | (joined == ""))
        .then(None)
        .otherwise(pl.format('["{}"]', joined.str.replace_all(_SEP, '","', literal=True)))
    )


def _summary(entries: pl.DataFrame | None) -> pl.DataFrame | None:
    if entries is None or entries.is_empty():
        return None
    impact = pl.when(pl.col("impact") == "").then(None).otherwise(pl.col("impact"))
    entries = entries.with_columns(impact.alias("impact"))
    # The general parser writes an empty consequence list for a missing text; BCSQ always
    # has one (possibly empty) string of terms.
    obj = pl.concat_str([
        pl.format('"source":"{}"', pl.col("source")),
        pl.format('"gene":"{}"', pl.col("gene")),
        pl.format('"gene_id":"{}"', pl.col("gene_id")),
        pl.format('"feature":"{}"', pl.col("feature")),
        pl.format('"biotype":"{}"', pl.col("biotype")),
        pl.format('"consequences":{}', _json_list(pl.col("terms"))),
        pl.format('"impact":"{}"', pl.col("impact")),
        pl.format('"hgvsc":"{}"', pl.col("hgvsc")),
        pl.format('"hgvsp":"{}"', pl.col("hgvsp")),
        pl.format('"warnings":{}', _json_list(pl.col("warnings"))),
        pl.format('"extra":{{{}}}', pl.when(pl.col("extra") == "").then(None)
                  .otherwise(pl.col("extra"))),
    ], separator=",", ignore_nulls=True)  # fmt: skip
    # A bcftools consequence downstream of a stop ('*missense') describes no protein change
    # of its own: kept on its transcript, not counted in the variant's consequences or impact.
    downstream = (pl.col("source") == "BCSQ") & pl.col("extra").str.contains(
        DOWNSTREAM_OF_STOP, literal=True).fill_null(False)  # fmt: skip
    code = pl.when(downstream).then(None).otherwise(
        pl.col("impact").replace_strict(IMPACT_CODES, default=-1, return_dtype=pl.Int16))
    terms = pl.when(downstream).then(pl.lit("")).otherwise(pl.col("terms").fill_null(""))
    grouped = entries.with_columns(
        pl.format("{{{}}}", obj).alias("obj"), code.fill_null(-1).alias("code")
    ).group_by("line", maintain_order=True).agg(
        pl.format("[{}]", pl.col("obj").str.join(",")).alias("transcripts"),
        pl.col("gene"),
        terms.filter(terms != "").str.join(_SEP).alias("terms"),
        pl.col("code").max().alias("code"),
    )  # fmt: skip
    none = pl.lit([], dtype=pl.List(pl.String))
    grouped = grouped.with_columns(
        pl.col("gene").list.drop_nulls().list.unique().list.sort().alias("genes"),
        pl.when(pl.col("terms") == "").then(none)
        .otherwise(pl.col("terms").str.split(_SEP).list.unique().list.sort())
        .alias("consequences"),
    )  # fmt: skip
    sets = grouped["consequences"].list.join(_SEP).unique().to_list()
    worst = {s: worst_consequence(s.split(_SEP) if s else []) for s in sets}
    return grouped.select(
        "line", "genes", "consequences",
        pl.col("consequences").list.join(_SEP).replace_strict(
            worst, default=None, return_dtype=pl.String).alias("worst_consequence"),
        pl.when(pl.col("code") >= 0).then(pl.col("code")).otherwise(None).cast(pl.Int16)
        .alias("worst_impact"),
        "transcripts",
    )  # fmt: skip

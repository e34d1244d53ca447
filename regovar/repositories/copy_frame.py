"""COPY text of the rows parsed by the columnar parser (adapters/vcf/columnar.py).

The lines are those :func:`variant_store._call_line` writes for the same rows, built a column
at a time; only the variant key (an MD5) is computed per row in Python.
"""

from __future__ import annotations

import hashlib

import polars as pl

NULL = "\\N"
_md5 = hashlib.md5


def _numbers(column: str) -> pl.Expr:
    """A fixed-size array column (one value per sample) as array text, NULL elements allowed;
    one expression, evaluated with the rest of the line (each separate operation on a column
    costs polars a query of its own)."""
    c = pl.col(column)
    items = c.arr.to_list().list.eval(pl.element().cast(pl.String).fill_null("NULL"))
    return pl.when(c.is_null()).then(None).otherwise(pl.format("{{{}}}", items.list.join(",")))


def _quoted(column: str) -> pl.Expr:
    """An array of strings written as they are (GTs: no quote, backslash or comma in them)."""
    return pl.format('{{"{}"}}', pl.col(column).arr.join('","'))


def _texts(column: str) -> pl.Expr:
    """An array of strings without quotes or backslashes (the columnar parser's guarantee)."""
    c = pl.col(column)
    return (
        pl.when(c.list.len() == 0).then(pl.lit("{}"))
        .otherwise(pl.format('{{"{}"}}', c.list.join('","')))
    )  # fmt: skip


def encode_frame(
    frame: pl.DataFrame, import_id: int, assembly: int, ranks: dict[str, int]
) -> tuple[bytes, bytes]:
    """(calls, transcripts) COPY payloads; ``ranks`` gives the chromosome rank of each name."""
    if frame.is_empty():
        return b"", b""
    texts = frame.select(
        pl.format(f"{assembly}:{{}}:{{}}:{{}}:{{}}", "chrom", "pos", "ref", "alt")
    ).to_series()
    keys = pl.Series(
        "vkey", ["\\\\x" + _md5(t.encode(), usedforsecurity=False).hexdigest()
                 for t in texts.to_list()]
    )  # fmt: skip
    frame = frame.with_columns(keys)
    prefix = pl.lit(str(import_id))
    line = pl.concat_str(
        [
            prefix, pl.col("vkey"), pl.col("line").cast(pl.String), pl.lit("1"),
            pl.col("chrom").replace_strict(ranks, return_dtype=pl.String),
            pl.col("chrom"), pl.col("pos").cast(pl.String), pl.col("end").cast(pl.String),
            pl.col("ref"), pl.col("alt"), pl.col("qual").cast(pl.String).fill_null(NULL),
            _texts("filters").fill_null(NULL), pl.col("info").fill_null(NULL),
            pl.col("ac").cast(pl.String), pl.col("an").cast(pl.String),
            _quoted("gt"), _numbers("zyg"), _numbers("ps").fill_null(NULL),
            _numbers("dp"), _numbers("ad_ref"), _numbers("ad_alt"), _numbers("gq"),
            _numbers("vaf"), _texts("genes").fill_null(NULL),
            _texts("consequences").fill_null(NULL),
            pl.col("worst_consequence").fill_null(NULL),
            pl.col("worst_impact").cast(pl.String).fill_null(NULL), pl.lit(NULL),
        ],
        separator="\t",
    )  # fmt: skip
    calls = frame.select(line.alias("l"))["l"].str.join("\n").item() + "\n"
    with_transcripts = frame.filter(pl.col("transcripts").is_not_null())
    transcripts = b""
    if not with_transcripts.is_empty():
        t = pl.concat_str(
            [prefix, pl.col("vkey"), pl.col("line").cast(pl.String), pl.lit("1"),
             pl.col("transcripts")],
            separator="\t",
        )  # fmt: skip
        transcripts = (with_transcripts.select(t.alias("l"))["l"].str.join("\n").item()
                       + "\n").encode()  # fmt: skip
    return calls.encode(), transcripts

"""COPY text of the rows parsed by the columnar parser (adapters/vcf/columnar.py).

The lines are those :func:`variant_store._call_line` writes for the same rows, built a column
at a time; only the variant key (an MD5) is computed per row in Python.
"""

from __future__ import annotations

import hashlib

import polars as pl

NULL = "\\N"
_md5 = hashlib.md5


def _numbers(frame: pl.DataFrame, column: str) -> pl.Series:
    """A fixed-size array column (one value per sample) as array text, NULL elements allowed."""
    values = frame[column]
    width = values.dtype.size  # type: ignore[attr-defined]
    whole = values
    if values.null_count():
        empty = pl.lit([None] * width, dtype=values.dtype)
        whole = pl.select(pl.when(values.is_null()).then(empty).otherwise(values)).to_series()
    flat = whole.arr.explode().cast(pl.String).fill_null("NULL")
    text = "{" + flat.reshape((frame.height, width)).arr.join(",") + "}"
    return pl.select(pl.when(values.is_null()).then(None).otherwise(text)).to_series()


def _quoted(frame: pl.DataFrame, column: str) -> pl.Series:
    values = frame[column]
    width = values.dtype.size  # type: ignore[attr-defined]
    flat = values.arr.explode()
    return '{"' + flat.reshape((frame.height, width)).arr.join('","') + '"}'


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
            _quoted(frame, "gt"), _numbers(frame, "zyg"), _numbers(frame, "ps").fill_null(NULL),
            _numbers(frame, "dp"), _numbers(frame, "ad_ref"), _numbers(frame, "ad_alt"),
            _numbers(frame, "gq"),
            _numbers(frame, "vaf"), _texts("genes").fill_null(NULL),
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

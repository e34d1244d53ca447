"""INFO of the ordinary records as JSON text, typed by the header (see columnar.py).

The rules are those of info.py and values.py for a one-ALT record: a Flag (or a key without
'=') is true, '.' is no value, Number=1 and Number=A values are scalars, other numbers give
lists, undeclared keys are strings, annotation keys are set aside. A value that the general
parser would have to coerce (a float in an Integer field, NaN, a percent escape, a '.' item in
a list, a repeated key) leaves its record to the general parser.
"""

from __future__ import annotations

import polars as pl

from regovar.adapters.vcf.header import ANNOTATION_KEYS
from regovar.adapters.vcf.model import FieldDef
from regovar.adapters.vcf.values import FLAG, ONE, PER_A, FieldPlan

_KEY = r"^([A-Za-z_][0-9A-Za-z_.]*|1000G)$"
_INTEGER = r"^(0|-?[1-9][0-9]{0,17})$"
_FLOAT = r"^-?[0-9]{1,20}(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,2})?$"  # finite as a double
_INTEGERS = r"^(0|-?[1-9][0-9]{0,17})(,(0|-?[1-9][0-9]{0,17}))*$"
_FLOATS = r"^-?[0-9]{1,20}(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,2})?(,-?[0-9]{1,20}(\.[0-9]{1,20})?([eE][-+]?[0-9]{1,2})?)*$"  # noqa: E501
SUPPORTED_ANNOTATIONS = ("CSQ", "ANN", "BCSQ")


def _code(definition: FieldDef | None) -> str:
    """How one key is written: flag, annotation, or (int|float|str) x (scalar|list)."""
    plan = FieldPlan(definition.id if definition else "", definition)
    if plan.kind == FLAG:
        return "flag"
    kind = "scalar" if plan.kind in (ONE, PER_A) else "list"
    if plan.kind == PER_A:
        kind = "per_a"
    typ = {"Integer": "int", "Float": "float"}.get(definition.type if definition else "", "str")
    return f"{typ}_{kind}"


def info_json(df: pl.DataFrame, definitions: dict[str, FieldDef]) -> pl.DataFrame:
    """Adds ``info`` (JSON text or null), ``ann_key`` and ``ann_raw`` (the annotation value),
    and clears ``ok`` for records the general parser must read."""
    codes = {key: _code(d) for key, d in definitions.items()}
    for name in ANNOTATION_KEYS:
        codes[name] = "annotation"
    # A one-ALT record's Number=R value has 2 items, Number=G 3 (2 when haploid): another
    # count is warned about by the general parser.
    commas = {k: {"R": 1, "G": 2}[d.number] for k, d in definitions.items()
              if d.number in ("R", "G")}  # fmt: skip
    key, raw, code = pl.col("key"), pl.col("raw"), pl.col("code")
    no_value = raw.is_null() | (code == "flag")
    empty = raw.is_in([".", ""])
    value = (
        pl.when(pl.col("item") == "").then(None)
        .when(no_value).then(pl.lit("true"))
        .when(empty | (code == "annotation")).then(None)
        .when(code.is_in(["int_scalar", "int_per_a"])).then(raw)
        .when(code.is_in(["float_scalar", "float_per_a"])).then(
            raw.cast(pl.Float64, strict=False).cast(pl.String))
        .when(code.is_in(["str_scalar", "str_per_a"])).then(pl.format('"{}"', raw))
        .when(code == "int_list").then(pl.format("[{}]", raw))
        .when(code == "float_list").then(pl.format("[{}]", _floats(raw)))
        .otherwise(pl.format('["{}"]', raw.str.replace_all(",", '","', literal=True)))
    )  # fmt: skip
    valid = (
        pl.when(pl.col("item") == "").then(True)
        .when(~key.str.contains(_KEY)).then(False)
        .when(no_value).then(code != "annotation")
        .when(empty).then(True)
        .when(code == "annotation").then(key.is_in(SUPPORTED_ANNOTATIONS))
        .when(code.is_in(["int_scalar", "int_per_a"])).then(raw.str.contains(_INTEGER))
        .when(code.is_in(["float_scalar", "float_per_a"])).then(raw.str.contains(_FLOAT))
        .when(code == "str_scalar").then(~raw.str.contains("%", literal=True))
        .when(code == "str_per_a").then(~raw.str.contains("[%,]"))
        .when(code == "int_list").then(raw.str.contains(_INTEGERS))
        .when(code == "float_list").then(raw.str.contains(_FLOATS))
        .otherwise(
            ~raw.str.contains("%", literal=True)
            & ~pl.format(",{},", raw).str.contains(",.,", literal=True)
        )
    )  # fmt: skip
    info = pl.col("info")
    items = df.select(
        "line",
        pl.when(info.is_in([".", ""])).then(pl.lit([""], dtype=pl.List(pl.String)))
        .otherwise(info.str.split(";")).alias("item"),
    ).explode("item")  # fmt: skip
    # Items repeat from record to record (AC=1, culprit=MQ): each distinct one is read once.
    distinct = (
        items.select(pl.col("item").unique())
        .with_columns(pl.col("item").str.splitn("=", 2).alias("kv"))
        .with_columns(
            pl.col("kv").struct.field("field_0").alias("key"),
            pl.col("kv").struct.field("field_1").alias("raw"),
        )
        .with_columns(
            key.replace_strict(codes, default="str_scalar", return_dtype=pl.String).alias("code"),
            key.replace_strict(commas, default=None, return_dtype=pl.Int64).alias("commas"),
        )
        .select(
            "item", "key", (valid & _count_fits()).fill_null(False).alias("valid"),
            pl.format('"{}":{}', key, value).alias("piece"),
            (code == "annotation").alias("is_annotation"),
        )
    )  # fmt: skip
    named = pl.col("item") != ""
    per_record = (
        items.join(distinct, on="item", how="left", maintain_order="left")
        .group_by("line", maintain_order=True)
        .agg(
            pl.col("valid").all().alias("info_ok"),
            (key.filter(named).n_unique() == named.sum()).alias("unique"),
            pl.col("piece").drop_nulls().str.join(",").alias("info"),
            pl.col("item").filter(pl.col("is_annotation")).alias("annotation"),
        )
    )  # fmt: skip
    first = pl.col("annotation").list.first().str.splitn("=", 2)
    per_record = per_record.select(
        (pl.col("info_ok") & pl.col("unique") & (pl.col("annotation").list.len() <= 1))
        .alias("info_ok"),
        pl.when(pl.col("info") == "").then(None).otherwise(pl.format("{{{}}}", pl.col("info")))
        .alias("info"),
        first.struct.field("field_0").alias("ann_key"),
        first.struct.field("field_1").alias("ann_raw"),
    )  # fmt: skip
    # One group per record, in the records' order (every record has at least one item).
    return (
        pl.concat([df.drop("info"), per_record], how="horizontal")
        .with_columns((pl.col("ok") & pl.col("info_ok").fill_null(False)).alias("ok"))
        .drop("info_ok")
    )  # fmt: skip


def _count_fits() -> pl.Expr:
    """A Number=R/G value of a one-ALT record with its count of items (G: 2 or 3)."""
    most, raw = pl.col("commas"), pl.col("raw")
    found = raw.str.count_matches(",", literal=True)
    return (
        most.is_null() | raw.is_null() | raw.is_in([".", ""])
        | ((found <= most) & (found >= 1))
    )  # fmt: skip


def _floats(raw: pl.Expr) -> pl.Expr:
    """Each item of a float list as Python writes it (rare: parsed item by item)."""
    items = raw.str.split(",").list.eval(pl.element().cast(pl.Float64, strict=False))
    return items.list.eval(pl.element().cast(pl.String)).list.join(",")

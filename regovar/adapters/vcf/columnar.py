"""Vectorised parsing of the ordinary records of a chunk (polars), beside the general parser.

Most records of a real file are ordinary: one ALT made of bases, REF or ALT one base long (so
trimming changes nothing), a GT and plain numbers in FORMAT, INFO values that match their
declared type, annotations with nothing to decode. Those are parsed here a column at a time, in
native code; every other record, and every record of a position written on several lines, is
left to the general parser (records.py), which owns the rules. A record taken here gives exactly
the row the general parser would give: the tests compare the two paths on every test file. When
in doubt (an escape, an odd number, a value the general parser would warn about), a record is
left to the general parser.
"""

from __future__ import annotations

import itertools
from typing import Any

import polars as pl

from regovar.adapters.vcf.columnar_annotations import SOURCES, annotate
from regovar.adapters.vcf.columnar_info import info_json
from regovar.adapters.vcf.contigs import ContigNamer
from regovar.adapters.vcf.genotypes import BiallelicGtCache
from regovar.adapters.vcf.header import DEFAULT_LAYOUTS
from regovar.adapters.vcf.model import ImportWarnings, VcfHeader
from regovar.adapters.vcf.siblings import locus

Record = tuple[int, "str | list[str]"]

# A field the general parser reads as written: no escapes, quotes or control characters.
_UNSAFE = r'[\x00-\x08\x0a-\x1f"\\]'
_BASES = r"^[ACGTNacgtn]+$"
_POS = r"^[1-9][0-9]{0,8}$"  # below 2^31 whatever the REF length
_QUAL = r"^(\.|[0-9]{1,15}(\.[0-9]{1,15})?)$"
_INT = r"^(\.|[0-9]{1,9})$"  # a depth or quality: '.' or an int32 that is not negative
_AD = r"^(\.|[0-9]{1,9},[0-9]{1,9})$"
_CORE = ("GT", "AD", "DP", "GQ", "PS")
_NOT_AD = ("RO", "AO", "AU", "CU", "GU", "TU", "TAR", "TIR")  # other depth conventions
MAX_CONTIG = 255


class ColumnarParser:
    """Splits chunks into ordinary records, parsed here into a frame of rows, and the others.

    Picklable (header and settings only), like :class:`~regovar.adapters.vcf.reader.ChunkParser`.
    """

    def __init__(
        self,
        header: VcfHeader,
        assembly: str,
        *,
        sample_filters: bool = False,
        snvs_only: bool = False,
    ) -> None:
        self.header, self.assembly = header, assembly
        self.sample_filters = sample_filters  # FORMAT FT is stored: left to the general parser
        self.snvs_only = snvs_only  # indels are left-aligned with a reference (general parser)
        self.n = len(header.samples)
        self._gts = BiallelicGtCache()
        layouts = {**DEFAULT_LAYOUTS, **header.annotation_fields}
        self._layouts = {k: layouts.get(k) for k in SOURCES}

    def __getstate__(self) -> dict[str, Any]:
        return {"header": self.header, "assembly": self.assembly,
                "sample_filters": self.sample_filters, "snvs_only": self.snvs_only}  # fmt: skip

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["header"], state["assembly"], sample_filters=state["sample_filters"],
            snvs_only=state["snvs_only"],
        )  # fmt: skip

    def split(self, chunk: list[Record]) -> tuple[pl.DataFrame | None, list[Record]]:
        """(rows of the ordinary records, in file order; the other records, in file order)."""
        if not self.n or len(chunk) < 2 or not isinstance(chunk[0][1], str):
            return None, chunk
        if any(not isinstance(text, str) for _, text in chunk):
            return None, chunk
        frame = pl.DataFrame(
            {"line": [r[0] for r in chunk], "text": [r[1] for r in chunk]},
            schema={"line": pl.Int64, "text": pl.String},
        )
        rows = self._rows(frame)
        taken = rows.filter(pl.col("ok")).drop("ok")
        if taken.is_empty():
            return None, chunk
        left = set(rows.filter(~pl.col("ok"))["line"].to_list())
        rest = [r for r in chunk if r[0] in left]
        if _new_neighbours(rest, chunk):
            return None, chunk
        return taken, rest

    def _rows(self, frame: pl.DataFrame) -> pl.DataFrame:
        frame = frame.with_columns(pl.col("text").str.split("\t").alias("cols"))
        cols = pl.col("cols")
        # Values per sample column (as ':' count): each must have as many as FORMAT has keys.
        frame = frame.with_columns(cols.list.slice(9).list.eval(
            pl.element().str.count_matches(":", literal=True)).alias("colons"))  # fmt: skip
        df = frame.select(
            "line",
            pl.col("text").str.contains(_UNSAFE).alias("unsafe"),
            cols.list.len().alias("n_cols"),
            *(cols.list.get(i, null_on_oob=True).alias(n) for i, n in enumerate(_NAMES)),
            cols.list.slice(9).list.join(":").alias("samples"),
            pl.col("colons").list.min().alias("colons_min"),
            pl.col("colons").list.max().alias("colons_max"),
        )
        ok = (
            ~pl.col("unsafe")
            & (pl.col("n_cols") == 9 + self.n)
            & pl.col("pos").str.contains(_POS)
            & pl.col("ref").str.contains(_BASES)
            & pl.col("alt").str.contains(_BASES)
            & (pl.col("ref").str.to_uppercase() != pl.col("alt").str.to_uppercase())
            & (pl.min_horizontal(pl.col("ref").str.len_bytes(), pl.col("alt").str.len_bytes()) == 1)
            & pl.col("qual").str.contains(_QUAL)
            & ~_same_locus_as_neighbour()
        )  # fmt: skip
        if self.snvs_only:
            ok = ok & (pl.col("ref").str.len_bytes() == 1) & (pl.col("alt").str.len_bytes() == 1)
        df = df.with_columns(ok.fill_null(False).alias("ok"))
        df = self._chrom(df)
        parts = [self._samples(group, fmt) for (fmt,), group in df.partition_by(
            "format", as_dict=True, maintain_order=True).items()]  # fmt: skip
        df = pl.concat(parts, how="diagonal_relaxed").sort("line")
        if "ac" not in df.columns:  # no FORMAT layout of this chunk is read here
            return df.select("line", pl.lit(False).alias("ok"))
        df = info_json(df, self.header.info)
        df = annotate(df, self._layouts)
        return df.select(
            "line", "ok", "chrom",
            pl.col("pos").cast(pl.Int64, strict=False),
            pl.col("ref").str.to_uppercase(), pl.col("alt").str.to_uppercase(),
            (pl.col("pos").cast(pl.Int64, strict=False) + pl.col("ref").str.len_bytes() - 1)
            .alias("end"),
            pl.when(pl.col("qual") == ".").then(None)
            .otherwise(pl.col("qual").cast(pl.Float64, strict=False)).alias("qual"),
            _filters(), "info", "ac", "an", "gt", "zyg", "ps", "dp", "ad_ref", "ad_alt", "gq",
            "vaf", "genes", "consequences", "worst_consequence", "worst_impact", "transcripts",
        )  # fmt: skip

    def _chrom(self, df: pl.DataFrame) -> pl.DataFrame:
        names = df["chrom"].unique().drop_nulls().to_list()
        mapped, fine = {}, []
        for name in names:
            heard = ImportWarnings()  # a contig the general parser warns about is left to it
            mapped[name] = ContigNamer(self.assembly, self.header.contigs, heard)(name)
            if not heard.as_list() and 0 < len(mapped[name]) <= MAX_CONTIG:
                fine.append(name)
        lengths = {n: self.header.contigs[n] for n in names if self.header.contigs.get(n)}
        ok = pl.col("ok") & pl.col("chrom").is_in(fine)
        if lengths:  # a record beyond its contig's end is warned about by the general parser
            end = pl.col("pos").cast(pl.Int64, strict=False) + pl.col("ref").str.len_bytes() - 1
            limit = pl.col("chrom").replace_strict(lengths, default=None, return_dtype=pl.Int64)
            ok = ok & (limit.is_null() | (end <= limit))
        return df.with_columns(
            pl.col("chrom").replace_strict(mapped, default=None, return_dtype=pl.String),
            ok.alias("ok"),
        )

    def _samples(self, df: pl.DataFrame, fmt: str | None) -> pl.DataFrame:
        """The per-sample columns of the records of one FORMAT layout."""
        keys = fmt.split(":") if fmt and fmt != "." else []
        at: dict[str, int] = {}
        for i, key in enumerate(keys):
            at.setdefault(key, i)
        usable = (
            len(at) == len(keys)  # a repeated key is warned about by the general parser
            and "GT" in at
            and "BCSQ" not in at
            and not (self.sample_filters and "FT" in at)
            and ("AD" in at or not any(k in at for k in _NOT_AD))
        )
        if not usable:
            return df.with_columns(pl.lit(False).alias("ok"))
        nk, n, rows = len(keys), self.n, df.height
        split = pl.col("samples").str.split(":")
        # Every sample with its nk values (a flat count would let one sample's missing value be
        # filled by the next sample's extra one).
        fit = (split.list.len() == nk * n) & (pl.col("colons_min") == nk - 1) & (
            pl.col("colons_max") == nk - 1)  # fmt: skip
        placeholder = pl.lit(["."] * (nk * n), dtype=pl.List(pl.String))
        prepared = df.select(
            fit.alias("fits"), pl.when(fit).then(split).otherwise(placeholder).alias("tokens")
        )
        fits = prepared["fits"]
        # One row per (record, sample), one column per FORMAT key, then back to one array of
        # ``n`` values per record: flat column operations, nothing per record.
        flat = prepared["tokens"].explode().reshape((rows * n, nk))
        cells = pl.DataFrame({"flat": flat}).select(
            pl.col("flat").arr.get(at[k]).alias(k.lower()) for k in _CORE if k in at
        )
        zyg, copies, called = self._gt_maps(cells["gt"])
        c = pl.col
        exprs = {
            "zyg": c("gt").replace_strict(zyg, default=None, return_dtype=pl.Int16),
            "copies": c("gt").replace_strict(copies, default=0, return_dtype=pl.Int64),
            "called": c("gt").replace_strict(called, default=0, return_dtype=pl.Int64),
        }
        checks = [c("gt").is_in(list(zyg))]
        for name in ("dp", "gq", "ps"):
            if name in cells.columns:
                checks.append(c(name).str.contains(_INT))
                exprs[name] = c(name).cast(pl.Int64, strict=False)
            else:
                exprs[name] = pl.lit(None, dtype=pl.Int64)
        if "ad" in cells.columns:
            checks.append(c("ad").str.contains(_AD))
            pair = c("ad").str.split_exact(",", 1)
            ref = pair.struct.field("field_0").cast(pl.Int64, strict=False)
            alt = pair.struct.field("field_1").cast(pl.Int64, strict=False)
            exprs |= {
                "ad_ref": ref,
                "ad_alt": alt,
                "vaf": pl.when(ref + alt > 0).then(alt / (ref + alt)).otherwise(None),
            }
        else:
            exprs |= {"ad_ref": pl.lit(None, dtype=pl.Int64),
                      "ad_alt": pl.lit(None, dtype=pl.Int64),
                      "vaf": pl.lit(None, dtype=pl.Float64)}  # fmt: skip
        check = checks[0]
        for more in checks[1:]:
            check = check & more
        cells = cells.select(c("gt"), check.fill_null(False).alias("check"), **exprs)
        # Back to one array of n values per record, every column in one query.
        per_record = cells.select(
            *(c(name).reshape((rows, n)) for name in cells.columns),
            c("ps").is_not_null().reshape((rows, n)).arr.any().alias("has_ps"),
        )
        joined = pl.concat([df, per_record.with_columns(fits.alias("fits"))], how="horizontal")
        return joined.select(
            *(name for name in df.columns if name != "ok"),
            (c("ok") & c("fits") & c("check").arr.all()).alias("ok"),
            "gt", "zyg", "dp", "gq", "ad_ref", "ad_alt", "vaf",
            c("copies").arr.sum().alias("ac"), c("called").arr.sum().alias("an"),
            # PS only when some sample has one (the general parser writes NULL otherwise)
            pl.when(c("has_ps")).then(c("ps")).otherwise(None).alias("ps"),
        )  # fmt: skip

    def _gt_maps(self, gts: pl.Series) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        """Zygosity, ALT copies and called alleles of each distinct GT of a biallelic record,
        from the general parser's own genotype code (GTs it would refuse are left out)."""
        zyg, copies, called = {}, {}, {}
        for gt in gts.unique().to_list():
            if gt is None:
                continue
            z, c, a = self._gts[gt]
            if z is not None:
                zyg[gt], copies[gt], called[gt] = z, c, a
        return zyg, copies, called


_NAMES = ("chrom", "pos", "id", "ref", "alt", "qual", "filter", "info", "format")


def _new_neighbours(rest: list[Record], chunk: list[Record]) -> bool:
    """Whether two records left to the general parser would read as one position's records
    although they are not next to each other in the file (an unsorted file)."""
    at = {line: i for i, (line, _) in enumerate(chunk)}
    for (a, ta), (b, tb) in itertools.pairwise(rest):
        if at[b] != at[a] + 1 and locus(ta) == locus(tb):
            return True
    return False


def _same_locus_as_neighbour() -> pl.Expr:
    """Records of one position are read together by the general parser (siblings.py)."""
    chrom, pos = pl.col("chrom"), pl.col("pos")
    before = (chrom == chrom.shift(1)) & (pos == pos.shift(1))
    after = (chrom == chrom.shift(-1)) & (pos == pos.shift(-1))
    return before.fill_null(False) | after.fill_null(False)


def _filters() -> pl.Expr:
    """FILTER: None for '.' (missing is not PASS), else its non-empty names."""
    names = pl.col("filter").str.split(";").list.eval(pl.element().filter(pl.element() != ""))
    return (
        pl.when(pl.col("filter").is_in([".", ""]) | (names.list.len() == 0))
        .then(None).otherwise(names).alias("filters")
    )  # fmt: skip

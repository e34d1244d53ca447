"""Bulk loading of one import: binary COPY into staging tables, then set-based SQL.

Everything happens inside the caller's transaction. The import's calls are written to a new
table that becomes a partition of ``calls`` only at the end, so a reader sees the whole import
or nothing, and a crash leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from regovar.adapters.vcf.model import CallRow

ASSEMBLY_CODES = {"GRCh37": 37, "GRCh38": 38}
IMPACT_CODES = {"MODIFIER": 0, "LOW": 1, "MODERATE": 2, "HIGH": 3}

_RANKS = {str(i): i for i in range(1, 23)} | {"X": 23, "Y": 24, "MT": 25, "M": 25}


def chrom_rank(chrom: str) -> int:
    name = chrom[3:] if chrom.startswith("chr") else chrom
    return _RANKS.get(name, 100)


def variant_key(chrom: str, pos: int, ref: str, alt: str, end: int) -> bytes:
    """Symbolic alleles (<DEL>...) only mean something with their end: it is part of the key."""
    text = f"{chrom}:{pos}:{ref}:{alt}"
    if alt.startswith("<"):
        text += f":{end}"
    return hashlib.md5(text.encode(), usedforsecurity=False).digest()


STAGE_CALLS = [
    "line",
    "chrom",
    "chrom_rank",
    "pos",
    "end_pos",
    "ref",
    "alt",
    "vkey",
    "alt_index",
    "qual",
    "filters",
    "info",
    "ac",
    "an",
    "gt",
    "zyg",
    "ps",
    "dp",
    "ad_ref",
    "ad_alt",
    "gq",
    "vaf",
    "genes",
    "consequences",
    "worst_consequence",
    "worst_impact",
]
STAGE_ANNOTATIONS = [
    "line",
    "alt_index",
    "ordinal",
    "source",
    "gene",
    "gene_id",
    "feature",
    "biotype",
    "consequences",
    "impact",
    "hgvsc",
    "hgvsp",
    "warnings",
    "extra",
]


@dataclass(frozen=True)
class LoadCounts:
    variants: int
    new_variants: int
    duplicates: list[tuple[str, list[int]]]  # "chrom:pos ref>alt", lines
    duplicate_count: int


def _none_if_empty(values: list[Any]) -> list[Any] | None:
    for v in values:
        if v is not None:
            return values
    return None


class VariantStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _driver(self) -> Any:
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        return raw.driver_connection

    async def begin(self) -> None:
        conn = await self._driver()
        # Set-based steps sort and hash the whole import: give them memory for this transaction.
        await conn.execute("SET LOCAL work_mem = '256MB'; SET LOCAL maintenance_work_mem = '512MB'")
        await conn.execute(_STAGE_DDL)

    async def stage(self, rows: list[CallRow], summaries: list[tuple[Any, ...]]) -> None:
        """``summaries`` give (genes, consequences, worst_consequence, worst_impact) per row."""
        calls = [_call_record(r, s) for r, s in zip(rows, summaries, strict=True)]
        conn = await self._driver()
        await conn.copy_records_to_table("stage_calls", records=calls, columns=STAGE_CALLS)
        annotations = [
            (
                r.line,
                r.alt_index,
                n,
                a.source,
                a.gene,
                a.gene_id,
                a.feature,
                a.biotype,
                a.consequences,
                IMPACT_CODES.get(a.impact or ""),
                a.hgvsc,
                a.hgvsp,
                a.warnings or None,
                json.dumps(a.extra) if a.extra else None,
            )
            for i, r in enumerate(rows)
            for n, a in enumerate(r.annotations)
        ]
        if annotations:
            await conn.copy_records_to_table(
                "stage_annotations", records=annotations, columns=STAGE_ANNOTATIONS
            )

    async def finish(self, import_id: int, assembly: str, release_id: int | None) -> LoadCounts:
        conn = await self._driver()
        code = ASSEMBLY_CODES[assembly]
        await conn.execute(_DEDUP)
        dup_total = await conn.fetchval(_DUPLICATE_COUNT)
        duplicates = await conn.fetch(_DUPLICATES) if dup_total else []
        await conn.execute(_DROP_DUPLICATES)
        new_variants = _rowcount(await conn.execute(_INSERT_VARIANTS.format(asm=code)))
        await conn.execute(_RESOLVE_IDS.format(asm=code))
        table = f"calls_i{int(import_id)}"
        await conn.execute(_CREATE_PARTITION.format(table=table, id=int(import_id), asm=code))
        variants = await conn.fetchval(f"SELECT count(*) FROM {table}")
        if release_id is not None:
            await conn.execute(_INSERT_ANNOTATIONS.format(rel=int(release_id)))
        await conn.execute(_ATTACH.format(table=table, id=int(import_id)))
        # Fresh statistics, so that the first queries of this import get good plans.
        await conn.execute("ANALYZE variants, variant_annotations")
        await conn.execute(
            "DROP TABLE IF EXISTS stage_calls, stage_duplicates, stage_annotations, "
            "stage_ids, stage_fresh"
        )
        return LoadCounts(
            variants=int(variants),
            new_variants=new_variants,
            duplicates=[(d["label"], list(d["lines"])) for d in duplicates],
            duplicate_count=int(dup_total),
        )

    async def drop_import(self, import_id: int) -> None:
        conn = await self._driver()
        await conn.execute(f"DROP TABLE IF EXISTS calls_i{int(import_id)}")


def _rowcount(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


def _call_record(r: CallRow, summary: tuple[Any, ...]) -> tuple[Any, ...]:
    return (
        r.line,
        r.chrom,
        chrom_rank(r.chrom),
        r.pos,
        r.end,
        r.ref,
        r.alt,
        variant_key(r.chrom, r.pos, r.ref, r.alt, r.end),
        r.alt_index,
        r.qual,
        r.filters,
        json.dumps(r.info, separators=(",", ":")) if r.info else None,
        r.ac,
        r.an,
        r.gt,
        r.zyg,
        _none_if_empty(r.ps),
        r.dp,
        r.ad_ref,
        r.ad_alt,
        r.gq,
        r.vaf,
        *summary,
    )


_STAGE_DDL = """
CREATE TEMP TABLE stage_calls (
    line integer, chrom text, chrom_rank smallint, pos integer, end_pos integer, ref text,
    alt text, vkey bytea, alt_index smallint, qual real, filters text[], info jsonb,
    ac integer, an integer, gt text[], zyg smallint[], ps integer[], dp integer[],
    ad_ref integer[], ad_alt integer[], gq integer[], vaf real[], genes text[],
    consequences text[], worst_consequence text, worst_impact smallint
) ON COMMIT DROP;
CREATE TEMP TABLE stage_annotations (
    line integer, alt_index smallint, ordinal integer, source text, gene text, gene_id text,
    feature text, biotype text, consequences text[], impact smallint, hgvsc text, hgvsp text,
    warnings text[], extra jsonb
) ON COMMIT DROP;
"""

# A file may list the same variant twice (after normalisation): the first line wins.
_DEDUP = """
CREATE TEMP TABLE stage_duplicates ON COMMIT DROP AS
SELECT DISTINCT ON (vkey) vkey, line AS first_line, alt_index AS first_alt, n
FROM stage_calls
JOIN (SELECT vkey, count(*) AS n FROM stage_calls GROUP BY vkey HAVING count(*) > 1) d
    USING (vkey)
ORDER BY vkey, line, alt_index;
"""

_DROP_DUPLICATES = """
DELETE FROM stage_calls s USING stage_duplicates d
WHERE s.vkey = d.vkey AND (s.line, s.alt_index) > (d.first_line, d.first_alt);
ANALYZE stage_calls;
"""

_INSERT_VARIANTS = """
INSERT INTO variants (assembly, chrom, chrom_rank, pos, end_pos, ref, alt, vkey)
SELECT {asm}, chrom, chrom_rank, pos, end_pos, ref, alt, vkey FROM stage_calls
ORDER BY chrom_rank, chrom, pos, ref, alt
ON CONFLICT (assembly, vkey) DO NOTHING
"""

# Resolve every kept line to its variant id once; later steps join on the line number.
_RESOLVE_IDS = """
CREATE TEMP TABLE stage_ids ON COMMIT DROP AS
SELECT s.line, s.alt_index, v.id AS variant_id
FROM stage_calls s JOIN variants v ON v.assembly = {asm} AND v.vkey = s.vkey;
CREATE UNIQUE INDEX ON stage_ids (line, alt_index);
ANALYZE stage_ids;
"""

_CREATE_PARTITION = """
CREATE TABLE {table} (LIKE calls INCLUDING DEFAULTS);
INSERT INTO {table}
SELECT {id}, i.variant_id, s.line, s.alt_index, s.qual, s.filters, s.info, s.ac, s.an, s.gt,
       s.zyg, s.ps, s.dp, s.ad_ref, s.ad_alt, s.gq, s.vaf
FROM stage_calls s JOIN stage_ids i ON i.line = s.line AND i.alt_index = s.alt_index
ORDER BY s.chrom_rank, s.chrom, s.pos, s.ref, s.alt;
CREATE UNIQUE INDEX ON {table} (variant_id);
ALTER TABLE {table} ADD CONSTRAINT {table}_import
    CHECK (import_id IS NOT NULL AND import_id = {id});
ANALYZE {table};
"""

_ATTACH = "ALTER TABLE calls ATTACH PARTITION {table} FOR VALUES IN ({id})"

# Annotations are stored once per (release, variant): only variants new to the release get them.
_INSERT_ANNOTATIONS = """
ANALYZE stage_annotations;
CREATE TEMP TABLE stage_fresh ON COMMIT DROP AS
WITH fresh AS (
    INSERT INTO variant_annotations
        (release_id, variant_id, genes, consequences, worst_consequence, worst_impact)
    SELECT {rel}, i.variant_id, s.genes, s.consequences, s.worst_consequence, s.worst_impact
    FROM stage_calls s JOIN stage_ids i ON i.line = s.line AND i.alt_index = s.alt_index
    WHERE s.genes IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING variant_id
)
SELECT variant_id FROM fresh;
ANALYZE stage_fresh;
INSERT INTO transcript_annotations
    (release_id, variant_id, ordinal, source, gene, gene_id, feature, biotype, consequences,
     impact, hgvsc, hgvsp, warnings, extra)
SELECT {rel}, i.variant_id, a.ordinal, a.source, a.gene, a.gene_id, a.feature, a.biotype,
       a.consequences, a.impact, a.hgvsc, a.hgvsp, a.warnings, a.extra
FROM stage_annotations a
JOIN stage_ids i ON i.line = a.line AND i.alt_index = a.alt_index
JOIN stage_fresh f ON f.variant_id = i.variant_id;
"""

_DUPLICATE_COUNT = "SELECT coalesce(sum(n - 1), 0) FROM stage_duplicates"

_DUPLICATES = """
SELECT s.chrom || ':' || s.pos || ' ' ||
       CASE WHEN length(s.ref) > 20 THEN left(s.ref, 10) || '...' ELSE s.ref END || '>' ||
       CASE WHEN length(s.alt) > 20 THEN left(s.alt, 10) || '...' ELSE s.alt END AS label,
       (SELECT array_agg(c.line ORDER BY c.line) FROM stage_calls c WHERE c.vkey = d.vkey)
           AS lines
FROM stage_duplicates d
JOIN stage_calls s ON s.vkey = d.vkey AND s.line = d.first_line AND s.alt_index = d.first_alt
ORDER BY d.first_line LIMIT 5
"""

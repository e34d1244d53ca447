"""Bulk loading of one import: COPY straight into the import's own calls table.

Everything happens inside the caller's transaction. The import's calls, with the annotation
columns that filters use, go to a new table that becomes a partition of ``calls`` only at the
end (its per-transcript annotations, read for display, to one of ``call_transcripts``), so a
reader sees the whole import or nothing, and a crash leaves nothing behind. The tables are
created in the same transaction, so COPY skips most of the write-ahead log (``wal_level =
minimal``) and their indexes are built once, in bulk, after the load. Only the ``variants``
catalogue is shared between imports: new alleles are added to it in one sorted insert.
"""

from __future__ import annotations

import gc
import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from regovar.adapters.vcf.lazy import sample_filters
from regovar.adapters.vcf.model import CallRow
from regovar.repositories import copy_text as ct

if TYPE_CHECKING:  # parser processes import this module: they need no SQLAlchemy
    from sqlalchemy.ext.asyncio import AsyncSession

ASSEMBLY_CODES = {"GRCh37": 37, "GRCh38": 38}

_RANKS = {str(i): i for i in range(1, 23)} | {"X": 23, "Y": 24, "MT": 25, "M": 25}
_md5 = hashlib.md5


def chrom_rank(chrom: str) -> int:
    name = chrom[3:] if chrom.startswith("chr") else chrom
    return _RANKS.get(name, 100)


def variant_key(assembly: int, chrom: str, pos: int, ref: str, alt: str, end: int) -> bytes:
    """Symbolic alleles (<DEL>...) only mean something with their end: it is part of the key."""
    text = f"{assembly}:{chrom}:{pos}:{ref}:{alt}"
    if alt.startswith("<"):
        text += f":{end}"
    return _md5(text.encode(), usedforsecurity=False).digest()


CALL_COLUMNS = [
    "import_id", "vkey", "line", "alt_index", "chrom_rank", "chrom", "pos", "end_pos", "ref",
    "alt", "qual", "filters", "info", "ac", "an", "gt", "zyg", "ps", "dp", "ad_ref", "ad_alt",
    "gq", "vaf", "genes", "consequences", "worst_consequence", "worst_impact", "ft",
]  # fmt: skip
TRANSCRIPT_COLUMNS = ["import_id", "vkey", "line", "alt_index", "transcripts"]


@dataclass(frozen=True)
class Batch:
    calls: bytes
    transcripts: bytes
    huge_integers: tuple[int, ...] = ()  # lines of FORMAT integers beyond int32 (NULL)
    bad_quals: tuple[int, ...] = ()  # lines of NaN, infinite or beyond-float32 QUAL (NULL)


@dataclass(frozen=True)
class LoadCounts:
    variants: int
    new_variants: int
    duplicates: list[tuple[str, list[int]]]  # "chrom:pos ref>alt", lines
    duplicate_count: int


class BatchEncoder:
    """Builds the COPY payloads of one import: pure CPU work, picklable, so that it can run in a
    thread or in a parser process while the database ingests the previous batch."""

    def __init__(self, import_id: int, assembly: int, sample_filters: bool = False) -> None:
        self.import_id, self.assembly = import_id, assembly
        self.sample_filters = sample_filters  # the file declares FORMAT FT

    def encode(
        self, rows: list[CallRow], summaries: list[tuple[Any, ...]], frame: Any = None
    ) -> Batch:
        """COPY payloads of a batch; pure CPU work, safe to run in another thread.

        ``summaries`` give (genes, consequences, worst_consequence, worst_impact) per row;
        ``frame`` holds the rows of the columnar parser, if any (written after ``rows``).
        """
        calls: list[str] = []
        transcripts: list[str] = []
        counts: tuple[list[int], list[int]] = ([], [])  # lines: huge integers, bad QUAL
        prefix = f"{self.import_id}\t"
        for r, summary in zip(rows, summaries, strict=True):
            key = ct.bytea(variant_key(self.assembly, r.chrom, r.pos, r.ref, r.alt, r.end))
            ft = sample_filters(r) if self.sample_filters else None
            calls.append(_call_line(self.import_id, key, r, summary, counts, ft))
            if summary[0] is not None:
                transcripts.append(
                    f"{prefix}{key}\t{r.line}\t{r.alt_index}\t{ct.json(_transcripts(r))}\n"
                )
        payload, listed = "".join(calls).encode(), "".join(transcripts).encode()
        if frame is not None:
            from regovar.repositories.copy_frame import encode_frame  # polars, with the frame

            names = frame["chrom"].unique().to_list()
            more, more_listed = encode_frame(
                frame, self.import_id, self.assembly, {n: chrom_rank(n) for n in names}
            )
            payload, listed = payload + more, listed + more_listed
        return Batch(payload, listed, tuple(counts[0]), tuple(counts[1]))


class VariantStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.table = ""
        self.import_id = 0
        self.assembly = 0
        self.rows = 0  # calls rows loaded
        self.bytes_sent = 0  # COPY payloads, calls and transcripts
        self._used: Any = None  # the driver's connection, once used

    async def _driver(self) -> Any:
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        self._used = raw.driver_connection
        return self._used

    def connection_closed(self) -> bool:
        """Whether the connection this store loaded through is closed (the server ended it)."""
        try:
            return self._used is not None and bool(self._used.is_closed())
        except Exception:
            return False

    async def begin(self, import_id: int, assembly: str) -> None:
        self.import_id, self.assembly = int(import_id), ASSEMBLY_CODES[assembly]
        self.table = f"calls_i{self.import_id}"
        self.transcripts = f"transcripts_i{self.import_id}"
        # Through the session: its transaction is open from here (the driver's connection
        # alone would run each statement in its own, and COPY FREEZE needs the tables created
        # in this one). Set-based steps sort and hash the whole import: they get memory.
        from sqlalchemy import text  # here: parser processes, which import this module, not

        await self.session.execute(text("SET LOCAL work_mem = '256MB'"))
        await self.session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        # A killed importer's server process ends its statement within a second instead of
        # finishing it (an index of millions of rows) while holding the import's lock.
        await self.session.execute(text(
            "SELECT set_config('client_connection_check_interval', '1000', true) "
            "WHERE current_setting('server_version_num')::int >= 140000"
        ))  # fmt: skip
        conn = await self._driver()
        # The partition's constraint is declared here, so COPY checks each row as it comes and
        # ATTACH PARTITION trusts it: added at the end, it was one more scan of the whole
        # table while nothing else ran.
        for table, parent in ((self.table, "calls"), (self.transcripts, "call_transcripts")):
            await conn.execute(
                f"CREATE TABLE {table} (LIKE {parent} INCLUDING DEFAULTS, CONSTRAINT "
                f"{table}_import CHECK (import_id IS NOT NULL AND import_id = {self.import_id}))"
            )

    def encoder(self, sample_filters: bool = False) -> BatchEncoder:
        """The encoder of this import's COPY payloads (after :meth:`begin`); with
        ``sample_filters``, the calls' FORMAT FT are stored."""
        return BatchEncoder(self.import_id, self.assembly, sample_filters)

    async def send(self, batch: Batch) -> None:
        conn = await self._driver()
        # FREEZE (the tables are new in this transaction): rows are written visible to all,
        # so the visibility map is set and the finish reads the keys from the index alone.
        status = await conn.copy_to_table(
            self.table, source=io.BytesIO(batch.calls), columns=CALL_COLUMNS, format="text",
            freeze=True,
        )  # fmt: skip
        self.rows += int(status.split()[-1])
        self.bytes_sent += len(batch.calls) + len(batch.transcripts)
        if batch.transcripts:
            await conn.copy_to_table(
                self.transcripts,
                source=io.BytesIO(batch.transcripts),
                columns=TRANSCRIPT_COLUMNS,
                format="text",
                freeze=True,
            )
        # asyncpg's COPY leaves a reference cycle holding its source, and so the payload: it
        # would stay until a full collection, which an importing process (few, large objects)
        # seldom runs. A 483-sample file kept 100 MB of payloads so; the young generations
        # are collected here instead.
        gc.collect(1)

    async def send_csv(self, calls: Any, calls_columns: list[str], transcripts: Any | None,
                       transcript_columns: list[str]) -> None:  # fmt: skip
        """Loads rows written by :meth:`copy_out` (archive bundles), after :meth:`begin`."""
        conn = await self._driver()
        await conn.copy_to_table(self.table, source=calls, columns=calls_columns,
                                 format="csv", header=True)  # fmt: skip
        if transcripts is not None:
            await conn.copy_to_table(self.transcripts, source=transcripts, format="csv",
                                     columns=transcript_columns, header=True)  # fmt: skip

    async def copy_out(self, import_id: int, calls: Any, transcripts: Any) -> tuple[int, int]:
        """Writes one import's calls and transcripts as CSV with a header (archive bundles);
        returns the row counts."""
        conn, i = await self._driver(), int(import_id)
        counts = []
        for table, sink in ((f"calls_i{i}", calls), (f"transcripts_i{i}", transcripts)):
            status = await conn.copy_from_query(
                f"SELECT * FROM {table} ORDER BY vkey", output=sink, format="csv",
                header=True,
            )  # fmt: skip
            counts.append(int(status.split()[-1]))
        return counts[0], counts[1]

    async def drop(self, import_id: int) -> int:
        """Removes one import's calls and transcripts, and its carriers from the catalogue;
        returns the bytes the tables took."""
        conn, i = await self._driver(), int(import_id)
        if await conn.fetchval(f"SELECT to_regclass('calls_i{i}')") is None:
            return 0  # the import never loaded (failed)
        size = int(await conn.fetchval(
            f"SELECT coalesce(pg_total_relation_size(to_regclass('calls_i{i}')), 0) + "
            f"coalesce(pg_total_relation_size(to_regclass('transcripts_i{i}')), 0)"
        ))  # fmt: skip
        await conn.execute(_REMOVE_CARRIERS.format(table=f"calls_i{i}"))
        await conn.execute(f"DROP TABLE IF EXISTS calls_i{i}")
        await conn.execute(f"DROP TABLE IF EXISTS transcripts_i{i}")
        return size

    async def write_back(self) -> bool:
        """Has the checkpointer write every changed page now, where this role may (superuser or
        pg_checkpoint); returns whether it did. Run on another connection while the importing
        one builds its indexes and catalogue rows, it writes the import's new tables on the
        core that is otherwise idle then; the import's commit would write them itself, one
        page after another, while nothing else runs (a few tenths of a second for an exome)."""
        conn = await self._driver()
        if not await conn.fetchval(_MAY_CHECKPOINT):
            return False
        await conn.execute("CHECKPOINT")
        return True

    async def finish(self) -> LoadCounts:
        conn, table = await self._driver(), self.table
        # The key index first: duplicated keys are then read from it alone (the visibility
        # map is set by FREEZE), a few milliseconds, and the common case (none) stops there.
        await conn.execute(f"CREATE INDEX ON {table} (vkey)")
        await conn.execute("SET LOCAL enable_hashagg = off")  # the index's order, not a hash
        keys = [r[0] for r in await conn.fetch(_DUPLICATE_KEYS.format(table=table))]
        await conn.execute("SET LOCAL enable_hashagg = on")
        dup_total, duplicates = 0, []
        if keys:
            await conn.execute(_FIND_DUPLICATES.format(table=table), keys)
            await conn.execute("ANALYZE stage_duplicates")  # a few rows: joined by the index
            dup_total = int(await conn.fetchval(_DUPLICATE_COUNT))
            duplicates = await conn.fetch(_DUPLICATES.format(table=table))
            await conn.execute(_DROP_DUPLICATES.format(table=table))
            await conn.execute(_DROP_DUPLICATES.format(table=self.transcripts))
        await conn.execute(_INDEX.format(table=table))
        await conn.execute(_TRANSCRIPT_INDEX.format(table=self.transcripts))
        variants = self.rows - dup_total
        new_variants = int(
            await conn.fetchval(_INSERT_VARIANTS.format(table=table, asm=self.assembly)) or 0
        )
        for parent, child in (("calls", table), ("call_transcripts", self.transcripts)):
            await conn.execute(
                f"ALTER TABLE {parent} ATTACH PARTITION {child} FOR VALUES IN ({self.import_id})"
            )
        await conn.execute("DROP TABLE IF EXISTS stage_duplicates")
        return LoadCounts(
            variants=variants,
            new_variants=new_variants,
            duplicates=[(d["label"], list(d["lines"])) for d in duplicates],
            duplicate_count=dup_total,
        )


def _transcripts(row: CallRow) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in (
            ("source", a.source), ("gene", a.gene), ("gene_id", a.gene_id),
            ("feature", a.feature), ("biotype", a.biotype), ("consequences", a.consequences),
            ("impact", a.impact), ("hgvsc", a.hgvsc), ("hgvsp", a.hgvsp),
            ("warnings", a.warnings), ("extra", a.extra),
        ) if v}
        for a in row.annotations
    ]  # fmt: skip


MAX_CONTIG = 255


class RowOutOfRange(ValueError):
    """A record the database cannot hold (a position beyond 2^31, an absurd contig name)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line

    def __reduce__(self) -> tuple[type[RowOutOfRange], tuple[int, str]]:
        return type(self), (self.line, str(self))  # raised in a parser process


def _call_line(
    import_id: int,
    key: str,
    r: CallRow,
    summary: tuple[Any, ...],
    counts: tuple[list[int], list[int]],
    ft: list[Any] | None = None,
) -> str:
    """One COPY line; values the columns cannot hold are refused (positions) or set to NULL,
    their lines noted in ``counts`` = (integers beyond int32, non-finite QUAL). ``summary`` gives
    (genes, consequences, worst consequence, worst impact), all None without annotations."""
    if r.pos < 1:
        raise RowOutOfRange(r.line, f"POS {r.pos}: positions start at 1 (0 marks a telomere in "
                            "VCF 4.3, not a base a variant can be at)")  # fmt: skip
    if not (r.pos <= ct.INT32 and 0 < r.end <= ct.INT32):
        raise RowOutOfRange(r.line, f"position {r.pos}-{r.end} is outside 1..{ct.INT32}")
    if len(r.chrom) > MAX_CONTIG or not r.chrom:
        raise RowOutOfRange(r.line, f"contig name is empty or longer than {MAX_CONTIG} characters")
    ps = r.ps
    ints = [ct.int32s(values) for values in (r.dp, r.ad_ref, r.ad_alt, r.gq, ps)]
    huge = sum(bad for _, bad in ints)
    if huge:
        counts[0].extend([r.line] * huge)
    qual = ct.real(r.qual)
    if r.qual is not None and qual is ct.NULL:
        counts[1].append(r.line)
    vaf = r.vaf
    if ints[1][1] or ints[2][1]:  # a depth stored as missing: no VAF from it either
        vaf = [None if ct.beyond_int32(ref) or ct.beyond_int32(alt) else v
               for v, ref, alt in zip(r.vaf, r.ad_ref, r.ad_alt, strict=True)]  # fmt: skip
    return "\t".join((
        str(import_id), key, str(r.line), str(r.alt_index), str(chrom_rank(r.chrom)),
        ct.text(r.chrom), str(r.pos), str(r.end), ct.text(r.ref), ct.text(r.alt),
        qual, ct.texts(r.filters), ct.json(r.info), str(r.ac), str(r.an),
        ct.texts(r.gt), ct.numbers(r.zyg),
        ints[4][0] if any(v is not None for v in ps) else ct.NULL, ints[0][0],
        ints[1][0], ints[2][0], ints[3][0], ct.numbers(vaf), *_annotation_fields(r, summary),
        _sample_filters(ft),
    )) + "\n"  # fmt: skip


def _sample_filters(ft: list[Any] | None) -> str:
    if ft is None or all(v is None for v in ft):
        return ct.NULL
    return ct.texts([None if v is None else str(v) for v in ft])


_NO_ANNOTATION = (ct.NULL,) * 4


def _annotation_fields(r: CallRow, summary: tuple[Any, ...]) -> tuple[str, ...]:
    genes, consequences, worst, impact = summary
    if genes is None:
        return _NO_ANNOTATION
    return ct.texts(genes), ct.texts(consequences), ct.text(worst), ct.number(impact)



# A file may list the same variant twice (after normalisation): the first line wins.
_DUPLICATE_KEYS = "SELECT vkey FROM {table} GROUP BY vkey HAVING count(*) > 1"

_MAY_CHECKPOINT = """
SELECT r.rolsuper OR EXISTS (
    SELECT 1 FROM pg_roles c
    WHERE c.rolname = 'pg_checkpoint' AND pg_has_role(r.oid, c.oid, 'MEMBER'))
FROM pg_roles r WHERE r.rolname = current_user
"""

_FIND_DUPLICATES = """
CREATE TEMP TABLE stage_duplicates ON COMMIT DROP AS
SELECT vkey, count(*) AS n, array_agg(line ORDER BY line) AS lines,
       min(ARRAY[line, alt_index]) AS first
FROM {table} WHERE vkey = ANY($1::bytea[]) GROUP BY vkey
"""

_DUPLICATE_COUNT = "SELECT coalesce(sum(n - 1), 0) FROM stage_duplicates"

_DUPLICATES = """
SELECT s.chrom || ':' || s.pos || ' ' ||
       CASE WHEN length(s.ref) > 20 THEN left(s.ref, 10) || '...' ELSE s.ref END || '>' ||
       CASE WHEN length(s.alt) > 20 THEN left(s.alt, 10) || '...' ELSE s.alt END AS label,
       d.lines
FROM stage_duplicates d
JOIN {table} s ON s.vkey = d.vkey AND s.line = d.first[1] AND s.alt_index = d.first[2]
ORDER BY d.first[1] LIMIT 5
"""

_DROP_DUPLICATES = """
DELETE FROM {table} s USING stage_duplicates d
WHERE s.vkey = d.vkey AND ARRAY[s.line, s.alt_index] > d.first
"""

_INDEX = """
CREATE INDEX ON {table} (chrom_rank, pos);
SET LOCAL default_statistics_target = 30;  -- a 9,000-row sample: the same plans, in a third
ANALYZE {table} (import_id, vkey, chrom_rank, chrom, pos, end_pos, qual, filters, ac, an,
    genes, consequences, worst_impact);
"""

_TRANSCRIPT_INDEX = """
CREATE UNIQUE INDEX ON {table} (vkey);
"""

# The catalogue counts the samples that carry each variant (in-house frequency): an import adds
# its own carriers (het, hom-alt, hemizygous, 1/2 and ./1 calls of the ALT). It answers how
# many variants were new (a row just inserted has xmax 0; an updated one does not).
# (The zygosity codes less those left once the carrier codes are removed: 3x faster than
# counting an unnest per row.)
_CARRIERS = (
    "coalesce(cardinality(zyg) - cardinality(array_remove(array_remove(array_remove("
    "array_remove(array_remove(zyg, 1::smallint), 2::smallint), 4::smallint), 5::smallint), "
    "7::smallint)), 0)"
)
_INSERT_VARIANTS = """
WITH added AS (
    INSERT INTO variants AS v (vkey, assembly, chrom, chrom_rank, pos, end_pos, ref, alt, carriers)
    SELECT vkey, {asm}, chrom, chrom_rank, pos, end_pos, ref, alt, """ + _CARRIERS + """
    FROM {table} ORDER BY vkey
    ON CONFLICT (vkey) DO UPDATE SET carriers = v.carriers + EXCLUDED.carriers
    RETURNING (v.xmax = 0) AS new
)
SELECT count(*) FILTER (WHERE new) FROM added
"""


# An import leaves (archived): its carriers leave the catalogue's counts.
_REMOVE_CARRIERS = """
UPDATE variants v SET carriers = greatest(v.carriers - s.n, 0)
FROM (SELECT vkey, """ + _CARRIERS + """ AS n FROM {table}) s
WHERE v.vkey = s.vkey AND s.n > 0
"""

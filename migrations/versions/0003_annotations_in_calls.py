"""Annotations move to the import's own partitions; the unused locus index goes.

An import's annotations were stored once per (annotation release, variant) in a shared table,
so every import paid for random inserts into a large index, and a gene or consequence filter
joined that table. Now the filter columns (genes, consequences, worst consequence and impact)
are columns of the import's calls rows, written by the same COPY and read without a join, and
the per-transcript entries, read for display, are in ``call_transcripts``, partitioned by import
like ``calls`` (kept out of the rows that every query scans). Existing partitions also get a
(chrom_rank, pos) index, as new imports do.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from alembic import op
from sqlalchemy import text

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = """
ALTER TABLE calls
    ADD COLUMN genes text[],
    ADD COLUMN consequences text[],
    ADD COLUMN worst_consequence text,
    ADD COLUMN worst_impact smallint
"""
TRANSCRIPTS = """
CREATE TABLE call_transcripts (
    import_id integer NOT NULL,
    vkey bytea NOT NULL,
    line integer NOT NULL,
    alt_index integer NOT NULL,
    transcripts jsonb NOT NULL
) PARTITION BY LIST (import_id)
"""

# Each import gets the annotations it was read with (those of its release).
BACKFILL = """
UPDATE calls c
SET genes = va.genes, consequences = va.consequences, worst_consequence = va.worst_consequence,
    worst_impact = va.worst_impact
FROM imports i, variant_annotations va
WHERE i.id = c.import_id AND va.release_id = i.annotation_release_id AND va.vkey = c.vkey
"""
BACKFILL_TRANSCRIPTS = """
INSERT INTO transcripts_i{id} (import_id, vkey, line, alt_index, transcripts)
SELECT c.import_id, c.vkey, c.line, c.alt_index, va.transcripts
FROM calls c JOIN imports i ON i.id = c.import_id
JOIN variant_annotations va ON va.release_id = i.annotation_release_id AND va.vkey = c.vkey
WHERE c.import_id = {id}
"""

RESTORE = """
CREATE TABLE variant_annotations (
    release_id integer NOT NULL REFERENCES annotation_releases(id) ON DELETE CASCADE,
    vkey bytea NOT NULL,
    genes text[] NOT NULL,
    consequences text[] NOT NULL,
    worst_consequence text,
    worst_impact smallint,
    transcripts jsonb NOT NULL,
    PRIMARY KEY (release_id, vkey)
);
INSERT INTO variant_annotations
SELECT DISTINCT ON (i.annotation_release_id, c.vkey) i.annotation_release_id, c.vkey, c.genes,
       c.consequences, c.worst_consequence, c.worst_impact, t.transcripts
FROM calls c JOIN imports i ON i.id = c.import_id
JOIN call_transcripts t ON t.import_id = c.import_id AND t.vkey = c.vkey
WHERE i.annotation_release_id IS NOT NULL AND c.genes IS NOT NULL
ORDER BY i.annotation_release_id, c.vkey, c.import_id;
DROP TABLE call_transcripts;
ALTER TABLE calls
    DROP COLUMN genes, DROP COLUMN consequences, DROP COLUMN worst_consequence,
    DROP COLUMN worst_impact;
CREATE INDEX ix_variants_locus ON variants(assembly, chrom, pos)
"""


def _imports_with_calls() -> list[int]:
    rows = op.get_bind().execute(
        text(
            "SELECT i.id FROM imports i WHERE to_regclass('calls_i' || i.id) IS NOT NULL "
            "ORDER BY i.id"
        )
    )
    return [int(r[0]) for r in rows]


def upgrade() -> None:
    op.execute(COLUMNS)
    op.execute(TRANSCRIPTS)
    op.execute(BACKFILL)
    for import_id in _imports_with_calls():
        table = f"transcripts_i{import_id}"
        op.execute(f"CREATE TABLE {table} (LIKE call_transcripts INCLUDING DEFAULTS)")
        op.execute(BACKFILL_TRANSCRIPTS.format(id=import_id))
        op.execute(f"CREATE UNIQUE INDEX ON {table} (vkey)")
        op.execute(f"ALTER TABLE call_transcripts ATTACH PARTITION {table} "
                   f"FOR VALUES IN ({import_id})")  # fmt: skip
        op.execute(f"CREATE INDEX ON calls_i{import_id} (chrom_rank, pos)")
    op.execute("DROP TABLE variant_annotations")
    op.execute("DROP INDEX IF EXISTS ix_variants_locus")


def downgrade() -> None:
    for statement in RESTORE.split(";"):
        op.execute(statement)

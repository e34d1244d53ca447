"""Annotations move into the import's calls partition; the unused locus index goes.

An import's annotations were stored once per (annotation release, variant) in a shared table,
so every import paid for random inserts into a large index, and a gene or consequence filter
joined that table. They are now columns of the import's own calls rows: written by the same
COPY, indexed in bulk with the partition, and read without a join, whatever the database size.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = """
ALTER TABLE calls
    ADD COLUMN genes text[],
    ADD COLUMN consequences text[],
    ADD COLUMN worst_consequence text,
    ADD COLUMN worst_impact smallint,
    ADD COLUMN transcripts jsonb
"""

# Each import gets the annotations it was read with (those of its release).
BACKFILL = """
UPDATE calls c
SET genes = va.genes, consequences = va.consequences, worst_consequence = va.worst_consequence,
    worst_impact = va.worst_impact, transcripts = va.transcripts
FROM imports i, variant_annotations va
WHERE i.id = c.import_id AND va.release_id = i.annotation_release_id AND va.vkey = c.vkey
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
       c.consequences, c.worst_consequence, c.worst_impact, c.transcripts
FROM calls c JOIN imports i ON i.id = c.import_id
WHERE i.annotation_release_id IS NOT NULL AND c.genes IS NOT NULL
ORDER BY i.annotation_release_id, c.vkey, c.import_id;
ALTER TABLE calls
    DROP COLUMN genes, DROP COLUMN consequences, DROP COLUMN worst_consequence,
    DROP COLUMN worst_impact, DROP COLUMN transcripts;
CREATE INDEX ix_variants_locus ON variants(assembly, chrom, pos)
"""


def upgrade() -> None:
    op.execute(COLUMNS)
    op.execute(BACKFILL)
    op.execute("DROP TABLE variant_annotations")
    op.execute("DROP INDEX IF EXISTS ix_variants_locus")


def downgrade() -> None:
    for statement in RESTORE.split(";"):
        op.execute(statement)

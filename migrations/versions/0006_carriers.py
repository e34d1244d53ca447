"""In-house frequency: how many samples of the database carry each variant.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# carrier zygosity codes: het, hom-alt, hemizygous alt, het with another ALT, partial with ALT
BACKFILL = """
UPDATE variants v SET carriers = s.n
FROM (SELECT vkey, sum((SELECT count(*) FROM unnest(zyg) z WHERE z IN (1, 2, 4, 5, 7)))::int AS n
      FROM calls GROUP BY vkey) s
WHERE s.vkey = v.vkey
"""


def upgrade() -> None:
    op.execute("ALTER TABLE variants ADD COLUMN carriers integer NOT NULL DEFAULT 0")
    op.execute(BACKFILL)


def downgrade() -> None:
    op.execute("ALTER TABLE variants DROP COLUMN carriers")

"""Per-transcript annotations stored as json, not jsonb.

They are written once by the import and read back whole for display; jsonb's conversion on
input was a third of PostgreSQL's work in an annotated import. The one filter that looks
inside them (an annotation field by name) converts the rows it reads.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE call_transcripts ALTER COLUMN transcripts TYPE json")


def downgrade() -> None:
    op.execute("ALTER TABLE call_transcripts ALTER COLUMN transcripts TYPE jsonb")

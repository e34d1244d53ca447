"""Per-sample FILTER (FORMAT FT) of each call.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE calls ADD COLUMN ft text[]")


def downgrade() -> None:
    op.execute("ALTER TABLE calls DROP COLUMN ft")

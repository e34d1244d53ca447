"""Archiving: when each project was last used, protected projects, and the archive bundles.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ARCHIVES = """
CREATE TABLE archives (
    id serial PRIMARY KEY,
    project_id integer REFERENCES projects (id) ON DELETE SET NULL,
    project_name text NOT NULL,
    path text NOT NULL,
    state varchar(10) NOT NULL DEFAULT 'archived',
    bytes bigint NOT NULL DEFAULT 0,
    freed_bytes bigint NOT NULL DEFAULT 0,
    counts jsonb NOT NULL DEFAULT '{}',
    manifest_sha256 varchar(64) NOT NULL,
    last_used_at timestamptz,
    created_by text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    restored_at timestamptz,
    CONSTRAINT ck_archives_state CHECK (state IN ('archived', 'restored'))
)
"""


def upgrade() -> None:
    op.execute("ALTER TABLE projects ADD COLUMN last_used_at timestamptz NOT NULL DEFAULT now()")
    op.execute("ALTER TABLE projects ADD COLUMN protected boolean NOT NULL DEFAULT false")
    op.execute("ALTER TABLE projects ADD COLUMN archived_at timestamptz")
    op.execute(ARCHIVES)


def downgrade() -> None:
    op.execute("DROP TABLE archives")
    op.execute("ALTER TABLE projects DROP COLUMN archived_at")
    op.execute("ALTER TABLE projects DROP COLUMN protected")
    op.execute("ALTER TABLE projects DROP COLUMN last_used_at")

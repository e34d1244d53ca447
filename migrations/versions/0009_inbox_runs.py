"""Sequencer runs found in the drop folders, and members' data-ready subscriptions.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

RUNS = """
CREATE TABLE inbox_runs (
    id serial PRIMARY KEY,
    inbox text NOT NULL,
    folder text NOT NULL,
    run_id text NOT NULL,
    snapshot jsonb NOT NULL,
    state varchar(10) NOT NULL DEFAULT 'settling',
    run_key text,
    project_id integer REFERENCES projects (id) ON DELETE SET NULL,
    files jsonb NOT NULL DEFAULT '[]',
    import_ids integer[] NOT NULL DEFAULT '{}',
    error_code varchar(40),
    error_message text,
    attempts integer NOT NULL DEFAULT 0,
    seen_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    CONSTRAINT uq_inbox_runs_run_key UNIQUE (run_key),
    CONSTRAINT ck_inbox_runs_state
        CHECK (state IN ('settling', 'importing', 'done', 'failed', 'duplicate'))
)
"""


def upgrade() -> None:
    op.execute(RUNS)
    op.execute("CREATE INDEX ix_inbox_runs_folder ON inbox_runs (inbox, folder, id DESC)")
    op.execute(
        "ALTER TABLE project_members ADD COLUMN notify boolean NOT NULL DEFAULT false"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE project_members DROP COLUMN notify")
    op.execute("DROP TABLE inbox_runs")

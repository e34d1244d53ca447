"""Batches: job rows of batch runs, the mail outbox and the alert state of each health check.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

JOBS = """
CREATE TABLE jobs (
    id serial PRIMARY KEY,
    kind varchar(20) NOT NULL,
    trigger varchar(10) NOT NULL,
    scheduled_for timestamptz,
    requested_by text NOT NULL DEFAULT '',
    options jsonb NOT NULL DEFAULT '{}',
    state varchar(10) NOT NULL DEFAULT 'queued',
    counts jsonb NOT NULL DEFAULT '{}',
    report text NOT NULL DEFAULT '',
    error_code varchar(40),
    error_message text,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    CONSTRAINT ck_jobs_state CHECK (state IN ('queued', 'running', 'done', 'failed')),
    CONSTRAINT ck_jobs_trigger CHECK (trigger IN ('schedule', 'manual'))
)
"""

OUTBOX = """
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    dedupe_key text NOT NULL,
    kind varchar(20) NOT NULL,
    recipients text[] NOT NULL,
    subject text NOT NULL,
    text_body text NOT NULL,
    html_body text NOT NULL,
    state varchar(10) NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    refused text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    CONSTRAINT uq_outbox_dedupe_key UNIQUE (dedupe_key),
    CONSTRAINT ck_outbox_state CHECK (state IN ('pending', 'sent', 'failed'))
)
"""

ALERTS = """
CREATE TABLE alert_states (
    check_name text PRIMARY KEY,
    state varchar(10) NOT NULL,
    value double precision,
    detail text NOT NULL DEFAULT '',
    since timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
)
"""


def upgrade() -> None:
    op.execute(JOBS)
    # Two schedulers (or a restart) never fire the same tick twice.
    op.execute(
        "CREATE UNIQUE INDEX uq_jobs_kind_scheduled_for ON jobs (kind, scheduled_for) "
        "WHERE scheduled_for IS NOT NULL"
    )
    op.execute("CREATE INDEX ix_jobs_created_at ON jobs (created_at DESC)")
    op.execute(OUTBOX)
    op.execute("CREATE INDEX ix_outbox_due ON outbox (next_attempt_at) WHERE state = 'pending'")
    op.execute(ALERTS)


def downgrade() -> None:
    op.execute("DROP TABLE alert_states")
    op.execute("DROP TABLE outbox")
    op.execute("DROP TABLE jobs")

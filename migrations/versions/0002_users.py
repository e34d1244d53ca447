"""Users, sign-in sessions, project members, sign-in throttling and the audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

USERS = """
CREATE TABLE users (
    id serial PRIMARY KEY,
    login varchar(64) NOT NULL CONSTRAINT uq_users_login UNIQUE,
    email text NOT NULL DEFAULT '',
    first_name text NOT NULL DEFAULT '',
    last_name text NOT NULL DEFAULT '',
    is_admin boolean NOT NULL DEFAULT false,
    is_active boolean NOT NULL DEFAULT true,
    password_hash text,
    source varchar(10) NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'ldap')),
    password_changed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- Logins are compared without case: Alice and alice are one account.
CREATE UNIQUE INDEX uq_users_login_lower ON users (lower(login));
CREATE TABLE user_sessions (
    id serial PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash bytea NOT NULL CONSTRAINT uq_user_sessions_token_hash UNIQUE,
    client text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX ix_user_sessions_user_id ON user_sessions(user_id);
CREATE TABLE project_members (
    project_id integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role varchar(10) NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX ix_project_members_user_id ON project_members(user_id);
CREATE TABLE sign_in_failures (
    id bigserial PRIMARY KEY,
    login text NOT NULL,
    client text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_sign_in_failures_login ON sign_in_failures(login, at);
CREATE INDEX ix_sign_in_failures_client ON sign_in_failures(client, at);
CREATE TABLE audit_events (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL,
    actor_id integer,
    actor text NOT NULL,
    action varchar(60) NOT NULL,
    object_type varchar(40) NOT NULL,
    object_id text,
    project_id integer,
    details jsonb NOT NULL DEFAULT '{}',
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL CONSTRAINT uq_audit_events_hash UNIQUE
);
CREATE INDEX ix_audit_events_object ON audit_events(object_type, object_id);
CREATE INDEX ix_audit_events_actor ON audit_events(actor_id);
CREATE INDEX ix_audit_events_project ON audit_events(project_id);
"""

# Append-only: the application never changes or removes an event. A change made behind its back
# (by a database superuser who disables the trigger) is what `regovar audit verify` detects.
APPEND_ONLY = [
    """CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END $$""",
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
]


def upgrade() -> None:
    for statement in [s.strip() for s in USERS.split(";") if s.strip()] + APPEND_ONLY:
        op.execute(statement)


def downgrade() -> None:
    for table in ("audit_events", "sign_in_failures", "project_members", "user_sessions", "users"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")

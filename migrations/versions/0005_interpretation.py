"""Interpretation: selections, tags, comments and classifications of variants, append-only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

NOTES = """
CREATE TABLE variant_notes (
    id bigserial PRIMARY KEY,
    project_id integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    analysis_id integer REFERENCES analyses(id) ON DELETE CASCADE,
    vkey bytea NOT NULL,
    variant text NOT NULL,
    kind varchar(12) NOT NULL
        CHECK (kind IN ('select', 'unselect', 'tag', 'untag', 'comment', 'classify')),
    value text NOT NULL DEFAULT '',
    criteria text[] NOT NULL DEFAULT '{}',
    reason text NOT NULL DEFAULT '',
    actor_id integer REFERENCES users(id) ON DELETE SET NULL,
    actor text NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_variant_notes_analysis ON variant_notes(analysis_id, vkey, id);
CREATE INDEX ix_variant_notes_classify ON variant_notes(vkey, id) WHERE kind = 'classify'
"""
APPEND_ONLY = """
CREATE FUNCTION variant_notes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'variant notes are append-only: add a note instead of changing one';
END $$
"""
TRIGGER = """
CREATE TRIGGER variant_notes_no_update BEFORE UPDATE ON variant_notes
    FOR EACH ROW EXECUTE FUNCTION variant_notes_append_only()
"""


def upgrade() -> None:
    for statement in NOTES.split(";\n"):
        if statement.strip():
            op.execute(statement)
    op.execute(APPEND_ONLY)
    op.execute(TRIGGER)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS variant_notes")
    op.execute("DROP FUNCTION IF EXISTS variant_notes_append_only()")

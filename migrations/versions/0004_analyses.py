"""Analyses (a named set of a project's samples with their family roles) and saved filters.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ANALYSES = """
CREATE TABLE analyses (
    id serial PRIMARY KEY,
    project_id integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name varchar(200) NOT NULL,
    description text NOT NULL DEFAULT '',
    status varchar(20) NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'in_review', 'closed')),
    settings jsonb NOT NULL DEFAULT '{}',
    created_by integer REFERENCES users(id) ON DELETE SET NULL,
    updated_by integer REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_analyses_project_name UNIQUE (project_id, name)
);
CREATE TABLE analysis_samples (
    analysis_id integer NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
    sample_id integer NOT NULL REFERENCES samples(id) ON DELETE CASCADE,
    position smallint NOT NULL,
    role varchar(10) NOT NULL
        CHECK (role IN ('proband', 'mother', 'father', 'sibling', 'other')),
    -- PED codes: sex 0 unknown, 1 male, 2 female, and affected 0 unknown, 1 no, 2 yes
    sex smallint NOT NULL DEFAULT 0 CHECK (sex IN (0, 1, 2)),
    affected smallint NOT NULL DEFAULT 0 CHECK (affected IN (0, 1, 2)),
    PRIMARY KEY (analysis_id, sample_id)
);
CREATE INDEX ix_analysis_samples_sample ON analysis_samples(sample_id);
-- one proband, one mother, one father at most per analysis
CREATE UNIQUE INDEX uq_analysis_samples_role ON analysis_samples(analysis_id, role)
    WHERE role IN ('proband', 'mother', 'father');
-- a saved filter belongs to an analysis, or (analysis_id NULL) is a preset of its project
CREATE TABLE saved_filters (
    id serial PRIMARY KEY,
    project_id integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    analysis_id integer REFERENCES analyses(id) ON DELETE CASCADE,
    name varchar(200) NOT NULL,
    description text NOT NULL DEFAULT '',
    created_by integer REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX uq_saved_filters_analysis_name ON saved_filters(analysis_id, name)
    WHERE analysis_id IS NOT NULL;
CREATE UNIQUE INDEX uq_saved_filters_preset_name ON saved_filters(project_id, name)
    WHERE analysis_id IS NULL;
-- versions are never changed: saving a changed filter adds one
CREATE TABLE filter_versions (
    filter_id integer NOT NULL REFERENCES saved_filters(id) ON DELETE CASCADE,
    version integer NOT NULL CHECK (version > 0),
    document jsonb NOT NULL,
    variant_count bigint,
    created_by integer REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (filter_id, version)
)
"""


def upgrade() -> None:
    for statement in ANALYSES.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS filter_versions, saved_filters, analysis_samples, analyses CASCADE"
    )

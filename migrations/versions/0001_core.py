"""Core platform: projects, subjects, files, imports, samples, variant store, job queue.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

from alembic import op
from dramatiq_postgres.schema import generate_init_sql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

CORE = """
CREATE TABLE projects (
    id serial PRIMARY KEY,
    name varchar(200) NOT NULL CONSTRAINT uq_projects_name UNIQUE,
    description text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE subjects (
    id serial PRIMARY KEY,
    project_id integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    identifier text NOT NULL,
    family text,
    father_id integer REFERENCES subjects(id) ON DELETE SET NULL,
    mother_id integer REFERENCES subjects(id) ON DELETE SET NULL,
    sex smallint NOT NULL DEFAULT 0 CHECK (sex IN (0, 1, 2)),
    affected smallint NOT NULL DEFAULT 0 CHECK (affected IN (0, 1, 2)),
    hpo_terms text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_subjects_project_id UNIQUE (project_id, identifier)
);
CREATE TABLE files (
    id serial PRIMARY KEY,
    project_id integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    path text NOT NULL,
    name text NOT NULL,
    kind varchar(20) NOT NULL,
    size bigint NOT NULL,
    sha256 varchar(64) NOT NULL,
    state varchar(20) NOT NULL DEFAULT 'registered',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_files_project_id ON files(project_id);
CREATE INDEX ix_files_sha256 ON files(sha256);
CREATE TABLE annotation_releases (
    id serial PRIMARY KEY,
    name text NOT NULL CONSTRAINT uq_annotation_releases_name UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE imports (
    id serial PRIMARY KEY,
    project_id integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    file_id integer NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    ped_file_id integer REFERENCES files(id) ON DELETE SET NULL,
    assembly varchar(10),
    requested_assembly varchar(10),
    state varchar(20) NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'done', 'failed')),
    progress double precision NOT NULL DEFAULT 0,
    records bigint NOT NULL DEFAULT 0,
    variants bigint NOT NULL DEFAULT 0,
    new_variants bigint NOT NULL DEFAULT 0,
    samples integer NOT NULL DEFAULT 0,
    genotypes bigint NOT NULL DEFAULT 0,
    annotation_release_id integer REFERENCES annotation_releases(id) ON DELETE SET NULL,
    header jsonb NOT NULL DEFAULT '{}',
    warnings jsonb NOT NULL DEFAULT '[]',
    error_code varchar(40),
    error_message text,
    attempts integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz
);
CREATE INDEX ix_imports_project_id ON imports(project_id);
CREATE INDEX ix_imports_state ON imports(state);
CREATE TABLE samples (
    id serial PRIMARY KEY,
    project_id integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    import_id integer NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    subject_id integer REFERENCES subjects(id) ON DELETE SET NULL,
    name text NOT NULL,
    "column" integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_samples_import_id UNIQUE (import_id, name)
);
CREATE INDEX ix_samples_project_id ON samples(project_id);
CREATE INDEX ix_samples_subject_id ON samples(subject_id);
CREATE TABLE variants (
    vkey bytea PRIMARY KEY,
    assembly smallint NOT NULL CHECK (assembly IN (37, 38)),
    chrom text NOT NULL,
    chrom_rank smallint NOT NULL,
    pos integer NOT NULL,
    end_pos integer NOT NULL,
    ref text NOT NULL,
    alt text NOT NULL
);
CREATE INDEX ix_variants_locus ON variants(assembly, chrom, pos);
CREATE TABLE calls (
    import_id integer NOT NULL,
    vkey bytea NOT NULL,
    line integer NOT NULL,
    alt_index integer NOT NULL,
    chrom_rank smallint NOT NULL,
    chrom text NOT NULL,
    pos integer NOT NULL,
    end_pos integer NOT NULL,
    ref text NOT NULL,
    alt text NOT NULL,
    qual real,
    filters text[],
    info jsonb,
    ac integer,
    an integer,
    gt text[],
    zyg smallint[],
    ps integer[],
    dp integer[],
    ad_ref integer[],
    ad_alt integer[],
    gq integer[],
    vaf real[]
) PARTITION BY LIST (import_id);
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

"""


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]


def upgrade() -> None:
    for statement in _statements(CORE):
        op.execute(statement)
    for statement in _statements(generate_init_sql("dramatiq", "")):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP SCHEMA IF EXISTS dramatiq CASCADE")
    for table in (
        "variant_annotations",
        "calls",
        "variants",
        "samples",
        "imports",
        "annotation_releases",
        "files",
        "subjects",
        "projects",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")

"""Migrations on data: 0003 moves an import's annotations into its own partitions and back."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.engine import make_url

from regovar.db import alembic_config, upgrade_schema

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SEED = """
INSERT INTO projects (id, name) VALUES (1, 'p');
INSERT INTO files (id, project_id, path, name, kind, size, sha256)
    VALUES (1, 1, '/x.vcf', 'x.vcf', 'vcf', 1, repeat('0', 64));
INSERT INTO annotation_releases (id, name) VALUES (1, 'VEP 110');
INSERT INTO imports (id, project_id, file_id, state, annotation_release_id)
    VALUES (7, 1, 1, 'done', 1);
CREATE TABLE calls_i7 (LIKE calls INCLUDING DEFAULTS);
INSERT INTO calls_i7 (import_id, vkey, line, alt_index, chrom_rank, chrom, pos, end_pos, ref, alt)
VALUES (7, '\\x01', 10, 1, 1, '1', 100, 100, 'A', 'G'),
       (7, '\\x02', 11, 1, 1, '1', 200, 200, 'C', 'T');
ALTER TABLE calls ATTACH PARTITION calls_i7 FOR VALUES IN (7);
INSERT INTO variant_annotations VALUES
    (1, '\\x01', '{BRCA2}', '{missense_variant}', 'missense_variant', 2,
     '[{"gene": "BRCA2", "feature": "ENST00000380152"}]');
"""


@pytest.fixture()
def fresh_url(database_url):
    admin = make_url(database_url).set(drivername="postgresql")
    name = "regovar_migrations_test"
    sync = admin.render_as_string(hide_password=False)
    with psycopg.connect(sync, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield admin.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(sync, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def test_annotations_move_into_calls_and_back(fresh_url):
    from alembic import command

    asyncpg_url = fresh_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    upgrade_schema(asyncpg_url, "0002")
    with psycopg.connect(fresh_url) as conn:
        conn.execute(SEED)
    upgrade_schema(asyncpg_url)
    rows = _rows(
        fresh_url,
        "SELECT line, genes, consequences, worst_consequence, worst_impact "
        "FROM calls ORDER BY line",
    )
    assert rows == [
        (10, ["BRCA2"], ["missense_variant"], "missense_variant", 2),
        (11, None, None, None, None),
    ]
    assert _rows(fresh_url, "SELECT import_id, vkey, line, transcripts FROM call_transcripts") == [
        (7, b"\x01", 10, [{"gene": "BRCA2", "feature": "ENST00000380152"}])
    ]
    assert _rows(fresh_url, "SELECT to_regclass('variant_annotations')") == [(None,)]

    command.downgrade(alembic_config(asyncpg_url), "0002")
    assert _rows(
        fresh_url, "SELECT release_id, vkey, genes, worst_impact FROM variant_annotations"
    ) == [(1, b"\x01", ["BRCA2"], 2)]
    columns = _rows(
        fresh_url,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'calls_i7'",
    )
    assert "genes" not in {c for (c,) in columns}
    upgrade_schema(asyncpg_url)  # and up again
    assert _rows(fresh_url, "SELECT genes FROM calls WHERE line = 10") == [(["BRCA2"],)]

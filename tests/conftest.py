"""Test database: REGOVAR_TEST_DATABASE_URL when set, else a private PostgreSQL for the run.

Each run gets a fresh database with the migrations applied from empty; tests create their own
projects, so they never see each other's data.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from regovar.adapters.pgserver import EmbeddedPostgres
from regovar.bootstrap import Container, build
from regovar.config import Settings, load_settings
from regovar.db import upgrade_schema
from tests.smtp import MailCatcher

DATA = Path(__file__).parent / "data"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _fresh_database(admin_url: str) -> tuple[str, str]:
    import psycopg

    name = f"regovar_test_{uuid.uuid4().hex[:8]}"
    url = make_url(admin_url)
    sync = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(sync, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False), name


def _drop_database(admin_url: str, name: str) -> None:
    import psycopg

    sync = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(sync, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("REGOVAR_TEST_DATABASE_URL")
    server = None
    if configured:
        admin = configured
    else:
        # A world-traversable folder, so that a root run keeps the cluster in place.
        pg_dir = Path(tempfile.mkdtemp(prefix="regovar-test-pg-"))
        pg_dir.chmod(0o755)
        server = EmbeddedPostgres(pg_dir)
        admin = server.ensure_running()
    url, name = _fresh_database(admin)
    upgrade_schema(url)
    yield url
    _drop_database(admin, name)
    if server is not None:
        server.stop()
        shutil.rmtree(pg_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def import_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("incoming")


def settings_for(database_url: str, import_dir: Path, **overrides: str) -> Settings:
    """The tests' settings: their database, the stub broker, their import folder."""
    return load_settings(
        env={},
        database_url=database_url,
        broker_url="stub://",
        import_dirs=str(import_dir),
        data_dir=str(import_dir.parent / "data"),
        **overrides,
    )


@pytest.fixture(scope="session")
async def container(database_url: str, import_dir: Path) -> AsyncIterator[Container]:
    c = build(settings_for(database_url, import_dir), url=database_url)
    yield c
    await c.aclose()


@pytest.fixture
def fresh_url(database_url: str) -> Iterator[str]:
    """A database of its own, for tests of server-wide state (alerts, the outbox, batches)."""
    url, name = _fresh_database(database_url)
    upgrade_schema(url)
    yield url
    _drop_database(database_url, name)


@pytest.fixture
def smtp() -> Iterator[MailCatcher]:
    """A real SMTP server on a free port, keeping what it receives."""
    catcher = MailCatcher().start()
    yield catcher
    catcher.stop()

"""Engine factory and schema migrations. Nothing connects at import time."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def application_name(name: str) -> str:
    """The name this process's connections carry, with its pid: pg_stat_activity (`regovar db
    stop`) then says which process holds a session, and a process can tell its own apart."""
    return f"{name} (pid {os.getpid()})"


def own_application_suffix() -> str:
    return f"(pid {os.getpid()})"


APPLICATION_NAME = "regovar"  # the CLI names its command: "regovar worker", "regovar serve"


def make_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=5,
        pool_pre_ping=True,
        # Errors never show statement parameters: they can hold sample names (patient
        # identifiers) and token or password hashes, and errors reach the logs.
        hide_parameters=True,
        connect_args={
            "server_settings": {
                "application_name": application_name(APPLICATION_NAME),
                "jit": "off",
                # Variant queries depend on their values (which partition, which genes):
                # plan each execution rather than reuse a generic plan.
                "plan_cache_mode": "force_custom_plan",
            }
        },
    )


def alembic_config(url: str) -> Config:
    if not (MIGRATIONS / "env.py").exists():
        raise RuntimeError(f"migrations folder not found at {MIGRATIONS}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_schema(url: str, revision: str = "head") -> None:
    """Runs Alembic (synchronously: call it from a thread when inside an event loop)."""
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    sync_url = url.replace("+asyncpg", "+psycopg")
    engine = create_engine(sync_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()

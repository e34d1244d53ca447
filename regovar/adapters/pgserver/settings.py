"""How the embedded server is configured and where it listens."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

ROLE = "regovar"
HOST = "127.0.0.1"
SOCKET_PATH_MAX = 107  # sun_path is 108 bytes with its terminating NUL
_DB_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

# Tuned for bulk COPY of genomic data; durability settings stay at their safe defaults.
BULK_SETTINGS = (
    "wal_level = minimal",
    "max_wal_senders = 0",
    "max_wal_size = '4GB'",
    "shared_buffers = '256MB'",
    "work_mem = '64MB'",
    "maintenance_work_mem = '512MB'",
    "synchronous_commit = on",
    "fsync = on",
    "timezone = 'UTC'",
    "log_timezone = 'UTC'",
    "password_encryption = 'scram-sha-256'",
    "logging_collector = off",
    "log_destination = 'stderr'",
)


def runtime_conf(pgdata: Path, port: int) -> str:
    """Rewritten at each start so the port can move and setting changes reach old clusters."""
    socket_dir = str(pgdata)
    if len(os.fsencode(socket_dir)) + len(f"/.s.PGSQL.{port}") > SOCKET_PATH_MAX:
        socket_dir = ""  # too long for a Unix socket path: TCP only
    quoted = socket_dir.replace("'", "''")
    return "\n".join(
        [
            "# Written by Regovar at each start; override with ALTER SYSTEM.",
            f"listen_addresses = '{HOST}'",
            f"port = {port}",
            f"unix_socket_directories = '{quoted}'",
            *BULK_SETTINGS,
            "",
        ]
    )


def port_is_free(port: int) -> bool:
    """SO_REUSEADDR as PostgreSQL sets it, so our own last run's TIME_WAIT does not count."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def checked_name(name: str) -> str:
    """Kept to plain identifiers so the name goes into a URL and SQL without escaping."""
    if not _DB_NAME.fullmatch(name):
        raise ValueError(f"invalid database name {name!r}: use letters, digits and _ (max 63)")
    return name


def url(password: str, port: int, database: str) -> str:
    """The password is URL-safe by construction (secrets.token_urlsafe)."""
    return f"postgresql+asyncpg://{ROLE}:{password}@{HOST}:{port}/{database}"

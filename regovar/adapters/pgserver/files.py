"""Where the embedded server keeps its files, and the small files themselves."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

DEFAULT_SHARED_DIR = Path("/var/lib/regovar")

STATE_DIR = "postgres"  # under the data directory
LOCK = "lock"
PORT = "port"
PASSWORD = "password"
POINTER = "cluster-location"
PGDATA = "pgdata"  # under the cluster directory (the state directory unless relocated)
LOG = "postgres.log"
RUNTIME_CONF = "regovar.conf"  # under pgdata, included from postgresql.conf

# postmaster.pid lines: PID, data dir, start time, port, socket dir, address, shmem key, status.
PID_LINE, PORT_LINE, STATUS_LINE = 0, 3, 7


def shared_dir() -> Path:
    """Where a root Regovar puts what its unprivileged server account cannot reach elsewhere;
    REGOVAR_PG_SHARED_DIR moves it for sites that keep /var small."""
    return Path(os.environ.get("REGOVAR_PG_SHARED_DIR") or DEFAULT_SHARED_DIR)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """flock rather than a lock file's existence: the kernel releases it when a process dies."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def make_dir(path: Path, mode: int) -> None:
    """The mode is forced because the caller's umask may be stricter than the server needs."""
    path.mkdir(mode=mode, parents=True, exist_ok=True)
    os.chmod(path, mode)


def write_private(path: Path, text: str) -> None:
    """Written aside then renamed, so a concurrent reader never sees half a password or port."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def read_int_line(path: Path) -> int | None:
    """The PID on the first line of a PostgreSQL lock file."""
    try:
        first = path.read_text().split("\n", 1)[0].strip()
    except OSError:
        return None
    return int(first) if first.isdigit() else None


def pid_file_line(pgdata: Path, index: int) -> str | None:
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    return lines[index].strip() if len(lines) > index else None


def pid_file_int(pgdata: Path, index: int) -> int | None:
    value = pid_file_line(pgdata, index)
    return int(value) if value and value.isdigit() else None


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"

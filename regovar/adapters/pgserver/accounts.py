"""Who runs the server programs, and telling our postmaster from an unrelated process."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SERVICE_USER = "regovar"


@dataclass(frozen=True)
class Account:
    """The unprivileged user that runs the server on behalf of a root Regovar."""

    uid: int
    gid: int
    name: str


def service_account() -> Account:
    """A dedicated system user when one exists or can be made; nobody as the last resort."""
    with contextlib.suppress(KeyError):
        return _named(SERVICE_USER)
    useradd = shutil.which("useradd")
    if useradd:
        cmd = [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin"]
        subprocess.run([*cmd, SERVICE_USER], capture_output=True, check=False, timeout=60)
        with contextlib.suppress(KeyError):  # another process may have created it meanwhile
            return _named(SERVICE_USER)
    return _named("nobody")


def account_for_uid(uid: int) -> Account:
    try:
        entry = pwd.getpwuid(uid)
    except KeyError:
        return Account(uid, uid, str(uid))
    return Account(uid, entry.pw_gid, entry.pw_name)


def _named(name: str) -> Account:
    entry = pwd.getpwnam(name)
    return Account(entry.pw_uid, entry.pw_gid, entry.pw_name)


def run_as(
    account: Account | None, args: list[str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Runs a program as ``account`` (None: as ourselves), without root's supplementary groups."""
    try:
        return subprocess.run(
            args,
            capture_output=True,
            text=True,
            env=clean_env(),
            cwd="/",  # our own working directory may be out of the account's reach
            umask=0o077,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
            user=account.uid if account else None,
            group=account.gid if account else None,
            extra_groups=[] if account else None,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{Path(args[0]).name} did not finish within {timeout} s") from exc


def can_traverse(account: Account | None, path: Path) -> bool:
    """Asks the kernel as the account itself, so ACLs and every ancestor directory count."""
    if account is None:
        return os.access(path, os.X_OK)
    return run_as(account, ["test", "-x", str(path)], timeout=10).returncode == 0


def clean_env() -> dict[str, str]:
    """PG* variables from the caller's shell would point the programs at another server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.setdefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    env["LC_ALL"] = "C"
    return env


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_postmaster_of(pid: int, pgdata: Path) -> bool:
    """A postmaster works in its data directory, which a reused PID (or a zombie) does not."""
    try:
        return os.readlink(f"/proc/{pid}/cwd") == str(pgdata.resolve())
    except OSError:
        return False


def processes_in(pgdata: Path) -> list[int]:
    """Every live process working in the data directory: a postmaster and all its children do."""
    target, found = str(pgdata.resolve()), []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{entry.name}/cwd") == target:
                    found.append(int(entry.name))
    return found

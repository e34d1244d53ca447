"""`regovar demo --no-serve`: the README's first command, on the test database."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from regovar.domain.errors import Unauthenticated
from regovar.domain.users import SignIn

REGOVAR = [sys.executable, "-c", "from regovar.cli import main; main()"]
SIGN_IN = re.compile(r'signIn\(login: "demo", password: "([^"]+)"\)')


def _demo(database_url: str, tmp_path) -> str:
    env = {**os.environ, "REGOVAR_DATABASE_URL": database_url, "REGOVAR_DATA_DIR": str(tmp_path)}
    env.pop("REGOVAR_BROKER_URL", None)
    done = subprocess.run(
        [*REGOVAR, "demo", "--no-serve"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_demo_imports_the_trio_and_prints_a_sign_in(container, database_url, tmp_path):
    first = _demo(database_url, tmp_path)
    for name in ("HG002", "HG003", "HG004"):
        assert name in first
    assert "9,940 records" in first or "9940" in first
    match = re.search(r"de novo candidates in HG002 .*: (\d+)", first)
    assert match and int(match.group(1)) > 0
    # the VAFs as the CLI shows them (0.3942857), not the stored float's 0.3942857086658478
    vafs = re.findall(r"│ (0\.\d+) +│\s*$", first, flags=re.M)
    assert vafs and all(len(v) <= 10 for v in vafs), first
    password = SIGN_IN.search(first).group(1)  # type: ignore[union-attr]
    signed = await container.users.sign_in(SignIn("demo", password, "test"))
    me = await container.users.authenticate(signed.token)
    projects = await container.projects.page(me)
    assert [p.name for p in projects.items] == ["demo"]

    second = _demo(database_url, tmp_path)
    assert "already imported" in second
    new_password = SIGN_IN.search(second).group(1)  # type: ignore[union-attr]
    assert new_password != password
    with pytest.raises(Unauthenticated):
        await container.users.sign_in(SignIn("demo", password, "test"))
    assert await container.users.sign_in(SignIn("demo", new_password, "test"))

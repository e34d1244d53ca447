"""Directory sign-in against a real OpenLDAP server (Debian's slapd) started by the test.

Skipped when slapd is not installed (`apt-get install slapd`; CI installs it).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from regovar.bootstrap import build
from regovar.config import load_settings
from regovar.domain.errors import DirectoryUnavailable, Unauthenticated
from regovar.domain.principal import SYSTEM
from regovar.domain.users import SignIn
from tests.helpers import PASSWORD, new_user

SUFFIX = "dc=hospital,dc=example"
ROOT_DN, ROOT_PW = f"cn=admin,{SUFFIX}", "directory-admin-secret"
USER_DN = f"uid={{login}},ou=people,{SUFFIX}"
SCHEMA = Path("/etc/ldap/schema")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    binary = shutil.which("slapd") or ("/usr/sbin/slapd" if Path("/usr/sbin/slapd").exists()
                                       else None)  # fmt: skip
    if binary is None or not (SCHEMA / "inetorgperson.schema").exists():
        pytest.skip("slapd is not installed")
    ldap3 = pytest.importorskip("ldap3")
    work = tmp_path_factory.mktemp("slapd")
    (work / "db").mkdir()
    conf = work / "slapd.conf"
    conf.write_text(
        "\n".join([
            *(f"include {SCHEMA / n}.schema" for n in ("core", "cosine", "inetorgperson")),
            f"pidfile {work / 'slapd.pid'}",
            "modulepath /usr/lib/ldap",
            "moduleload back_mdb",
            "database mdb",
            f'suffix "{SUFFIX}"',
            f'rootdn "{ROOT_DN}"',
            f"rootpw {ROOT_PW}",
            f"directory {work / 'db'}",
            "",
        ])
    )  # fmt: skip
    port = _free_port()
    url = f"ldap://127.0.0.1:{port}"
    server = subprocess.Popen([binary, "-f", str(conf), "-h", f"{url}/", "-d", "0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        conn = None
        for _ in range(100):
            try:
                conn = ldap3.Connection(url, ROOT_DN, ROOT_PW, auto_bind=True)
                break
            except ldap3.core.exceptions.LDAPException:
                if server.poll() is not None:
                    pytest.fail(f"slapd exited: {server.stderr.read().decode()[-1000:]}")
                time.sleep(0.1)
        assert conn is not None, "slapd did not answer"
        conn.add(SUFFIX, ["dcObject", "organization"], {"dc": "hospital", "o": "Hospital"})
        conn.add(f"ou=people,{SUFFIX}", ["organizationalUnit"], {"ou": "people"})
        for uid, given, sn, password in (
            ("jdoe", "Jane", "Doe", "jane's directory password"),
            ("rsmith", "Robert", "Smith", "robert's directory password"),
        ):
            conn.add(f"uid={uid},ou=people,{SUFFIX}", ["inetOrgPerson"],
                     {"uid": uid, "cn": f"{given} {sn}", "givenName": given, "sn": sn,
                      "mail": f"{uid}@hospital.example", "userPassword": password})  # fmt: skip
            assert conn.result["description"] == "success", conn.result
        conn.unbind()
        yield url
    finally:
        server.terminate()
        server.wait(10)


def _container(database_url: str, **ldap: str):
    settings = load_settings(env={}, database_url=database_url, broker_url="stub://", **ldap)
    return build(settings, url=database_url, with_broker=False)


@pytest.mark.parametrize("mode", ["template", "search"])
async def test_directory_users_sign_in_and_get_an_account(slapd, database_url, mode):
    if mode == "template":
        c = _container(
            database_url, ldap_url=slapd, ldap_user_dn=f"uid={{login}},ou=people,{SUFFIX}"
        )
    else:
        c = _container(database_url, ldap_url=slapd, ldap_base_dn=SUFFIX,
                       ldap_bind_dn=ROOT_DN, ldap_bind_password=ROOT_PW)  # fmt: skip
    try:
        login = "jdoe" if mode == "template" else "rsmith"
        password = f"{'jane' if login == 'jdoe' else 'robert'}'s directory password"
        signed = await c.users.sign_in(SignIn(login, password, "ward-3"))
        user = signed.user
        assert (user.login, user.source, user.is_admin) == (login, "ldap", False)
        assert user.email == f"{login}@hospital.example" and user.last_name in ("Doe", "Smith")
        assert user.password_hash is None  # the directory keeps the password
        me = await c.users.authenticate(signed.token)
        assert (await c.projects.page(me)).total == 0  # member of no project yet
        # The second sign-in finds the same account.
        again = await c.users.sign_in(SignIn(login, password, "ward-3"))
        assert again.user.id == user.id
        for wrong in ("not the password", "", " "):
            with pytest.raises(Unauthenticated):
                await c.users.sign_in(SignIn(login, wrong, "ward-3"))
        for odd in ("*", "jdoe)(uid=*", "nobody", "uid=jdoe,ou=people"):
            with pytest.raises(Unauthenticated):
                await c.users.sign_in(SignIn(odd, password, "ward-4"))
        # Regovar can still disable a directory user.
        await c.users.set_active(SYSTEM, user.id, False)
        with pytest.raises(Unauthenticated):
            await c.users.sign_in(SignIn(login, password, "ward-3"))
        await c.users.set_active(SYSTEM, user.id, True)
    finally:
        await c.aclose()


async def test_local_accounts_keep_their_password_beside_the_directory(slapd, database_url):
    c = _container(database_url, ldap_url=slapd, ldap_user_dn=USER_DN)
    try:
        local = await new_user(c, "local")
        assert (await c.users.sign_in(SignIn(local.login, PASSWORD, "x"))).user.source == "local"
    finally:
        await c.aclose()


async def test_an_unreachable_directory_says_so(database_url):
    c = _container(database_url, ldap_url=f"ldap://127.0.0.1:{_free_port()}",
                   ldap_user_dn=USER_DN)  # fmt: skip
    try:
        with pytest.raises(DirectoryUnavailable):
            await asyncio.wait_for(
                c.users.sign_in(SignIn(f"x{uuid.uuid4().hex[:6]}", "some password", "x")), 30
            )
    finally:
        await c.aclose()

"""What a first user ran into, kept fixed: ids, filters, relative paths, the in-process worker."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from regovar.domain import variant_filter as vf
from tests.helpers import DEMO_PED, DEMO_VCF, import_file, rows
from tests.integration.test_graphql import CREATE, client, gql  # noqa: F401

REGOVAR = [sys.executable, "-c", "from regovar.cli import main; main()"]


@pytest.mark.parametrize("bad", ["abc", "99999999999999999999", "-3", "0"])
async def test_malformed_ids_are_invalid_input(client, bad):  # noqa: F811
    for query in (
        "query($i: ID!) { project(id: $i) { id } }",
        "query($i: ID!) { import(id: $i) { id } }",
        "query($i: ID!) { variants(query: {samples: [$i]}) { total } }",
    ):
        result = await gql(client, query, i=bad)
        assert result["errors"][0]["extensions"]["code"] == "INVALID_INPUT", result


async def test_filter_without_pass_or_names_is_no_condition(container):
    job = await import_file(container, DEMO_VCF)
    everything, _ = await rows(container, job, limit=0)
    page_all = await _total(container, job, None)
    page_unfiltered = await _total(container, job, vf.Filters(pass_only=False))
    assert page_all == page_unfiltered == 9940
    assert everything == []


async def _total(container, job, node):
    from regovar.domain.principal import SYSTEM

    samples = await container.variants.samples(SYSTEM, import_id=job.id)
    ids = tuple(s.id for s in samples.items)
    return (await container.variants.query(SYSTEM, vf.VariantQuery(ids, node, limit=1))).total


async def test_relative_path_is_read_in_the_import_folder(client, import_dir):  # noqa: F811
    name = f"rel-{uuid.uuid4().hex[:6]}.vcf.gz"
    shutil.copy(DEMO_VCF, import_dir / name)
    project = (await gql(client, CREATE, n=f"rel-{uuid.uuid4().hex[:6]}"))["data"]["createProject"]
    started = await gql(
        client,
        "mutation($p: ID!, $f: String!) { startImport(projectId: $p, path: $f) "
        "{ import { state file { name path } } } }",
        p=project["id"],
        f=name,
    )
    job = started["data"]["startImport"]["import"]
    assert job["state"] == "queued"
    assert job["file"]["path"] == str((import_dir / name).resolve())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_with_worker_imports_through_graphql(database_url, import_dir, tmp_path):
    """The web server and its in-process worker each have their own event loop and engine."""
    port = _free_port()
    env = {
        **os.environ,
        "REGOVAR_DATABASE_URL": database_url,
        "REGOVAR_HTTP_PORT": str(port),
        "REGOVAR_IMPORT_DIRS": str(import_dir),
        "REGOVAR_DATA_DIR": str(tmp_path),
    }
    env.pop("REGOVAR_BROKER_URL", None)
    # The first user is created on the server with the CLI, the password read from a file.
    login, password_file = f"tech-{uuid.uuid4().hex[:6]}", tmp_path / "password"
    password_file.write_text("a long enough password\n")
    created = subprocess.run(
        [*REGOVAR, "users", "create", login, "--password-file", str(password_file)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert f"user {login} created" in created.stdout
    audit = subprocess.run(
        [*REGOVAR, "audit", "list", "--object-type", "user", "--format", "json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    (made,) = [e for e in json.loads(audit.stdout)["items"] if e["details"].get("login") == login]
    assert made["actor"] == "system" and made["details"]["via"].startswith("cli:")
    shutil.copy(DEMO_VCF, import_dir / "served.vcf.gz")
    shutil.copy(DEMO_PED, import_dir / "served.ped")
    server = subprocess.Popen(
        [*REGOVAR, "serve", "--with-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            _wait_up(http, server)
            post = lambda q, **v: http.post("/graphql", json={"query": q, "variables": v}).json()  # noqa: E731
            assert post(CREATE, n="anonymous")["errors"][0]["extensions"]["code"] == (
                "UNAUTHENTICATED"
            )
            signed = http.post(
                "/graphql",
                json={
                    "query": "mutation($l: String!, $p: String!) { signIn(login: $l, "
                    "password: $p) { token user { login isAdmin } } }",
                    "variables": {"l": login, "p": "a long enough password"},
                },
                headers={"X-Forwarded-For": "6.6.6.6"},  # no trusted proxy: not believed
            ).json()["data"]["signIn"]
            assert signed["user"] == {"login": login, "isAdmin": False}
            http.headers["Authorization"] = f"Bearer {signed['token']}"
            project = post(CREATE, n=f"served-{uuid.uuid4().hex[:6]}")["data"]["createProject"]
            started = post(
                'mutation($p: ID!) { startImport(projectId: $p, path: "served.vcf.gz",'
                ' pedPath: "served.ped") { import { id } } }',
                p=project["id"],
            )
            job_id = started["data"]["startImport"]["import"]["id"]
            state = None
            for _ in range(300):
                state = post("query($i: ID!) { import(id: $i) { state records } }", i=job_id)
                if state["data"]["import"]["state"] in ("done", "failed"):
                    break
                time.sleep(0.2)
            assert state["data"]["import"] == {"state": "done", "records": 9940}
            assert post("{ health }")["data"]["health"] is True
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
    assert server.returncode == 0, err.decode()[-2000:]
    assert b"different loop" not in err
    audit = subprocess.run(
        [*REGOVAR, "audit", "list", "--object-type", "session", "--format", "json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    (sign_in,) = [e for e in json.loads(audit.stdout)["items"]
                  if e["action"] == "user.sign_in" and e["actor"] == login]  # fmt: skip
    assert sign_in["details"]["client"] == "127.0.0.1"


def _wait_up(http: httpx.Client, server: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if server.poll() is not None:
            raise AssertionError(server.stderr.read().decode() if server.stderr else "exited")
        try:
            if http.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("server did not start")


def test_cli_on_an_empty_database_says_what_to_do(database_url, tmp_path):
    url = make_url(database_url)
    name = f"regovar_empty_{uuid.uuid4().hex[:6]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {
            **os.environ,
            "REGOVAR_DATABASE_URL": url.set(database=name).render_as_string(hide_password=False),
            "REGOVAR_DATA_DIR": str(tmp_path),
        }
        done = subprocess.run(
            [*REGOVAR, "projects", "list"], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 1
        assert done.stderr.strip().startswith("DATABASE_NOT_INITIALISED:")
        assert "regovar db upgrade" in done.stderr and "Traceback" not in done.stderr
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_an_empty_as_login_is_refused_not_the_server(database_url, tmp_path):
    env = {**os.environ, "REGOVAR_DATABASE_URL": database_url, "REGOVAR_DATA_DIR": str(tmp_path)}
    for value in ("", "  "):
        done = subprocess.run([*REGOVAR, "--as", value, "users", "list"], env=env,
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert done.returncode != 0 and done.stdout == ""
        assert "INVALID_INPUT" in done.stderr or "NOT_FOUND" in done.stderr

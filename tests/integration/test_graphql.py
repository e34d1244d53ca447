"""GraphQL over HTTP (ASGI transport), with the import run by a real dramatiq worker."""

from __future__ import annotations

import shutil
import uuid

import httpx
import pytest
from dramatiq import Worker

from regovar.bootstrap import build
from regovar.graphql.app import create_app
from regovar.tasks.actors import register
from tests.helpers import DEMO_PED, DEMO_VCF, bearer, signed_in


@pytest.fixture
async def client(container):
    """A signed-in (non-administrator) user's client: the projects it creates are its own."""
    app = create_app(container)
    transport = httpx.ASGITransport(app=app)
    _, token = await signed_in(container, "gql")
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=bearer(token)
    ) as http:
        yield http


async def gql(client, query: str, **variables):
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


CREATE = "mutation($n: String!) { createProject(name: $n) { id name } }"
START = """mutation($p: ID!, $path: String!, $ped: String) {
  startImport(projectId: $p, path: $path, pedPath: $ped) {
    alreadyImported import { id state progress }
  }
}"""


async def test_health_and_project_creation(client):
    assert (await client.get("/health")).json() == {"status": "ok"}
    name = f"gql-{uuid.uuid4().hex[:6]}"
    created = await gql(client, CREATE, n=name)
    assert created["data"]["createProject"]["name"] == name
    again = await gql(client, CREATE, n=name)
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"


async def test_import_outside_import_folder_is_refused(client):
    project = (await gql(client, CREATE, n=f"gql-{uuid.uuid4().hex[:6]}"))["data"]["createProject"]
    result = await gql(client, START, p=project["id"], path=str(DEMO_VCF))
    assert result["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    traversal = await gql(client, START, p=project["id"], path="/etc/../etc/passwd")
    assert traversal["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"


async def test_import_through_worker_then_query_variants(client, container, import_dir):
    vcf, ped = import_dir / "trio.vcf.gz", import_dir / "trio.ped"
    shutil.copy(DEMO_VCF, vcf)
    shutil.copy(DEMO_PED, ped)
    project = (await gql(client, CREATE, n=f"gql-{uuid.uuid4().hex[:6]}"))["data"]["createProject"]
    started = await gql(client, START, p=project["id"], path=str(vcf), ped=str(ped))
    job = started["data"]["startImport"]["import"]
    assert job["state"] == "queued"
    # The worker runs its actors on its own event loop: it gets its own container and engine,
    # exactly as `regovar worker` would in another process.
    worker_container = build(container.settings, url=container.database_url, with_broker=False)
    worker_container.queue = container.queue
    broker = container.queue.broker
    register(worker_container)
    worker = Worker(broker, worker_threads=1)
    worker.start()
    try:
        broker.join("imports", timeout=120_000)
    finally:
        worker.stop()
    status = await gql(
        client,
        "query($id: ID!) { import(id: $id) { state records sampleCount "
        "warnings { kind } project { name } } }",
        id=job["id"],
    )
    assert status["data"]["import"]["state"] == "done"
    assert status["data"]["import"]["records"] == 9940
    assert status["data"]["import"]["project"]["name"] == project["name"]
    samples = await gql(
        client,
        "query($p: ID!) { samples(projectId: $p) { total items { id name } } }",
        p=project["id"],
    )
    ids = {s["name"]: s["id"] for s in samples["data"]["samples"]["items"]}
    query = """query($q: VariantQueryInput!) { variants(query: $q) {
        total items { chrom pos ref alt genes calls { sampleId gt zygosity dp vaf } } } }"""
    result = await gql(
        client,
        query,
        q={
            "samples": [ids["HG002"], ids["HG003"], ids["HG004"]],
            "genotypes": [
                {"sample": ids["HG002"], "zygosity": ["HET"]},
                {"sample": ids["HG003"], "zygosity": ["HOM_REF"]},
                {"sample": ids["HG004"], "zygosity": ["HOM_REF"]},
            ],
            "sampleValues": [{"sample": ids["HG002"], "field": "DP", "op": "GE", "value": 10}],
            "limit": 5,
        },
    )
    page = result["data"]["variants"]
    assert page["total"] > 0 and len(page["items"]) == min(5, page["total"])
    for item in page["items"]:
        calls = {c["sampleId"]: c for c in item["calls"]}
        assert calls[ids["HG002"]]["zygosity"] in ("HET", "HET_ALT")
        assert calls[ids["HG003"]]["zygosity"] == "HOM_REF"
        assert calls[ids["HG002"]]["dp"] >= 10
    # INFO operators in upper case ('GE', as sample values write them) were refused; several
    # values in one INFO condition were taken silently.
    trio = [ids["HG002"], ids["HG003"], ids["HG004"]]
    totals = []
    for op in ("ge", "GE"):
        got = await gql(client, query, q={"samples": trio, "limit": 1,
                                          "info": [{"name": "QD", "op": op, "number": 30}]})
        totals.append(got["data"]["variants"]["total"])
    assert totals[0] == totals[1] > 0
    both = await gql(client, query, q={"samples": trio, "info": [
        {"name": "QD", "op": "ge", "number": 30, "text": "x"}]})  # fmt: skip
    assert both["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "give one of number, text or flag" in both["errors"][0]["message"]
    none = await gql(client, query, q={"samples": trio, "info": [{"name": "QD", "op": "GE"}]})
    assert none["errors"][0]["extensions"]["code"] == "INVALID_INPUT"  # matched nothing before
    assert "INFO QD ge: no value to compare with" in none["errors"][0]["message"]


async def test_errors_carry_codes_and_limits_hold(client):
    missing = await gql(client, 'query { project(id: "999999") { id } }')
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    bad = await gql(client, "query { variants(query: {samples: []}) { total } }")
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    aliases = " ".join(f"a{i}: health" for i in range(50))
    too_many = await gql(client, "query { " + aliases + " }")
    assert "errors" in too_many
    deep = "{ projects { items { " * 12 + "id" + " } }" * 12 + " }"
    assert "errors" in await gql(client, deep)


async def test_a_query_asking_for_too_many_items_is_refused(client):
    nested = "{ projects(limit: 1000) { items { samples(limit: 1000) { items { id } } } } }"
    refused = await gql(client, nested)
    assert refused["data"] is None
    (error,) = refused["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] > error["extensions"]["maxCost"] == 100_000
    by_variable = (
        "query($l: Int!) { projects(limit: $l) { items { imports(limit: $l) { items { id } } } } }"
    )
    refused = await gql(client, by_variable, l=1000)
    assert refused["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert "errors" not in await gql(client, by_variable, l=5)
    # A fragment spreading the next one twice, 30 times over: 2^30 fields in under 1 KB,
    # refused at once, before the other validation rules walk it (they would take hours).
    frags = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
    bomb = f"query {{ ...F0 }} {frags} fragment F30 on Query {{ health }}"
    exploded = await gql(client, bomb)
    assert exploded["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    # Default pages nested once stay allowed.
    fine = await gql(client, "{ projects { items { samples { items { id } } } } }")
    assert "errors" not in fine


async def test_odd_bodies_are_bad_requests(client):
    deep = b'{"query": "{ health }", "variables": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    for body in (b"12345", b'"text"', b"null", deep):
        answer = await client.post("/graphql", content=body,
                                   headers={"content-type": "application/json"})  # fmt: skip
        assert answer.status_code == 400, (body[:20], answer.text[:200])


async def test_graphiql_is_served_without_a_cdn(client):
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "unpkg.com" not in page.text and "cdn" not in page.text.lower()


async def test_cross_origin_browser_calls_only_from_configured_origins(container):
    import dataclasses

    preflight = {
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    for origins, allowed in (((), False), (("https://lims.hospital.example",), False),
                             (("https://evil.example",), True)):  # fmt: skip
        settings = dataclasses.replace(container.settings, cors_origins=origins)
        app = create_app(dataclasses.replace(container, settings=settings))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            answer = await http.options("/graphql", headers=preflight)
        granted = answer.headers.get("access-control-allow-origin") == "https://evil.example"
        assert granted is allowed, (origins, answer.status_code, dict(answer.headers))


async def test_hostile_sizes_and_characters_get_clear_errors(client):
    big = await client.post("/graphql", content=b'{"query": "' + b" " * (2 << 20) + b'{ health }"}',
                            headers={"content-type": "application/json"})  # fmt: skip
    assert big.status_code == 413
    assert big.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
    regions = [{"chrom": "1", "start": i + 1, "end": i + 1} for i in range(3000)]
    many = await gql(
        client,
        "query($q: VariantQueryInput!) { variants(query: $q) { total } }",
        q={"samples": ["1"], "regions": regions},
    )
    assert many["errors"][0]["extensions"]["code"] in ("INVALID_INPUT", "NOT_FOUND")
    for name in ("bad\x00name", "tab\tname", "\ud800"):
        odd = await client.post(
            "/graphql",
            content=('{"query": "mutation($n: String!) { createProject(name: $n) { id } }", '
                     '"variables": {"n": "' + name.encode("unicode_escape").decode()
                     .replace("\\x", "\\u00") + '"}}').encode(),
            headers={"content-type": "application/json"},
        )  # fmt: skip
        assert odd.status_code == 200, odd.text
        assert odd.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT", (name, odd.text)
    nul_path = await gql(client, 'mutation { startImport(projectId: "1", path: "a\\u0000b") '
                         "{ alreadyImported } }")  # fmt: skip
    assert nul_path["errors"][0]["extensions"]["code"] in ("INVALID_INPUT", "NOT_FOUND")


async def test_bad_variables_and_nul_text_are_the_caller_s_errors(client):
    # Variables not of their types, and a NUL in a text the database is given, answered
    # INTERNAL ('the administrator can find it'), as if the server had failed.
    query = "query($q: VariantQueryInput!) { variants(query: $q) { total } }"
    for variables in ({"q": {"samples": ["1"], "sort": [{"field": "pos; DROP"}]}},
                      {"q": {"samples": ["1"], "limit": "5"}}, {}, {"q": None}):  # fmt: skip
        got = await gql(client, query, **variables)
        assert got["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", got
    got = await gql(client, "query($n: String!) { samples(name: $n) { total } }", n="a\u0000")
    assert got["errors"][0]["extensions"] == {"code": "INVALID_INPUT"}, got
    assert "NUL" in got["errors"][0]["message"]

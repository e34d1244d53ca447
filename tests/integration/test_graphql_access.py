"""Every GraphQL operation refuses an anonymous caller, and no member of project B reaches
anything of project A. The operations are read from the schema itself, so an operation added
later is covered without touching this file (and must be given arguments in CROSS_PROJECT)."""

from __future__ import annotations

import shutil
import uuid

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)

from regovar.domain.analyses import CreateAnalysis, MemberSpec
from regovar.domain.imports import StartImport
from regovar.domain.principal import Principal
from regovar.domain.projects import CreateProject
from regovar.domain.users import SignIn
from regovar.graphql.app import create_app
from regovar.graphql.schema import schema
from tests.helpers import DEMO_PED, DEMO_VCF, PASSWORD, bearer, new_user

PUBLIC = {"health", "signIn"}
GQL = schema._schema


def _operations() -> list[tuple[str, str, GraphQLField]]:
    found = []
    for kind, root in (("query", GQL.query_type), ("mutation", GQL.mutation_type)):
        assert root is not None
        found += [(kind, name, f) for name, f in root.fields.items()]
    return found


def _literal(t: GraphQLInputType) -> str:
    """A well-formed value of a type, so that the call reaches its resolver."""
    if isinstance(t, GraphQLNonNull):
        return _literal(t.of_type)
    if isinstance(t, GraphQLList):
        return f"[{_literal(t.of_type)}]"
    if isinstance(t, GraphQLEnumType):
        return next(iter(t.values))
    if isinstance(t, GraphQLInputObjectType):
        required = [
            f"{n}: {_literal(f.type)}"
            for n, f in t.fields.items()
            if isinstance(f.type, GraphQLNonNull)
        ]
        return "{" + ", ".join(required) + "}"
    assert isinstance(t, GraphQLScalarType)
    return {"ID": '"1"', "String": '"viewer"', "Int": "1", "Float": "1.0", "Boolean": "true",
            "JSON": "{version: 1}"}.get(
        t.name, "null"
    )


def _selection(field: GraphQLField) -> str:
    named = get_named_type(field.type)
    return " { __typename }" if isinstance(named, GraphQLObjectType) else ""


def _call(kind: str, name: str, field: GraphQLField, args: str | None = None) -> str:
    if args is None:
        required = [
            f"{a}: {_literal(arg.type)}"
            for a, arg in field.args.items()
            if isinstance(arg.type, GraphQLNonNull)
        ]
        args = ", ".join(required)
    return f"{kind} {{ {name}{f'({args})' if args else ''}{_selection(field)} }}"


@pytest.fixture
async def http(container):
    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def _post(http, query: str, token: str | None = None) -> dict:
    headers = bearer(token) if token else {}
    response = await http.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    "kind,name", [(k, n) for k, n, _ in _operations() if n not in PUBLIC]
)  # fmt: skip
async def test_every_operation_refuses_anonymous_callers(http, kind, name):
    field = (GQL.query_type if kind == "query" else GQL.mutation_type).fields[name]  # type: ignore[union-attr]
    for token in (None, "not-a-real-token"):
        body = await _post(http, _call(kind, name, field), token)
        assert body.get("data") in (None, {name: None}), body
        codes = {e["extensions"]["code"] for e in body["errors"]}
        assert codes == {"UNAUTHENTICATED"}, (name, body)


async def test_an_ended_session_says_so(http, container):
    user = await new_user(container, "ended")
    signed = await container.users.sign_in(SignIn(user.login, PASSWORD, "x"))
    await container.users.sign_out(await container.users.authenticate(signed.token))
    body = await _post(http, "{ me { login } }", signed.token)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "session has ended" in body["errors"][0]["message"]
    unknown = await _post(http, "{ me { login } }", "made-up-token")
    assert "unknown session token" in unknown["errors"][0]["message"]
    assert "sign in first" in (await _post(http, "{ me { login } }"))["errors"][0]["message"]


async def test_public_operations_answer_anonymous_callers(http):
    assert (await _post(http, "{ health }"))["data"] == {"health": True}
    body = await _post(http, 'mutation { signIn(login: "nobody", password: "x") { token } }')
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "wrong login or password" in body["errors"][0]["message"]


@pytest.fixture(scope="module")
async def two_projects(container, import_dir):
    """Project A (owned by alice, with an imported trio) and project B (bob's)."""
    alice, bob = await new_user(container, "alice"), await new_user(container, "bob")
    marker = uuid.uuid4().hex[:8]
    a = await container.projects.create(
        Principal(alice.id, alice.login), CreateProject(f"secret-{marker}")
    )
    b = await container.projects.create(Principal(bob.id, bob.login), CreateProject(f"b-{marker}"))
    vcf, ped = import_dir / f"secret-{marker}.vcf.gz", import_dir / f"secret-{marker}.ped"
    shutil.copy(DEMO_VCF, vcf)
    shutil.copy(DEMO_PED, ped)
    as_alice = Principal(alice.id, alice.login)
    started = await container.imports.start(
        as_alice, StartImport(a.id, str(vcf), str(ped)), queue=False
    )
    job = await container.imports.run(as_alice, started.job.id)
    samples = await container.variants.samples(as_alice, project_id=a.id)
    analysis = await container.analyses.create(
        as_alice, CreateAnalysis(a.id, f"secret-{marker}", (MemberSpec(samples.items[0].id),))
    )
    alice_session = await container.users.sign_in(SignIn(alice.login, PASSWORD, "a"))
    bob_session = await container.users.sign_in(SignIn(bob.login, PASSWORD, "b"))
    return {
        "marker": marker,
        "project": a.id,
        "b": b.id,
        "import": job.id,
        "file": vcf.name,
        "samples": [s.id for s in samples.items],
        "analysis": analysis.analysis.id,
        "alice": alice,
        "alice_session": alice_session.session.id,
        "bob_token": bob_session.token,
    }


# Arguments naming project A's objects, per operation; an operation missing here fails the test.
CROSS_PROJECT = {
    "me": "",
    "users": "",
    "mySessions": "",
    "auditEvents": 'projectId: "{project}"',
    "verifyAudit": "",
    "projects": "",
    "project": 'id: "{project}"',
    "imports": 'projectId: "{project}"',
    "import": 'id: "{import}"',
    "samples": 'projectId: "{project}"',
    "variants": "query: {{samples: [{samples_list}]}}",
    "signOut": None,  # would end bob's own session: tested elsewhere
    "changePassword": 'currentPassword: "x", newPassword: "yyyyyyyyyyyy"',
    "revokeSession": 'id: "{alice_session}"',
    "createUser": 'input: {{login: "mallory-{marker}", password: "mallory password"}}',
    "setUserActive": 'id: "{alice_id}", active: false',
    "resetPassword": 'id: "{alice_id}", password: "taken over account"',
    "setProjectMember": 'projectId: "{project}", login: "{bob_login}", role: "owner"',
    "removeProjectMember": 'projectId: "{project}", login: "{alice_login}"',
    "createProject": 'name: "b-own-{marker}"',
    "startImport": 'projectId: "{project}", path: "{file}"',
    "analyses": 'projectId: "{project}"',
    "analysis": 'id: "{analysis}"',
    "analysisResults": 'analysisId: "{analysis}", filter: {{version: 1}}',
    "createAnalysis": 'input: {{projectId: "{project}", name: "x", samples: [{{sampleId: '
    '"{first_sample}"}}]}}',
    "analysisFilters": 'analysisId: "{analysis}"',
    "serverStatus": "",
    "batches": "",
    "jobs": "",
    "job": 'id: "1"',
    "mails": "",
    "runBatch": 'kind: "monitor"',
    "inboxRuns": "",
    "archives": "",
    "restoreArchive": 'id: "1"',
    "setProjectProtected": 'projectId: "{project}", protected: true',
    "setProjectNotifications": 'projectId: "{project}", notify: true',
    "updateAnalysis": 'input: {{analysisId: "{analysis}", status: "closed"}}',
    "variantHistory": 'analysisId: "{analysis}", variantKey: "00112233445566778899aabbccddeeff"',
    "variantInterpretations": 'analysisId: "{analysis}", variantKeys: '
    '["00112233445566778899aabbccddeeff"]',
    "addVariantNote": 'input: {{analysisId: "{analysis}", variantKeys: '
    '["00112233445566778899aabbccddeeff"], kind: "select"}}',
    "analysisVariant": 'analysisId: "{analysis}", variantKey: "00112233445566778899aabbccddeeff"',
    "analysisExport": 'analysisId: "{analysis}", format: "tsv", filter: {{version: 1}}',
    "saveFilter": 'analysisId: "{analysis}", name: "x", filter: {{version: 1}}',
}
ALLOWED = {"me", "mySessions", "projects", "createProject", "changePassword"}


async def test_a_member_of_b_reaches_nothing_of_a(http, container, two_projects):
    ops = {name: (kind, field) for kind, name, field in _operations() if name not in PUBLIC}
    assert set(ops) == set(CROSS_PROJECT), "give every new operation arguments in CROSS_PROJECT"
    t = two_projects
    values = {
        **{k: v for k, v in t.items() if isinstance(v, str | int)},
        "samples_list": ", ".join(f'"{s}"' for s in t["samples"]),
        "first_sample": t["samples"][0],
        "alice_id": t["alice"].id,
        "alice_login": t["alice"].login,
        "bob_login": "bob-unused",
    }
    for name, args in CROSS_PROJECT.items():
        if args is None:
            continue
        kind, field = ops[name]
        query = _call(kind, name, field, args.format(**values))
        body = await _post(http, query, t["bob_token"])
        text = str(body)
        assert t["marker"] not in text.replace(f"b-own-{t['marker']}", "").replace(
            f"mallory-{t['marker']}", ""
        ), (name, body)
        if name in ALLOWED:
            continue
        codes = {e["extensions"]["code"] for e in body.get("errors") or []}
        assert codes and codes <= {"NOT_FOUND", "PERMISSION_DENIED", "INVALID_INPUT"}, (name, body)

    # Lists answer bob's own data only.
    listed = await _post(
        http,
        "{ projects { items { id } } imports { items { id } } samples { items { id } } "
        "analyses { items { id } } }",
        t["bob_token"],
    )
    data = listed["data"]
    assert data["analyses"]["items"] == []
    assert str(t["project"]) not in {p["id"] for p in data["projects"]["items"]}
    assert str(t["import"]) not in {i["id"] for i in data["imports"]["items"]}
    assert not {str(s) for s in t["samples"]} & {s["id"] for s in data["samples"]["items"]}
    # Nothing bob tried changed alice's account or project.
    alice = await container.users.get(Principal(t["alice"].id, t["alice"].login), t["alice"].id)
    assert alice.is_active
    members = await container.members.list(Principal(alice.id, alice.login), t["project"])
    assert [(m.user.login, m.member.role) for m in members] == [(alice.login, "owner")]


async def test_members_see_each_others_names_not_their_account_details(http, container):
    owner, colleague = await new_user(container, "owner"), await new_user(container, "colleague")
    token = (await container.users.sign_in(SignIn(owner.login, PASSWORD, "o"))).token
    project = (await _post(http, f'mutation {{ createProject(name: "m-{owner.login}") {{ id }} }}',
                           token))["data"]["createProject"]  # fmt: skip
    fields = "user { login firstName email isAdmin isActive createdAt } role"
    added = await _post(
        http,
        f'mutation {{ setProjectMember(projectId: "{project["id"]}", login: "{colleague.login}", '
        f'role: "viewer") {{ {fields} }} }}',
        token,
    )
    user = added["data"]["setProjectMember"]["user"]
    assert user["login"] == colleague.login
    assert (user["email"], user["isAdmin"], user["isActive"], user["createdAt"]) == (None,) * 4
    me = await _post(http, "{ me { email isAdmin } }", token)
    assert me["data"]["me"] == {"email": owner.email, "isAdmin": False}

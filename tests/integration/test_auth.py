"""Sign-in, sessions, passwords, deactivation, roles and the audit chain, on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from sqlalchemy import text

from regovar.bootstrap import build
from regovar.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    Unauthenticated,
)
from regovar.domain.imports import StartImport
from regovar.domain.principal import ANONYMOUS, SYSTEM, Principal
from regovar.domain.projects import CreateProject
from regovar.domain.users import CreateUser, SignIn
from tests.conftest import settings_for
from tests.helpers import DEMO_VCF, PASSWORD, new_user


def _as(user) -> Principal:
    return Principal(user.id, user.login, user.is_admin)


async def _sql(container, sql: str, **params):
    async with container.engine.begin() as conn:
        result = await conn.execute(text(sql), params)
        return result.all() if result.returns_rows else []


async def test_no_default_account_and_passwords_are_argon2(container):
    rows = await _sql(container, "SELECT login FROM users WHERE login IN ('admin', 'root')")
    assert rows == []
    user = await new_user(container)
    (stored,) = await _sql(container, "SELECT password_hash FROM users WHERE id = :i", i=user.id)
    assert stored[0].startswith("$argon2id$") and PASSWORD not in stored[0]


async def test_passwords_too_short_or_equal_to_login_are_refused(container):
    with pytest.raises(InvalidInput):
        await container.users.create(SYSTEM, CreateUser("shorty", "short"))
    with pytest.raises(InvalidInput):
        await container.users.create(SYSTEM, CreateUser("samelogin12", "SameLogin12"))
    user = await new_user(container)
    with pytest.raises(Conflict):
        await container.users.create(SYSTEM, CreateUser(user.login.upper(), PASSWORD))


async def test_only_administrators_create_users(container):
    user = await new_user(container)
    with pytest.raises(PermissionDenied):
        await container.users.create(_as(user), CreateUser(f"x-{uuid.uuid4().hex[:6]}", PASSWORD))
    with pytest.raises(Unauthenticated):
        await container.users.create(ANONYMOUS, CreateUser(f"x-{uuid.uuid4().hex[:6]}", PASSWORD))


async def test_sign_in_gives_a_token_stored_hashed_that_authenticates(container):
    user = await new_user(container)
    signed = await container.users.sign_in(SignIn(user.login, PASSWORD, "10.1.2.3"))
    principal = await container.users.authenticate(signed.token)
    assert (principal.user_id, principal.login, principal.session_id) == (
        user.id, user.login, signed.session.id,
    )  # fmt: skip
    stored = await _sql(container, "SELECT token_hash FROM user_sessions WHERE id = :i",
                        i=signed.session.id)  # fmt: skip
    assert signed.token.encode() not in bytes(stored[0][0]) and len(bytes(stored[0][0])) == 32
    with pytest.raises(Unauthenticated):
        await container.users.authenticate(signed.token + "x")
    with pytest.raises(Unauthenticated):
        await container.users.sign_in(SignIn(user.login, PASSWORD + "x", "10.1.2.3"))
    with pytest.raises(Unauthenticated):
        await container.users.sign_in(SignIn("nobody-" + uuid.uuid4().hex, PASSWORD, "10.1.2.3"))


async def test_repeated_failures_are_throttled_per_account_and_per_address(container):
    user = await new_user(container)
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            await container.users.sign_in(SignIn(user.login, "wrong password", "10.9.9.1"))
    # Even the right password is refused now, from any address.
    with pytest.raises(TooManyAttempts) as refused:
        await container.users.sign_in(SignIn(user.login, PASSWORD, "10.9.9.2"))
    assert refused.value.data["retry_after_s"] == 15 * 60

    address = f"10.8.{uuid.uuid4().int % 250}.7"
    other = await new_user(container)
    for i in range(20):  # many logins tried from one address
        with pytest.raises(Unauthenticated):
            await container.users.sign_in(SignIn(f"guess-{i}", "wrong password", address))
    with pytest.raises(TooManyAttempts):
        await container.users.sign_in(SignIn(other.login, PASSWORD, address))
    assert await container.users.sign_in(SignIn(other.login, PASSWORD, "10.8.0.1"))


async def test_expired_and_revoked_sessions_end(container):
    user = await new_user(container)
    first = await container.users.sign_in(SignIn(user.login, PASSWORD, "a"))
    second = await container.users.sign_in(SignIn(user.login, PASSWORD, "b"))
    me = await container.users.authenticate(first.token)
    sessions = await container.users.sessions(me)
    assert {s.id for s in sessions} == {first.session.id, second.session.id}

    await container.users.revoke_session(me, second.session.id)
    with pytest.raises(Unauthenticated):
        await container.users.authenticate(second.token)

    await _sql(container, "UPDATE user_sessions SET expires_at = now() - interval '1 second' "
               "WHERE id = :i", i=first.session.id)  # fmt: skip
    with pytest.raises(Unauthenticated):
        await container.users.authenticate(first.token)

    third = await container.users.sign_in(SignIn(user.login, PASSWORD, "c"))
    me = await container.users.authenticate(third.token)
    await container.users.sign_out(me)
    with pytest.raises(Unauthenticated):
        await container.users.authenticate(third.token)


async def test_a_user_cannot_revoke_another_users_session(container):
    alice, bob = await new_user(container, "alice"), await new_user(container, "bob")
    bobs = await container.users.sign_in(SignIn(bob.login, PASSWORD, "b"))
    with pytest.raises(NotFound):
        await container.users.revoke_session(_as(alice), bobs.session.id)
    assert (await container.users.authenticate(bobs.token)).user_id == bob.id


async def test_parallel_guesses_are_throttled_like_sequential_ones(container):
    user = await new_user(container, "parallel")
    attempts = [SignIn(user.login, f"guess number {i}", f"10.6.0.{i}") for i in range(12)]
    results = await asyncio.gather(
        *(container.users.sign_in(a) for a in attempts), return_exceptions=True
    )
    wrong = [r for r in results if isinstance(r, Unauthenticated)]
    throttled = [r for r in results if isinstance(r, TooManyAttempts)]
    assert (len(wrong), len(throttled)) == (5, 7)
    checked = await _sql(container, "SELECT count(*) FROM sign_in_failures WHERE login = :l",
                         l=user.login.lower())  # fmt: skip
    assert checked[0][0] == 5
    with pytest.raises(TooManyAttempts):
        await container.users.sign_in(SignIn(user.login, PASSWORD, "10.6.0.99"))


async def test_guessing_the_current_password_is_throttled(container):
    user = await new_user(container, "stolen")
    signed = await container.users.sign_in(SignIn(user.login, PASSWORD, "10.5.5.5"))
    me = await container.users.authenticate(signed.token)
    for i in range(5):
        with pytest.raises(PermissionDenied):
            await container.users.change_password(me, f"guess {i} guess", "a new password!")
    with pytest.raises(TooManyAttempts):
        await container.users.change_password(me, PASSWORD, "a new password!")
    events = await _sql(container, "SELECT count(*) FROM audit_events WHERE object_id = :u "
                        "AND action = 'user.change_password_failed'", u=str(user.id))  # fmt: skip
    assert events[0][0] == 5


async def test_malformed_logins_and_passwords_are_plain_failures(container):
    odd = [("a\x00b", "x" * 12), ("[/bold]", "x" * 12), ("ok-login", "\ud800" * 12),
           ("ok-login", "nul\x00inside")]  # fmt: skip
    for login, password in odd:
        with pytest.raises(Unauthenticated):
            await container.users.sign_in(SignIn(login, password, "10.4.4.4"))
    rows = await _sql(container, "SELECT DISTINCT login FROM sign_in_failures WHERE client = :c",
                      c="10.4.4.4")  # fmt: skip
    assert {r[0] for r in rows} <= {"", "ok-login"}


async def test_password_change_keeps_this_session_and_ends_the_others(container):
    user = await new_user(container)
    here = await container.users.sign_in(SignIn(user.login, PASSWORD, "here"))
    there = await container.users.sign_in(SignIn(user.login, PASSWORD, "there"))
    me = await container.users.authenticate(here.token)
    with pytest.raises(PermissionDenied):
        await container.users.change_password(me, "not my password", "a brand new password")
    await container.users.change_password(me, PASSWORD, "a brand new password")
    assert (await container.users.authenticate(here.token)).user_id == user.id
    with pytest.raises(Unauthenticated):
        await container.users.authenticate(there.token)
    with pytest.raises(Unauthenticated):
        await container.users.sign_in(SignIn(user.login, PASSWORD, "x"))
    assert await container.users.sign_in(SignIn(user.login, "a brand new password", "x"))


async def test_deactivated_users_are_signed_out_and_cannot_sign_in(container):
    user = await new_user(container)
    signed = await container.users.sign_in(SignIn(user.login, PASSWORD, "a"))
    await container.users.set_active(SYSTEM, user.id, False)
    with pytest.raises(Unauthenticated):
        await container.users.authenticate(signed.token)
    with pytest.raises(Unauthenticated):
        await container.users.sign_in(SignIn(user.login, PASSWORD, "a"))
    with pytest.raises(Unauthenticated):
        await container.users.act_as(SYSTEM, user.login)
    await container.users.set_active(SYSTEM, user.id, True)
    assert await container.users.sign_in(SignIn(user.login, PASSWORD, "a"))


async def test_admin_password_reset_ends_the_users_sessions(container):
    user = await new_user(container)
    signed = await container.users.sign_in(SignIn(user.login, PASSWORD, "a"))
    await container.users.reset_password(SYSTEM, user.id, "reset by the admin")
    with pytest.raises(Unauthenticated):
        await container.users.authenticate(signed.token)
    assert await container.users.sign_in(SignIn(user.login, "reset by the admin", "a"))


async def test_roles_decide_who_reads_imports_and_manages_members(container, import_dir):
    owner, editor, viewer, outsider = [await new_user(container, n) for n in
                                       ("owner", "editor", "viewer", "outsider")]  # fmt: skip
    project = await container.projects.create(_as(owner), CreateProject(f"roles-{owner.login}"))
    await container.members.set(_as(owner), project.id, editor.login, "editor")
    await container.members.set(_as(owner), project.id, viewer.login, "viewer")

    assert (await container.projects.get(_as(viewer), project.id)).name == project.name
    with pytest.raises(NotFound):  # a project one is not a member of does not exist
        await container.projects.get(_as(outsider), project.id)
    assert project.id not in {p.id for p in (await container.projects.page(_as(outsider))).items}

    vcf = import_dir / f"roles-{uuid.uuid4().hex[:6]}.vcf.gz"
    vcf.write_bytes(DEMO_VCF.read_bytes())
    with pytest.raises(PermissionDenied):
        await container.imports.start(_as(viewer), StartImport(project.id, str(vcf)))
    started = await container.imports.start(_as(editor), StartImport(project.id, str(vcf)),
                                            queue=False)  # fmt: skip
    job = await container.imports.run(_as(editor), started.job.id)
    assert job.state == "done"
    with pytest.raises(NotFound):
        await container.imports.get(_as(outsider), job.id)
    samples = await container.variants.samples(_as(viewer), project_id=project.id)
    assert samples.total == 3
    assert (await container.variants.samples(_as(outsider))).total == 0

    with pytest.raises(PermissionDenied):
        await container.members.set(_as(editor), project.id, outsider.login, "viewer")
    with pytest.raises(Conflict):  # the last owner stays
        await container.members.set(_as(owner), project.id, owner.login, "viewer")
    members = {m.user.login: m.member.role for m in
               await container.members.list(_as(viewer), project.id)}  # fmt: skip
    assert members == {owner.login: "owner", editor.login: "editor", viewer.login: "viewer"}


async def test_two_owners_removing_each_other_at_once_leave_one(container):
    alice, carol = await new_user(container, "alice"), await new_user(container, "carol")
    project = await container.projects.create(_as(alice), CreateProject(f"race-{alice.login}"))
    await container.members.set(_as(alice), project.id, carol.login, "owner")
    results = await asyncio.gather(
        container.members.remove(_as(alice), project.id, carol.login),
        container.members.remove(_as(carol), project.id, alice.login),
        return_exceptions=True,
    )
    assert sum(r is None for r in results) == 1, results
    left = await container.members.list(SYSTEM, project.id)
    assert [m.member.role for m in left] == ["owner"]


async def test_logins_differ_by_more_than_case(container):
    login = f"case-{uuid.uuid4().hex[:6]}"
    results = await asyncio.gather(
        *(container.users.create(SYSTEM, CreateUser(v, PASSWORD))
          for v in (login, login.upper(), login.title())),
        return_exceptions=True,
    )  # fmt: skip
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception))


async def test_the_server_creates_projects_for_a_named_owner(container):
    owner, other = await new_user(container, "owner"), await new_user(container, "other")
    made = await container.projects.create(
        SYSTEM, CreateProject(f"for-{owner.login}", owner_login=owner.login)
    )
    members = await container.members.list(_as(owner), made.id)
    assert [(m.user.login, m.member.role) for m in members] == [(owner.login, "owner")]
    with pytest.raises(PermissionDenied):
        await container.projects.create(
            _as(other), CreateProject(f"for-{other.login}", owner_login=owner.login)
        )
    with pytest.raises(NotFound):
        await container.projects.create(SYSTEM, CreateProject("x-" + owner.login, owner_login="?"))


async def test_audit_trail_records_changes_and_detects_tampering(container):
    owner = await new_user(container, "audited")
    project = await container.projects.create(_as(owner), CreateProject(f"audit-{owner.login}"))
    with pytest.raises(Unauthenticated):
        await container.users.sign_in(SignIn(owner.login, "wrong password", "10.7.7.7"))
    events = await _sql(
        container,
        "SELECT action, actor, object_id, details FROM audit_events "
        "WHERE actor = :l OR (action = 'user.sign_in_failed' AND object_id = :u) ORDER BY id",
        l=owner.login,
        u=str(owner.id),
    )
    actions = [e[0] for e in events]
    assert actions == ["project.create", "user.sign_in_failed"]
    assert events[0][2] == str(project.id)
    failed = events[1]  # the caller is not the account's owner: anonymous, the account named
    assert failed[1] == "anonymous" and failed[3]["login"] == owner.login
    assert failed[3]["client"] == "10.7.7.7" and failed[3]["via"] == "web:10.7.7.7"
    assert all(PASSWORD not in str(e) and "wrong password" not in str(e) for e in events)

    # Concurrent writers keep one linear chain.
    await asyncio.gather(*(
        container.projects.create(_as(owner), CreateProject(f"audit-{owner.login}-{i}"))
        for i in range(8)
    ))  # fmt: skip
    report = await container.audit.verify(SYSTEM)
    assert report.intact and report.events >= 10

    with pytest.raises(Exception, match="append-only"):
        await _sql(container, "UPDATE audit_events SET actor = 'someone' WHERE actor = :l",
                   l=owner.login)  # fmt: skip
    (target,) = await _sql(
        container,
        "SELECT id, details FROM audit_events WHERE actor = :l AND action = 'project.create' "
        "ORDER BY id LIMIT 1",
        l=owner.login,
    )
    await _tamper(container, "UPDATE audit_events SET details = '{\"name\": \"other\"}' "
                  "WHERE id = :i", i=target[0])  # fmt: skip
    try:
        report = await container.audit.verify(SYSTEM)
        assert (report.intact, report.first_bad_id) == (False, target[0])
        assert "hash" in (report.problem or "")
    finally:
        await _tamper(container, "UPDATE audit_events SET details = CAST(:d AS jsonb) "
                      "WHERE id = :i", i=target[0], d=json.dumps(target[1]))  # fmt: skip
    assert (await container.audit.verify(SYSTEM)).intact
    with pytest.raises(PermissionDenied):
        await container.audit.verify(_as(owner))


async def _tamper(container, sql: str, **params) -> None:
    """What a database superuser could do behind the application's back."""
    trigger = "TRIGGER audit_events_append_only"
    async with container.engine.begin() as conn:
        await conn.execute(text(f"ALTER TABLE audit_events DISABLE {trigger}"))
        await conn.execute(text(sql), params)
        await conn.execute(text(f"ALTER TABLE audit_events ENABLE {trigger}"))


async def test_settings_shorten_sessions_and_failures(database_url, import_dir):
    settings = settings_for(
        database_url, import_dir, session_hours="1", sign_in_max_failures="2"
    )
    c = build(settings, url=database_url, with_broker=False)
    try:
        user = await new_user(c)
        signed = await c.users.sign_in(SignIn(user.login, PASSWORD, "s"))
        lifetime = signed.session.expires_at - signed.session.created_at
        assert 3590 < lifetime.total_seconds() < 3610
        for _ in range(2):
            with pytest.raises(Unauthenticated):
                await c.users.sign_in(SignIn(user.login, "nope nope nope", "s"))
        with pytest.raises(TooManyAttempts):
            await c.users.sign_in(SignIn(user.login, PASSWORD, "s"))
    finally:
        await c.aclose()


async def _rewrite(container, event_id: int, details: dict) -> None:
    """A superuser's forgery: change an event, then recompute every hash from it on."""
    from regovar.models import AuditEvent
    from regovar.repositories.audit import GENESIS, event_hash

    trigger = "TRIGGER audit_events_append_only"
    columns = ("at", "actor_id", "actor", "action", "object_type", "object_id", "project_id",
               "details")  # fmt: skip
    async with container.engine.begin() as conn:
        run = conn.execute
        await run(text(f"ALTER TABLE audit_events DISABLE {trigger}"))
        await run(text("UPDATE audit_events SET details = CAST(:d AS jsonb) WHERE id = :i"),
                  {"d": json.dumps(details), "i": event_id})  # fmt: skip
        before = "SELECT hash FROM audit_events WHERE id < :i ORDER BY id DESC LIMIT 1"
        prev = (await run(text(before), {"i": event_id})).scalar() or GENESIS
        later = "SELECT * FROM audit_events WHERE id >= :i ORDER BY id"
        for row in (await run(text(later), {"i": event_id})).mappings().all():
            digest = event_hash(prev, AuditEvent(**{k: row[k] for k in columns}))
            await run(text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE id = :i"),
                      {"p": prev, "h": digest, "i": row["id"]})  # fmt: skip
            prev = digest
        await run(text(f"ALTER TABLE audit_events ENABLE {trigger}"))


async def test_anchors_catch_a_rewritten_and_rehashed_trail(container):
    """A superuser who edits an event and recomputes every hash after it fools the chain, not
    an anchor noted before."""
    user = await new_user(container, "anchored")
    before = await container.audit.verify(SYSTEM)
    assert before.intact and before.head_id is not None and before.head_hash is not None
    anchor = (before.head_id, before.head_hash)
    (target,) = await _sql(
        container,
        "SELECT id, details FROM audit_events WHERE object_id = :u AND action = 'user.create'",
        u=str(user.id),
    )
    await _rewrite(container, target[0], {**target[1], "login": "someone-else"})
    try:
        assert (await container.audit.verify(SYSTEM)).intact  # the chain alone is fooled
        caught = await container.audit.verify(SYSTEM, (anchor,))
        assert (caught.intact, caught.first_bad_id) == (False, anchor[0])
        assert "rewritten" in (caught.problem or "")
    finally:
        await _rewrite(container, target[0], target[1])
    assert (await container.audit.verify(SYSTEM, (anchor,))).intact

"""Batches with real parts: a fresh database per test (alerts and the outbox are server-wide),
a real SMTP server (aiosmtpd) whose messages are read back, real workers and schedulers."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from regovar.bootstrap import Container, build
from regovar.db import upgrade_schema
from regovar.domain.errors import InvalidInput, MailUnavailable, PermissionDenied
from regovar.domain.principal import SYSTEM, Principal
from regovar.domain.projects import CreateProject
from regovar.domain.users import CreateUser
from regovar.graphql.app import create_app
from tests.conftest import settings_for
from tests.helpers import DEMO_PED, DEMO_VCF, PASSWORD, bearer, signed_in
from tests.smtp import MailCatcher, free_port, html_of, text_of

ADMIN_EMAIL = "admin@lab.example"
ONCALL = "oncall@lab.example"
# Only the disk checks decide: memory, load, queue age and mail age never cross here.
CALM = {
    "monitor_memory_min_free_percent": "0",
    "monitor_load_max_percent": "100000",
    "monitor_queue_max_age_minutes": "100000",
    "monitor_mail_max_age_minutes": "100000",
    "monitor_failed_jobs_max": "1000",
}


def _build(url: str, import_dir: Path, smtp_port: int | None, **overrides: str) -> Container:
    values = {**CALM, "alert_emails": ONCALL, **overrides}
    if smtp_port is not None:
        values |= {"smtp_host": "127.0.0.1", "smtp_port": str(smtp_port), "smtp_timeout_s": "5"}
    return build(settings_for(url, import_dir, **values), url=url)


@pytest.fixture
async def admin_email(fresh_url: str, import_dir: Path) -> AsyncIterator[None]:
    c = _build(fresh_url, import_dir, None)
    await c.users.create(SYSTEM, CreateUser("lab-admin", PASSWORD, ADMIN_EMAIL, is_admin=True))
    await c.users.create(SYSTEM, CreateUser("biologist", PASSWORD, "bio@lab.example"))
    await c.aclose()
    yield


async def _run(c: Container, kind: str):
    job = await c.batches.request(SYSTEM, kind, queue=False)
    return await c.batches.run(SYSTEM, job.id)


async def _scalar(c: Container, sql: str, **params):
    async with c.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar_one()


async def test_crossing_then_recovering_sends_exactly_two_emails(
    fresh_url, import_dir, smtp, admin_email
):
    low_disk = _build(fresh_url, import_dir, smtp.port, monitor_disk_min_free_percent="101")
    first = await _run(low_disk, "monitor")
    assert first.state == "done" and first.trigger == "manual"
    assert first.counts["raised"] >= 2  # the data and import folders (and the database's)
    assert first.counts["mail_sent"] == 1
    assert len(smtp.messages) == 1
    alert = smtp.messages[0]
    assert alert["Subject"].startswith("[Regovar] ")
    assert "alert" in alert["Subject"].lower()
    assert sorted(smtp.received[0][0]) == [ADMIN_EMAIL, ONCALL]  # not the biologist
    body = text_of(alert)
    assert "CRITICAL: disk free: data folder" in body and "threshold >= 101" in body
    assert "CRITICAL: disk free: data folder" in html_of(alert)
    assert alert["Auto-Submitted"] == "auto-generated"

    # Still critical: nothing more, however many times the watch runs.
    for _ in range(2):
        again = await _run(low_disk, "monitor")
        assert again.counts["raised"] == 0 and again.counts["critical"] >= 2
    assert len(smtp.messages) == 1
    await low_disk.aclose()

    healthy = _build(fresh_url, import_dir, smtp.port, monitor_disk_min_free_percent="0")
    back = await _run(healthy, "monitor")
    assert back.counts["recovered"] == first.counts["raised"] and back.counts["raised"] == 0
    assert len(smtp.messages) == 2
    recovery = smtp.messages[1]
    assert "recovered" in recovery["Subject"]
    assert "ok again: disk free: data folder" in text_of(recovery)
    assert (await _run(healthy, "monitor")).counts["recovered"] == 0
    assert len(smtp.messages) == 2
    jobs = await healthy.batches.page(SYSTEM, kind="monitor")
    assert jobs.total == 5 and {j.state for j in jobs.items} == {"done"}
    await healthy.aclose()


async def test_mail_server_down_retries_with_backoff_and_sends_once(
    fresh_url, import_dir, admin_email
):
    catcher = MailCatcher(free_port())  # not started: the mail server is down
    c = _build(fresh_url, import_dir, catcher.port, monitor_disk_min_free_percent="101")
    job = await _run(c, "monitor")
    assert job.state == "done" and job.counts["raised"] >= 1
    assert "mail: " in job.report and "Connection refused" in job.report
    row = (await c.mail.page(SYSTEM)).items[0]
    assert row.state == "pending" and row.attempts == 1 and row.last_error
    assert row.next_attempt_at > datetime.now(row.next_attempt_at.tzinfo) + timedelta(seconds=50)
    status = {k.name: k for k in (await c.monitoring.status(SYSTEM)).checks}
    assert status["mail oldest waiting"].detail == "1 waiting"

    # Not due yet: the mail batch leaves it alone even with the server back.
    catcher.start()
    try:
        early = await _run(c, "mail")
        assert early.counts == {"sent": 0, "failed": 0, "waiting": 1}
        await _scalar_exec(c, "UPDATE outbox SET next_attempt_at = now()")
        # Two senders at once: the message goes out once.
        a, b = await asyncio.gather(c.mail.deliver(SYSTEM), c.mail.deliver(SYSTEM))
        assert a.sent + b.sent == 1  # the other one skipped the locked row
        assert len(catcher.messages) == 1
        stamp = f"{row.created_at:%Y%m%d%H%M%S%f}"
        assert catcher.messages[0]["Message-ID"] == f"<regovar-outbox-{row.id}-{stamp}@localhost>"
        assert (await _run(c, "mail")).counts == {"sent": 0, "failed": 0, "waiting": 0}
        assert len(catcher.messages) == 1
        sent = (await c.mail.page(SYSTEM, state="sent")).items[0]
        assert sent.attempts == 2 and sent.sent_at is not None
    finally:
        catcher.stop()
        await c.aclose()


async def _scalar_exec(c: Container, sql: str) -> None:
    async with c.engine.begin() as conn:
        await conn.execute(text(sql))


async def test_refused_recipient_does_not_hold_back_the_others(fresh_url, import_dir, smtp,
                                                              admin_email):  # fmt: skip
    smtp.refuse.add(ONCALL)
    c = _build(fresh_url, import_dir, smtp.port, monitor_disk_min_free_percent="101")
    await _run(c, "monitor")
    assert [to for to, _ in smtp.received] == [[ADMIN_EMAIL]]
    sent = (await c.mail.page(SYSTEM)).items[0]
    assert sent.state == "sent" and sent.refused == [ONCALL]
    await c.aclose()


async def test_no_smtp_server_keeps_messages_and_says_so(fresh_url, import_dir, admin_email):
    c = _build(fresh_url, import_dir, None, monitor_disk_min_free_percent="101")
    job = await _run(c, "monitor")
    assert job.counts["raised"] >= 1 and job.counts["alerts_queued"] == 1
    delivery = await _run(c, "mail")
    assert delivery.state == "done" and delivery.counts["waiting"] == 1
    assert "no SMTP server configured" in delivery.report
    checks = {k.name: k for k in (await c.monitoring.status(SYSTEM)).checks}
    assert checks["mail waiting"].state == "unknown" and checks["mail waiting"].value == 1
    with pytest.raises(MailUnavailable, match="REGOVAR_SMTP_HOST"):
        await c.mail.send_test(SYSTEM, "someone@lab.example")
    await c.aclose()


async def test_nobody_to_alert_is_reported(fresh_url, import_dir, smtp):
    c = _build(fresh_url, import_dir, smtp.port, monitor_disk_min_free_percent="101",
               alert_emails="")  # fmt: skip
    job = await _run(c, "monitor")
    assert job.counts["raised"] >= 1 and job.counts["alerts_queued"] == 0
    assert "nobody to alert" in job.report
    assert smtp.messages == []
    await c.aclose()


async def test_test_message_checks_the_smtp_settings(fresh_url, import_dir, smtp):
    c = _build(fresh_url, import_dir, smtp.port)
    assert await c.mail.send_test(SYSTEM, "me@lab.example") == []
    assert [to for to, _ in smtp.received] == [["me@lab.example"]]
    assert "SMTP settings of this Regovar server work" in text_of(smtp.messages[0])
    down = _build(fresh_url, import_dir, free_port())
    with pytest.raises(MailUnavailable, match="did not take the message"):
        await down.mail.send_test(SYSTEM, "me@lab.example")
    await c.aclose()
    await down.aclose()


async def test_a_tick_fires_once_even_with_two_schedulers(fresh_url, import_dir):
    one, two = _build(fresh_url, import_dir, None), _build(fresh_url, import_dir, None)
    at = datetime(2026, 12, 4, 10, 17, 30).astimezone()
    fired = await asyncio.gather(one.batches.fire_due(SYSTEM, at), two.batches.fire_due(SYSTEM, at))
    assert sum(len(f) for f in fired) == 4  # each batch once
    jobs = (await one.batches.page(SYSTEM)).items
    assert sorted((j.kind, j.scheduled_for) for j in jobs) == [
        ("archive", datetime(2026, 11, 28, 3, 0).astimezone()),  # the last Saturday, 03:00
        ("inbox", at.replace(minute=16, second=0)),  # */2
        ("mail", at.replace(second=0)),  # every minute
        ("monitor", at.replace(minute=15, second=0)),  # */5
    ]
    # The same minute again: nothing; the next minute: the batches with a tick in it.
    assert await one.batches.fire_due(SYSTEM, at + timedelta(seconds=20)) == []
    later = await two.batches.fire_due(SYSTEM, at + timedelta(minutes=1))
    assert sorted([(await two.batches.get(SYSTEM, i)).kind for i in later]) == ["inbox", "mail"]
    # After a long stop, only the latest missed tick of each batch is fired (the archive's
    # latest tick was fired already).
    caught_up = await one.batches.fire_due(SYSTEM, at + timedelta(hours=5))
    assert len(caught_up) == 3
    await one.aclose()
    await two.aclose()


async def test_only_one_scheduler_holds_the_lead(fresh_url, import_dir):
    one, two = _build(fresh_url, import_dir, None), _build(fresh_url, import_dir, None)
    first, second = one.batches.leader_lock(), two.batches.leader_lock()
    assert await first.try_acquire()
    assert not await second.try_acquire()
    assert await first.still_held()
    await first.release()
    assert await second.try_acquire()  # the standby takes over
    await second.release()
    await one.aclose()
    await two.aclose()


async def test_batches_are_for_administrators_and_say_what_is_wrong(fresh_url, import_dir):
    c = _build(fresh_url, import_dir, None)
    user = await c.users.create(SYSTEM, CreateUser("plain-user", PASSWORD))
    someone = Principal(user.id, user.login)
    for call in (
        c.batches.request(someone, "monitor", queue=False),
        c.batches.page(someone),
        c.mail.page(someone),
        c.monitoring.watch(someone),
    ):
        with pytest.raises(PermissionDenied):
            await call
    with pytest.raises(InvalidInput,
                       match="unknown batch 'nightly': one of archive, inbox, mail, monitor"):
        await c.batches.request(SYSTEM, "nightly", queue=False)
    with pytest.raises(InvalidInput, match="takes no option dry_run"):
        await c.batches.request(SYSTEM, "monitor", {"dry_run": True}, queue=False)
    with pytest.raises(InvalidInput, match="days must be a whole number"):
        await c.batches.request(SYSTEM, "archive", {"days": "soon"}, queue=False)
    with pytest.raises(InvalidInput, match="unknown job state"):
        await c.batches.page(SYSTEM, state="finished")
    await c.aclose()


async def test_a_crashing_batch_is_a_failed_job_and_a_failed_job_counts(fresh_url, import_dir):
    c = _build(fresh_url, import_dir, None, monitor_failed_jobs_max="0")

    async def broken(principal, options):
        raise ZeroDivisionError("division by zero")

    c.batches.batches["mail"] = c.batches.batches["mail"].__class__("mail", "broken", broken)
    job = await _run(c, "mail")
    assert job.state == "failed" and job.error_code == "INTERNAL"  # an unexpected crash
    assert job.error_message == "ZeroDivisionError: division by zero"
    assert (await c.batches.run(SYSTEM, job.id)).attempts == 1  # finished: not run again
    checks = {k.name: k for k in (await c.monitoring.status(SYSTEM)).checks}
    assert checks["failed jobs (24 h)"].state == "critical"
    assert checks["failed jobs (24 h)"].value == 1
    await c.aclose()


async def test_graphql_jobs_and_run_batch(fresh_url, import_dir, smtp):
    c = _build(fresh_url, import_dir, smtp.port)
    transport = httpx.ASGITransport(app=create_app(c))
    _, admin = await signed_in(c, "adm", admin=True)
    _, plain = await signed_in(c, "plain")
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        # The stub broker has no worker here: the run is queued and runs when asked.
        ran = (await http.post("/graphql", headers=bearer(admin), json={"query":
            'mutation { runBatch(kind: "monitor") { id kind state trigger requestedBy } }'
        })).json()  # fmt: skip
        job = ran["data"]["runBatch"]
        assert job["kind"] == "monitor" and job["trigger"] == "manual"
        assert job["requestedBy"].startswith("web:") or job["requestedBy"].startswith("adm-")
        await c.batches.run(SYSTEM, int(job["id"]))
        listed = (await http.post("/graphql", headers=bearer(admin), json={"query":
            "{ jobs(kind: \"monitor\") { total items { id state counts } } "
            "batches { kind schedule } mails { total } }"
        })).json()["data"]  # fmt: skip
        assert listed["jobs"]["total"] == 1
        assert listed["jobs"]["items"][0]["state"] == "done"
        assert listed["jobs"]["items"][0]["counts"]["checks"] >= 5
        assert {b["kind"]: b["schedule"] for b in listed["batches"]} == {
            "monitor": "*/5 * * * *", "mail": "* * * * *", "inbox": "*/2 * * * *",
            "archive": "0 3 * * 6"}  # fmt: skip
        refused = (await http.post("/graphql", headers=bearer(plain), json={"query":
            'mutation { runBatch(kind: "monitor") { id } }'})).json()  # fmt: skip
        assert refused["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
        bad = (await http.post("/graphql", headers=bearer(admin), json={"query":
            'mutation { runBatch(kind: "nightly") { id } }'})).json()  # fmt: skip
        assert bad["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
        health = await http.get("/health")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
    await c.aclose()


async def test_health_answers_503_when_the_database_is_gone(import_dir):
    dead = f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/nothing"
    c = build(settings_for(dead, import_dir), url=dead)
    transport = httpx.ASGITransport(app=create_app(c))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/health")
    assert response.status_code == 503 and response.json() == {"status": "unavailable"}
    await c.aclose()


def _cli(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from regovar.cli import main; main()", *args],
        env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip


def _stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.stdout.read() if process.stdout else ""


async def test_scheduler_and_worker_send_the_alert(fresh_url, import_dir, tmp_path, smtp):
    """Real processes: two schedulers (one stands by), one worker on the PostgreSQL queue; a
    run dropped in the inbox is imported and announced, a low disk is alerted."""
    setup = _build(fresh_url, import_dir, None)
    await setup.projects.create(SYSTEM, CreateProject("exomes"))
    await setup.aclose()
    run = tmp_path / "runs" / "RUN_E2E"
    run.mkdir(parents=True)
    shutil.copy(DEMO_VCF, run)
    shutil.copy(DEMO_PED, run)
    (run / "CopyComplete.txt").write_text("")
    env = {
        **os.environ,
        "REGOVAR_DATABASE_URL": fresh_url,
        "REGOVAR_DATA_DIR": str(tmp_path / "data"),
        "REGOVAR_IMPORT_DIRS": str(import_dir),
        "REGOVAR_SMTP_HOST": "127.0.0.1",
        "REGOVAR_SMTP_PORT": str(smtp.port),
        "REGOVAR_ALERT_EMAILS": ONCALL,
        "REGOVAR_MONITOR_DISK_MIN_FREE_PERCENT": "101",
        "REGOVAR_SCHEDULE_MONITOR": "* * * * *",
        "REGOVAR_SCHEDULE_INBOX": "* * * * *",
        "REGOVAR_INBOXES": f"{tmp_path / 'runs'}=exomes",
        "REGOVAR_INBOX_SETTLE_SECONDS": "0",
        "REGOVAR_NOTIFY_EMAILS": "desk@lab.example",
        "REGOVAR_WORKER_HEARTBEAT_TTL": "3",
        **{f"REGOVAR_{k.upper()}": v for k, v in CALM.items()},
    }
    env.pop("REGOVAR_BROKER_URL", None)
    worker = _cli(["worker", "--threads", "1"], env)
    schedulers = [_cli(["scheduler", "--every", "1"], env) for _ in range(2)]
    try:
        messages = await asyncio.to_thread(smtp.wait_for, 2, 90)
        by_subject = {m["Subject"]: m for m in messages}
        assert len(messages) == 2, list(by_subject)
        alert = next(m for s, m in by_subject.items() if "alert" in s.lower())
        assert "disk free" in text_of(alert)
        ready = by_subject["[Regovar] run RUN_E2E ready: 3 samples in exomes"]
        assert "HG002, HG003, HG004" in text_of(ready)
        await asyncio.sleep(3)  # more ticks of the same minute fire nothing
    finally:
        for p in schedulers:  # both at once: a standby would take over from a stopped leader
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        outputs = [_stop(p) for p in schedulers]
        _stop(worker)
    assert sorted("scheduler active" in out for out in outputs) == [False, True], outputs
    assert sorted("scheduler standby" in out for out in outputs) == [False, True], outputs
    c = _build(fresh_url, import_dir, None)
    monitor = (await c.batches.page(SYSTEM, kind="monitor")).items
    assert 1 <= len(monitor) <= 2  # one per minute: the test may straddle a minute
    assert all(j.trigger == "schedule" and j.requested_by == "scheduler" for j in monitor)
    assert monitor[-1].state == "done" and monitor[-1].counts["raised"] >= 1
    assert len(smtp.messages) == 2  # the same condition is never reported twice
    runs = (await c.inbox.page(SYSTEM)).items
    assert [(r.run_id, r.state) for r in runs] == [("RUN_E2E", "done")]
    await c.aclose()


async def _until(condition, seconds: float) -> None:
    for _ in range(int(seconds * 10)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def test_losing_the_database_is_alerted_once_and_its_return_once(tmp_path, smtp):
    """Without the database the monitor batch cannot run: the scheduler tells, once."""
    from regovar.adapters.pgserver import EmbeddedPostgres
    from regovar.tasks.scheduler import run_scheduler

    server = EmbeddedPostgres(tmp_path / "pg")
    url = server.ensure_running()
    try:
        await asyncio.to_thread(upgrade_schema, url)
        quiet = {f"schedule_{k}": "" for k in ("monitor", "mail", "inbox", "archive")}
        c = _build(url, tmp_path / "incoming", smtp.port, **quiet)
        await c.users.create(SYSTEM, CreateUser("boss", PASSWORD, ADMIN_EMAIL, is_admin=True))
        await c.monitoring.watch(SYSTEM)  # the last watch knows the administrators
        stop = asyncio.Event()
        scheduler = asyncio.create_task(run_scheduler(c, stop, every_s=0.2))
        await asyncio.sleep(1)
        assert smtp.messages == []
        await asyncio.to_thread(server.stop)
        await _until(lambda: len(smtp.messages) == 1, 30)
        down = smtp.messages[0]
        assert "ALERT" in down["Subject"] and "database unreachable" in down["Subject"]
        assert sorted(smtp.received[0][0]) == [ADMIN_EMAIL, ONCALL]
        await asyncio.sleep(2)  # still down: nothing more
        assert len(smtp.messages) == 1
        await asyncio.to_thread(server.ensure_running)
        await _until(lambda: len(smtp.messages) == 2, 30)
        assert "recovered" in smtp.messages[1]["Subject"]
        assert "ok again: database" in text_of(smtp.messages[1])
        await asyncio.sleep(1)
        assert len(smtp.messages) == 2
        stop.set()
        await scheduler
        await c.aclose()
    finally:
        server.stop()


def _certificate(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_starttls_and_authentication(fresh_url, import_dir, tmp_path):
    import ssl

    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"regovar", b"s3cret")  # fmt: skip
        return AuthResult(success=ok, handled=False)

    catcher = MailCatcher(tls_context=context, require_starttls=True, auth_required=True,
                          authenticator=authenticator).start()  # fmt: skip
    try:
        secure = {"smtp_security": "starttls", "smtp_user": "regovar",
                  "smtp_ca_file": str(cert)}  # fmt: skip
        good = _build(fresh_url, import_dir, catcher.port, smtp_password="s3cret", **secure)
        assert await good.mail.send_test(SYSTEM, "me@lab.example") == []
        assert len(catcher.messages) == 1
        wrong = _build(fresh_url, import_dir, catcher.port, smtp_password="guess", **secure)
        with pytest.raises(MailUnavailable, match="SMTPAuthenticationError"):
            await wrong.mail.send_test(SYSTEM, "me@lab.example")
        untrusted = _build(fresh_url, import_dir, catcher.port, smtp_password="s3cret",
                           smtp_security="starttls", smtp_user="regovar")  # fmt: skip
        with pytest.raises(MailUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
            await untrusted.mail.send_test(SYSTEM, "me@lab.example")
        plain = _build(fresh_url, import_dir, catcher.port)  # the server insists on STARTTLS
        with pytest.raises(MailUnavailable, match="did not take the message"):
            await plain.mail.send_test(SYSTEM, "me@lab.example")
        assert len(catcher.messages) == 1
        for c in (good, wrong, untrusted, plain):
            await c.aclose()
    finally:
        catcher.stop()


async def test_daylight_saving_changes_fire_nothing_twice(fresh_url, import_dir):
    import time

    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Paris"
    time.tzset()
    try:
        c = _build(fresh_url, import_dir, None, schedule_monitor="", schedule_inbox="",
                   schedule_archive="0 3 * * 6", schedule_mail="30 2 * * *")  # fmt: skip
        utc = datetime.fromisoformat
        # Saturday 24 October 2026, 03:30 in Paris (+02:00): the archive and the 02:30 tick.
        assert len(await c.batches.fire_due(SYSTEM, utc("2026-10-24T01:30:00+00:00"))) == 2
        # Sunday 25: clocks go back at 03:00; 02:30 happens twice (00:30Z and 01:30Z).
        assert len(await c.batches.fire_due(SYSTEM, utc("2026-10-25T00:35:00+00:00"))) == 1
        assert await c.batches.fire_due(SYSTEM, utc("2026-10-25T01:35:00+00:00")) == []
        assert await c.batches.fire_due(SYSTEM, utc("2026-10-25T11:00:00+00:00")) == []
        jobs = (await c.batches.page(SYSTEM)).items
        assert sorted((j.kind, j.scheduled_for.isoformat()) for j in jobs) == [
            ("archive", "2026-10-24T01:00:00+00:00"),
            ("mail", "2026-10-24T00:30:00+00:00"),
            ("mail", "2026-10-25T00:30:00+00:00"),
        ]
        await c.aclose()
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()


async def test_a_message_that_cannot_be_sent_is_set_aside(fresh_url, import_dir, smtp):
    c = _build(fresh_url, import_dir, smtp.port)
    async with c.engine.begin() as conn:
        for key, to in (("bad", "a@lab.example\nBcc: evil@x.example"), ("good", "a@lab.example")):
            await conn.execute(text(
                "INSERT INTO outbox (dedupe_key, kind, recipients, subject, text_body, "
                "html_body) VALUES (:k, 'test', ARRAY[:to], :k, 't', '<p>h</p>')"
            ), {"k": key, "to": to})  # fmt: skip
    from regovar.domain import mail
    from regovar.domain.mail import Body

    async with c.batches.uow() as uow:  # queued the usual way: the subject is made one line
        await mail.queue(uow, "folder", "test", ["a@lab.example", "bad\naddress"],
                         "run RUN\nX ready", Body("t", "<p>h</p>"))  # fmt: skip
        await uow.commit()
    delivery = await c.mail.deliver(SYSTEM)
    assert delivery.sent == 2 and delivery.waiting == 0
    assert sorted(m["Subject"] for m in smtp.messages) == ["good", "run RUN X ready"]
    assert all("evil" not in str(to) for to, _ in smtp.received)
    failed = (await c.mail.page(SYSTEM, state="failed")).items
    assert [m.dedupe_key for m in failed] == ["bad"]
    assert "cannot be sent" in failed[0].last_error
    with pytest.raises(InvalidInput, match="unknown mail state"):
        await c.mail.page(SYSTEM, state="bogus")
    await c.aclose()


async def test_email_addresses_are_checked_where_they_are_entered(fresh_url, import_dir):
    c = _build(fresh_url, import_dir, None)
    with pytest.raises(InvalidInput, match="is not an email address"):
        await c.users.create(SYSTEM, CreateUser("eve", PASSWORD, "a@b.org\nBcc: c@d.org"))
    user = await c.users.create(SYSTEM, CreateUser("dan", PASSWORD))
    assert (await c.users.set_email(SYSTEM, user.id, " dan@lab.example ")).email == (
        "dan@lab.example")  # fmt: skip
    for bad in ("two@@signs", "bøb@x.example", "a,b@x.example", "<a@x.example>"):
        with pytest.raises(InvalidInput, match="is not an email address"):
            await c.users.set_email(SYSTEM, user.id, bad)
    other = await c.users.create(SYSTEM, CreateUser("other", PASSWORD))
    with pytest.raises(PermissionDenied):
        await c.users.set_email(Principal(other.id, other.login), user.id, "x@lab.example")
    assert (await c.users.set_email(Principal(user.id, user.login), user.id, "")).email == ""
    await c.aclose()


def test_cli_says_what_is_wrong_without_a_traceback(tmp_path):
    dead = f"postgresql+asyncpg://x@127.0.0.1:{free_port()}/none"
    env = {**os.environ, "REGOVAR_DATA_DIR": str(tmp_path), "REGOVAR_DATABASE_URL": dead}
    env.pop("REGOVAR_BROKER_URL", None)

    def cli(*args: str, **more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from regovar.cli import main; main()", *args],
            env={**env, **more}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    down = cli("status")
    assert down.returncode == 2, down
    assert "DATABASE_UNAVAILABLE" in down.stderr and "Traceback" not in down.stderr
    assert "server: critical" in down.stdout
    bad = cli("jobs", "list", REGOVAR_SMTP_PORT="abc")
    assert bad.returncode == 1
    assert bad.stderr.strip() == "INVALID_SETTINGS: REGOVAR_SMTP_PORT must be an integer, got 'abc'"

"""Email through an outbox: a message is queued in the same transaction as the event it tells
about (an alert, an import that finished), then sent by the ``mail`` batch.

Never lost: a message stays in the outbox until the SMTP server accepted it, and a failure
retries it later with a growing delay (1, 2, 4 ... 60 minutes). Never sent twice: a message is
queued once per event (its key), and the row is locked while it is sent, so two senders never
take the same one; it is marked sent in the transaction that held the lock. Only a crash between
the server's acceptance and that commit sends it again, with the same Message-ID.
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass
from datetime import timedelta

from regovar.adapters import system
from regovar.adapters.mail import Letter, Mailer, MailError
from regovar.config import Settings
from regovar.domain.access import require_admin
from regovar.domain.common import Page, check_page, check_state, is_email
from regovar.domain.errors import MailUnavailable
from regovar.domain.principal import Principal
from regovar.models import OutgoingMail
from regovar.repositories.uow import UnitOfWork, UnitOfWorkFactory

MAX_PER_RUN = 500
STATES = ("pending", "sent", "failed")
MAX_DELAY_S = 3600


@dataclass(frozen=True)
class Delivery:
    sent: int
    failed: int  # attempts that failed this run (the messages wait for their next attempt)
    waiting: int  # messages still in the outbox after the run
    error: str | None  # the last failure


@dataclass(frozen=True)
class Body:
    """A message's text and HTML, built from the same parts."""

    text: str
    html: str


def compose(title: str, paragraphs: list[str], rows: list[tuple[str, str]] | None = None,
            link: str | None = None) -> Body:  # fmt: skip
    """Plain text and HTML (escaped) of a message: a title, paragraphs, a two-column table."""
    rows = rows or []
    width = max((len(k) for k, _ in rows), default=0)
    text = [title, "", *paragraphs]
    if rows:
        text += ["", *(f"{k.ljust(width)}  {v}" for k, v in rows)]
    if link:
        text += ["", f"Open: {link}"]
    text += ["", f"-- Regovar on {system.hostname()}"]
    e = html.escape
    page = [f"<h2>{e(title)}</h2>", *(f"<p>{e(p)}</p>" for p in paragraphs)]
    if rows:
        page.append("<table>" + "".join(
            f"<tr><th align='left'>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows
        ) + "</table>")  # fmt: skip
    if link:
        page.append(f"<p><a href='{e(link, quote=True)}'>{e(link)}</a></p>")
    page.append(f"<p><small>Regovar on {e(system.hostname())}</small></p>")
    return Body("\n".join(text) + "\n", "<html><body>" + "".join(page) + "</body></html>\n")


async def queue(uow: UnitOfWork, key: str, kind: str, recipients: list[str], subject: str,
                body: Body) -> int | None:  # fmt: skip
    """Queues a message in the caller's transaction; None when ``key`` was queued before or
    there is nobody to send it to."""
    recipients = list(dict.fromkeys(r.strip() for r in recipients if is_email(r.strip())))
    if not recipients:
        return None
    return await uow.outbox.add(key, kind, recipients, header_text(subject), body.text,
                                body.html)  # fmt: skip


def header_text(text: str) -> str:
    """A header's text on one line: control characters (a folder name's line break) become
    spaces; at most 250 characters."""
    return "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in text)[:250]


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failed attempt: 1, 2, 4, 8 ... minutes, at most an hour."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), MAX_DELAY_S))


class MailManager:
    def __init__(self, uow: UnitOfWorkFactory, mailer: Mailer | None, settings: Settings,
                 max_page_size: int) -> None:  # fmt: skip
        self.uow, self.mailer, self.settings = uow, mailer, settings
        self.max_page_size = max_page_size
        self.domain = settings.mail_from.rpartition("@")[2] or "localhost"

    @property
    def configured(self) -> bool:
        return self.mailer is not None

    async def deliver(self, principal: Principal) -> Delivery:
        """Sends the messages that are due; stops at the first failure (the server is likely
        down: the next run tries again)."""
        require_admin(principal)
        sent = failed = 0
        error: str | None = None
        if self.mailer is not None:
            while sent < MAX_PER_RUN:
                async with self.uow() as uow:
                    mail = await uow.outbox.next_due()
                    if mail is None:
                        break
                    try:
                        refused = await self.mailer.send(self._letter(mail))
                    except MailError as exc:
                        error = str(exc)
                        await uow.outbox.mark_retry(mail.id, error, retry_delay(mail.attempts + 1))
                        await uow.commit()
                        failed += 1
                        break
                    except Exception as exc:  # this message cannot be sent: set it aside
                        error = f"message {mail.id} cannot be sent: {type(exc).__name__}: {exc}"
                        await uow.outbox.mark_failed(mail.id, error[:1000])
                        await uow.commit()
                        failed += 1
                        continue
                    await uow.outbox.mark_sent(mail.id, refused)
                    await uow.commit()
                    sent += 1
        else:
            error = "no SMTP server configured (REGOVAR_SMTP_HOST): messages wait in the outbox"
        async with self.uow() as uow:
            waiting, _ = await uow.outbox.waiting()
        return Delivery(sent, failed, waiting, error)

    async def send_direct(self, key: str, recipients: list[str], subject: str,
                          body: Body) -> None:  # fmt: skip
        """Sends at once, without the outbox: only for when the database itself is down.
        Raises MailUnavailable (the caller tries again later)."""
        if self.mailer is None:
            raise MailUnavailable("no SMTP server configured: set REGOVAR_SMTP_HOST")
        letter = Letter(f"regovar-{key}@{self.domain}", recipients, header_text(subject),
                        body.text, body.html)  # fmt: skip
        try:
            await self.mailer.send(letter)
        except MailError as exc:
            raise MailUnavailable(f"the SMTP server did not take the message: {exc}") from exc

    async def send_test(self, principal: Principal, address: str) -> list[str]:
        """Sends a test message at once (not through the outbox), to check the SMTP settings."""
        require_admin(principal)
        if self.mailer is None:
            raise MailUnavailable("no SMTP server configured: set REGOVAR_SMTP_HOST")
        body = compose("Regovar test message",
                       ["The SMTP settings of this Regovar server work."])  # fmt: skip
        letter = Letter(f"regovar-test-{uuid.uuid4().hex}@{self.domain}",
                        [address], "[Regovar] test message", body.text, body.html)  # fmt: skip
        try:
            return await self.mailer.send(letter)
        except MailError as exc:
            raise MailUnavailable(f"the SMTP server did not take the message: {exc}") from exc

    async def page(self, principal: Principal, state: str | None = None, offset: int = 0,
                   limit: int = 50) -> Page[OutgoingMail]:  # fmt: skip
        require_admin(principal)
        check_page(offset, limit, self.max_page_size)
        check_state(state, STATES, "mail")
        async with self.uow() as uow:
            items, total = await uow.outbox.page(state, offset, limit)
        return Page(items, total, offset, limit)

    def _letter(self, mail: OutgoingMail) -> Letter:
        # Unique beyond this database (a reinstall starts the ids again); the same at a resend.
        stamp = f"{mail.created_at:%Y%m%d%H%M%S%f}"
        return Letter(f"regovar-outbox-{mail.id}-{stamp}@{self.domain}", list(mail.recipients),
                      header_text(mail.subject), mail.text_body, mail.html_body)  # fmt: skip

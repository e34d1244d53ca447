"""Sending email over SMTP (plain, STARTTLS or SMTP over TLS; optional authentication).

One message per call, in a thread (smtplib blocks). The Message-ID is derived from the outbox
row, so a message sent again after a crash carries the same id and mail clients show it once.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    security: str = "none"  # none, starttls, tls
    user: str | None = None
    password: str | None = None
    timeout_s: float = 30.0
    sender: str = "regovar@localhost"
    ca_file: str | None = None  # verify the server's certificate against this CA


@dataclass(frozen=True)
class Letter:
    message_id: str  # without angle brackets
    recipients: list[str]
    subject: str
    text: str
    html: str


class MailError(Exception):
    """The server could not be reached or refused the message (the outbox retries)."""


class Mailer:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    async def send(self, letter: Letter) -> list[str]:
        """Sends one message; returns the recipients the server refused (the others got it).
        Raises MailError when nobody got it."""
        return await asyncio.to_thread(self._send, letter)

    def _send(self, letter: Letter) -> list[str]:
        c = self.config
        message = EmailMessage()
        message["From"] = c.sender
        message["To"] = ", ".join(letter.recipients)
        message["Subject"] = letter.subject
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = f"<{letter.message_id}>"
        message["Auto-Submitted"] = "auto-generated"  # no vacation replies to a robot
        message.set_content(letter.text)
        message.add_alternative(letter.html, subtype="html")
        try:
            smtp: smtplib.SMTP
            context = ssl.create_default_context(cafile=c.ca_file)
            if c.security == "tls":
                smtp = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout_s, context=context)
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout_s)
            with smtp:
                if c.security == "starttls":
                    smtp.starttls(context=context)
                if c.user:
                    smtp.login(c.user, c.password or "")
                refused = smtp.send_message(message, from_addr=c.sender,
                                            to_addrs=letter.recipients)  # fmt: skip
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailError(f"every recipient was refused: {_codes(exc.recipients)}") from exc
        except (smtplib.SMTPException, OSError, UnicodeError) as exc:
            raise MailError(f"{c.host}:{c.port} ({c.security}): {type(exc).__name__}: "
                            f"{exc}"[:500]) from exc  # fmt: skip
        return sorted(refused)


def _codes(refused: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{who} ({code})" for who, (code, _) in sorted(refused.items()))

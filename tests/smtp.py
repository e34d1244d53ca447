"""A real SMTP server for the tests (aiosmtpd), keeping the messages it received."""

from __future__ import annotations

import socket
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Keep:
    def __init__(self, catcher: MailCatcher) -> None:
        self.catcher = catcher

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:  # fmt: skip
        if address in self.catcher.refuse:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.catcher.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"


class MailCatcher:
    """Start, stop (the mail server is down) and start again on the same port."""

    def __init__(self, port: int | None = None, **smtp_options: Any) -> None:
        self.port = port or free_port()
        self.options = smtp_options  # aiosmtpd SMTP options: tls_context, authenticator...
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.refuse: set[str] = set()
        self._controller: Controller | None = None

    def start(self) -> MailCatcher:
        self._controller = Controller(_Keep(self), hostname="127.0.0.1", port=self.port,
                                      **self.options)  # fmt: skip
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return [m for _, m in self.received]

    def wait_for(self, count: int, seconds: float = 30.0) -> list[EmailMessage]:
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.messages


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())

"""Who acts. Every public manager method takes the acting principal first."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    user_id: int | None
    login: str
    is_admin: bool = False
    session_id: int | None = None  # the sign-in session of a web caller
    origin: str = ""  # where the call came from, for the audit trail: "cli:alice", "web:10.1.2.3"
    problem: str | None = None  # why an anonymous caller is anonymous (an expired token...)

    @property
    def is_system(self) -> bool:
        """The server itself: batches, and the CLI run on the server without ``--as``."""
        return self.user_id is None and self.login == "system"

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None or self.is_system


SYSTEM = Principal(user_id=None, login="system", is_admin=True)
ANONYMOUS = Principal(user_id=None, login="anonymous", is_admin=False)

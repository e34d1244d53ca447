"""Who acts. Every public manager method takes the acting principal first."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    user_id: int | None
    login: str
    is_admin: bool = False

    @property
    def is_system(self) -> bool:
        return self.user_id is None and self.login == "system"


SYSTEM = Principal(user_id=None, login="system", is_admin=True)

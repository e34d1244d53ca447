from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from regovar.config import EMAIL_ADDRESS
from regovar.domain.errors import InvalidInput

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


def check_page(offset: int, limit: int, max_limit: int) -> None:
    if offset < 0:
        raise InvalidInput("offset must be 0 or more")
    if limit < 0 or limit > max_limit:
        raise InvalidInput(f"limit must be between 0 and {max_limit}")


def check_state(state: str | None, states: tuple[str, ...], what: str) -> None:
    """A list's state filter is one of the known states (``what``: "job", "run"...)."""
    if state is not None and state not in states:
        raise InvalidInput(f"unknown {what} state {state!r}: one of {', '.join(states)}")


def storable(text: str, *, control: bool = False) -> bool:
    """PostgreSQL text holds no NUL and no lone surrogate; names (``control`` False) hold no
    control character either."""
    for c in text:
        code = ord(c)
        if code == 0 or 0xD800 <= code <= 0xDFFF or (not control and (code < 32 or code == 127)):
            return False
    return True


def storable_json(value: object) -> bool:
    """Every text (keys included) of a JSON value is storable."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not storable(item, control=True):
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def is_email(text: str) -> bool:
    """``local@domain`` in ASCII, at most 254 characters (the settings' rule, too)."""
    return len(text) <= 254 and EMAIL_ADDRESS.fullmatch(text) is not None


def checked_email(text: str) -> str:
    """An email address (or nothing), stripped."""
    email = text.strip()
    if email and not is_email(email):
        raise InvalidInput(f"{email!r} is not an email address (local@domain, in ASCII)",
                           field="email")  # fmt: skip
    return email


def checked_name(text: str, what: str) -> str:
    """A name of 1 to 200 printable characters, stripped (``what``: "an analysis", ...)."""
    name = text.strip()
    if not name or len(name) > 200 or not storable(name):
        raise InvalidInput(f"{what} name has 1 to 200 printable characters", field="name")
    return name


def checked_description(text: str) -> str:
    """Free text of at most 10,000 storable characters, stripped."""
    if len(text) > 10_000 or not storable(text, control=True):
        raise InvalidInput(
            "a description has at most 10,000 valid characters", field="description"
        )
    return text.strip()

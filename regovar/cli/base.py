"""Shared plumbing of the CLI: settings, container, errors as `CODE: message` and exit 1."""

from __future__ import annotations

import asyncio
import dataclasses
import getpass
import logging
import signal
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import TypeVar

import typer

from regovar.bootstrap import Container, build
from regovar.config import Settings, SettingsError, load_settings
from regovar.db import current_revision, upgrade_schema
from regovar.domain.errors import RegovarError
from regovar.domain.principal import SYSTEM, Principal

T = TypeVar("T")
_acting_login: list[str | None] = [None]  # set once by the global --as option
_principal: ContextVar[Principal] = ContextVar("principal", default=SYSTEM)


MAX_ID = 2**31 - 1  # ids are 32-bit in the database
LIMIT_HELP = "Rows per page (at most REGOVAR_MAX_PAGE_SIZE, 1000 by default; --offset for more)."

INTERRUPTED = (
    "INTERRUPTED: stopped; work not committed was dropped: run the command again to redo it"
)


def act_as(login: str | None) -> None:
    _acting_login[0] = login


def principal() -> Principal:
    """Who the command acts as: the system principal (administration on the server itself),
    or the user named by ``--as`` with that user's rights. The audit trail also records the
    operating-system account that ran the command."""
    return _principal.get()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return "unknown"


def fail(code: str, message: str) -> typer.Exit:
    typer.echo(f"{code}: {message}", err=True)
    return typer.Exit(1)


def settings() -> Settings:
    try:
        loaded = load_settings()
    except SettingsError as exc:
        raise fail("INVALID_SETTINGS", str(exc)) from exc
    logging.basicConfig(
        level=loaded.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return loaded


def container(*, with_broker: bool = True, config: Settings | None = None) -> Container:
    chosen = config or settings()  # INVALID_SETTINGS exits here, before any database error
    try:
        c = build(chosen, with_broker=with_broker)
        if c.embedded is not None:
            upgrade_schema(c.database_url)  # Regovar owns this database: keep its schema current
            return c
        revision = current_revision(c.database_url)
    except typer.Exit:
        raise
    except Exception as exc:  # refused, unknown host, bad password: say so, no traceback
        raise fail("DATABASE_UNAVAILABLE", _one_line(exc)) from exc
    if revision is None:
        raise fail(
            "DATABASE_NOT_INITIALISED",
            "the database has no Regovar schema yet: run `regovar db upgrade`",
        )
    return c


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.split(" (Background on this error at:")[0][:500]


def run(c: Container, work: Callable[[Container], Awaitable[T]], *, stop_db: bool = True) -> T:
    async def main() -> T:
        try:
            origin = f"cli:{_os_user()}"
            _principal.set(dataclasses.replace(SYSTEM, origin=origin))
            if _acting_login[0]:
                _principal.set(await c.users.act_as(SYSTEM, _acting_login[0], origin))
            return await work(c)
        finally:
            await c.aclose()

    terminated: list[int] = []

    def on_sigterm(signum: int, _frame: object) -> None:  # `kill`: stop as for Ctrl-C
        terminated.append(signum)
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread (a test harness): left as it is
        previous = None
    try:
        return asyncio.run(main())
    except RegovarError as exc:
        raise fail(exc.code, exc.message) from exc
    except KeyboardInterrupt:
        # Ctrl-C or SIGTERM: the transaction in progress is rolled back (an import keeps
        # nothing and is listed as interrupted); said, with the shell's exit status for it.
        typer.echo(INTERRUPTED, err=True)
        raise typer.Exit(143 if terminated else 130) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        c.close_broker()
        if stop_db:
            stop_database(c)


def stop_database(c: Container) -> None:
    """Stops the private PostgreSQL that this command started, unless other processes use it
    (a worker, a server): it then keeps running for them, and the command says so."""
    others = c.stop_embedded()
    if others:
        who = ", ".join(f"{n} x {name}" for name, n in others.items())
        typer.echo(f"the private PostgreSQL keeps running for its other clients ({who}); "
                   "`regovar db stop` stops it")  # fmt: skip

"""`regovar users ...`, `regovar projects members|add-member|remove-member`, `regovar audit ...`.

Passwords are never taken from the command line (it stays in the shell history and in the
process list): they are prompted for, or read from a file with --password-file.
"""

from __future__ import annotations

from pathlib import Path

import typer

from regovar.bootstrap import Container
from regovar.cli.base import LIMIT_HELP, MAX_ID, container, fail, principal, run
from regovar.cli.output import print_table
from regovar.domain.audit import AuditQuery, parse_anchors
from regovar.domain.users import CreateUser

users_app = typer.Typer(help="Users (administrators).", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail (administrators).", no_args_is_help=True)

PASSWORD_FILE = typer.Option(
    None, "--password-file", help="Read the password from this file (first line)."
)


def _password(path: Path | None) -> str:
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise fail("INVALID_INPUT", f"cannot read password file {path}: {exc}") from exc
        if not lines or not lines[0]:
            raise fail("INVALID_INPUT", f"password file {path} is empty")
        return lines[0]
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command()
def create(
    login: str,
    admin: bool = typer.Option(False, "--admin", help="An administrator (sees everything)."),
    email: str = typer.Option("", help="Where notifications go."),
    first_name: str = typer.Option(""),
    last_name: str = typer.Option(""),
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """Create a user; the first administrator is created this way, on the server."""
    password = _password(password_file)

    async def work(c: Container) -> None:
        command = CreateUser(login, password, email, first_name, last_name, admin)
        user = await c.users.create(principal(), command)
        role = "administrator" if user.is_admin else "user"
        typer.echo(f"{role} {user.login} created (id {user.id})")

    run(container(with_broker=False), work)


@users_app.command("list")
def list_(
    offset: int = typer.Option(0, min=0, max=MAX_ID),
    limit: int = typer.Option(100, min=0, help=LIMIT_HELP),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """List users."""

    async def work(c: Container) -> None:
        page = await c.users.page(principal(), offset, limit)
        rows = [
            {"id": u.id, "login": u.login, "email": u.email, "admin": u.is_admin,
             "active": u.is_active, "created": u.created_at.isoformat(timespec="seconds")}
            for u in page.items
        ]  # fmt: skip
        print_table(rows, format, total=page.total)

    run(container(with_broker=False), work)


def _set_active(login: str, active: bool) -> None:
    async def work(c: Container) -> None:
        user = await c.users.find(principal(), login)
        user = await c.users.set_active(principal(), user.id, active)
        typer.echo(f"{user.login} {'activated' if active else 'deactivated'}")

    run(container(with_broker=False), work)


@users_app.command("set-email")
def set_email(login: str, email: str = typer.Argument(..., help="'' to remove it.")) -> None:
    """Set a user's email address (alerts, data-ready notices)."""

    async def work(c: Container) -> None:
        user = await c.users.find(principal(), login)
        done = await c.users.set_email(principal(), user.id, email)
        typer.echo(f"{done.login}: {done.email or 'no email address'}")

    run(container(with_broker=False), work)


@users_app.command()
def deactivate(login: str) -> None:
    """Disable an account and end its sessions (nothing is deleted)."""
    _set_active(login, False)


@users_app.command()
def activate(login: str) -> None:
    """Enable a disabled account again."""
    _set_active(login, True)


@users_app.command("reset-password")
def reset_password(login: str, password_file: Path | None = PASSWORD_FILE) -> None:
    """Set a user's password; every session of that user ends."""
    password = _password(password_file)

    async def work(c: Container) -> None:
        user = await c.users.find(principal(), login)
        await c.users.reset_password(principal(), user.id, password)
        typer.echo(f"password of {user.login} changed; their sessions ended")

    run(container(with_broker=False), work)


def members(project: str, format: str = typer.Option("table", help="table, tsv or json")) -> None:
    """The members of a project and their roles."""

    async def work(c: Container) -> None:
        found = await c.projects.find(principal(), project)
        rows = [
            {
                "login": m.user.login,
                "role": m.member.role,
                "email": m.user.email,
                "notify": m.member.notify,
            }
            for m in await c.members.list(principal(), found.id)
        ]
        print_table(rows, format, total=len(rows))

    run(container(with_broker=False), work)


def add_member(
    project: str,
    login: str,
    role: str = typer.Option("viewer", help="owner, editor or viewer"),
) -> None:
    """Add a member to a project, or change their role."""

    async def work(c: Container) -> None:
        found = await c.projects.find(principal(), project)
        member = await c.members.set(principal(), found.id, login, role)
        typer.echo(f"{member.user.login} is {member.member.role} of {found.name}")

    run(container(with_broker=False), work)


def notify(
    project: str,
    on: bool = typer.Option(True, "--on/--off", help="Start or stop the emails."),
    user: str | None = typer.Option(None, help="Another member (owners; default: yourself)."),
) -> None:
    """Email a member when a run of the project is imported or fails."""

    async def work(c: Container) -> None:
        found = await c.projects.find(principal(), project)
        member = await c.members.subscribe(principal(), found.id, on, user)
        state = "will be" if member.member.notify else "will not be"
        where = member.user.email or "no email address: set one with `regovar users set-email`"
        typer.echo(f"{member.user.login} {state} emailed about runs of {found.name} ({where})")

    run(container(with_broker=False), work)


def remove_member(project: str, login: str) -> None:
    """Remove a member from a project."""

    async def work(c: Container) -> None:
        found = await c.projects.find(principal(), project)
        await c.members.remove(principal(), found.id, login)
        typer.echo(f"{login} removed from {found.name}")

    run(container(with_broker=False), work)


@audit_app.command()
def verify(
    anchor: list[str] = typer.Option(
        [],
        help="EVENT_ID:HASH printed by an earlier verify (repeatable): proves the trail "
        "was not rewritten since.",
    ),
) -> None:
    """Recompute the hash chain of the audit trail; exit 1 when it was tampered with."""

    async def work(c: Container) -> bool:
        report = await c.audit.verify(principal(), parse_anchors(anchor))
        if report.intact:
            typer.echo(f"audit trail intact: {report.events} events")
            if report.head_id is not None:
                typer.echo(f"anchor (keep it off this server): {report.head_id}:{report.head_hash}")
        else:
            typer.echo(
                f"AUDIT_TAMPERED: event {report.first_bad_id} {report.problem} "
                f"({report.events} events read)",
                err=True,
            )
        return report.intact

    if not run(container(with_broker=False), work):
        raise typer.Exit(1)


@audit_app.command("list")
def audit_list(
    object_type: str | None = typer.Option(None, help="project, import, user, session..."),
    object_id: str | None = typer.Option(None),
    user: str | None = typer.Option(None, help="Events of this user (login)."),
    project: str | None = typer.Option(None, help="Events of this project (name or id)."),
    offset: int = typer.Option(0, min=0, max=MAX_ID),
    limit: int = typer.Option(100, min=0, help=LIMIT_HELP),
    format: str = typer.Option("table", help="table, tsv or json"),
) -> None:
    """Audit events, newest first."""

    async def work(c: Container) -> None:
        actor = (await c.users.find(principal(), user)).id if user else None
        pid = (await c.projects.find(principal(), project)).id if project else None
        query = AuditQuery(object_type, object_id, actor, pid, offset, limit)
        page = await c.audit.events(principal(), query)
        rows = [
            {"id": e.id, "at": e.at.isoformat(timespec="seconds"), "actor": e.actor,
             "action": e.action, "object": f"{e.object_type} {e.object_id or ''}".strip(),
             "project": e.project_id, "details": e.details}
            for e in page.items
        ]  # fmt: skip
        print_table(rows, format, total=page.total)

    run(container(with_broker=False), work)

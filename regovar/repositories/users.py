"""Users, their sessions, project memberships and failed sign-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from regovar.models import ProjectMember, SignInFailure, User, UserSession


class LoginTaken(Exception):
    """Another account has this login (compared without case)."""


async def _lock(session: AsyncSession, name: str, key: int = 0) -> None:
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:n), :k)"), {"n": f"regovar.{name}", "k": key}
    )


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, user: User) -> User:
        self.session.add(user)
        try:
            await self.session.flush()
        except IntegrityError as exc:  # two requests creating the same login at once
            raise LoginTaken(user.login) from exc
        return user

    async def lock_admins(self) -> None:
        """Serialises changes that could leave no active administrator, to the commit."""
        await _lock(self.session, "admins")

    async def get(self, user_id: int, *, for_update: bool = False) -> User | None:
        stmt = select(User).where(User.id == user_id)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt.execution_options(populate_existing=True))

    async def by_login(self, login: str) -> User | None:
        return await self.session.scalar(
            select(User).where(func.lower(User.login) == login.lower())
        )

    async def page(self, offset: int, limit: int) -> tuple[list[User], int]:
        rows = await self.session.scalars(
            select(User).order_by(User.id).offset(offset).limit(limit)
        )
        total = await self.session.scalar(select(func.count()).select_from(User))
        return list(rows), int(total or 0)

    async def admin_emails(self) -> list[str]:
        """Addresses of the active administrators who gave one."""
        rows = await self.session.scalars(
            select(User.email).where(User.is_admin, User.is_active, User.email != "")
            .order_by(User.email)
        )  # fmt: skip
        return list(dict.fromkeys(rows))

    async def count_admins(self) -> int:
        stmt = select(func.count()).select_from(User).where(User.is_admin, User.is_active)
        return int(await self.session.scalar(stmt) or 0)


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, record: UserSession) -> UserSession:
        self.session.add(record)
        await self.session.flush()
        return record

    async def by_token_hash(self, token_hash: bytes) -> tuple[UserSession, User] | None:
        row = (
            await self.session.execute(
                select(UserSession, User)
                .join(User, User.id == UserSession.user_id)
                .where(UserSession.token_hash == token_hash)
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def touch(self, session_id: int, now: datetime) -> None:
        await self.session.execute(
            update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now)
        )

    async def of_user(self, user_id: int, now: datetime) -> list[UserSession]:
        rows = await self.session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user_id,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
            )
            .order_by(UserSession.id)
        )
        return list(rows)

    async def get(self, session_id: int) -> UserSession | None:
        return await self.session.get(UserSession, session_id)

    async def revoke(self, session_id: int, now: datetime) -> None:
        await self.session.execute(
            update(UserSession)
            .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_all(self, user_id: int, now: datetime, *, keep: int | None = None) -> int:
        stmt = update(UserSession).where(
            UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
        )
        if keep is not None:
            stmt = stmt.where(UserSession.id != keep)
        result = await self.session.execute(stmt.values(revoked_at=now))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, project_id: int) -> None:
        """Serialises member changes of one project (the last-owner rule), to the commit."""
        await _lock(self.session, "members", project_id)

    async def role(self, project_id: int, user_id: int) -> str | None:
        return await self.session.scalar(
            select(ProjectMember.role).where(
                ProjectMember.project_id == project_id, ProjectMember.user_id == user_id
            )
        )

    async def project_ids(self, user_id: int) -> list[int]:
        rows = await self.session.scalars(
            select(ProjectMember.project_id).where(ProjectMember.user_id == user_id)
        )
        return list(rows)

    async def set(self, project_id: int, user_id: int, role: str) -> None:
        existing = await self.session.get(ProjectMember, (project_id, user_id))
        if existing is None:
            self.session.add(ProjectMember(project_id=project_id, user_id=user_id, role=role))
        else:
            existing.role = role
        await self.session.flush()

    async def remove(self, project_id: int, user_id: int) -> bool:
        result = await self.session.execute(
            delete(ProjectMember).where(
                ProjectMember.project_id == project_id, ProjectMember.user_id == user_id
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def of_project(self, project_id: int) -> list[tuple[ProjectMember, User]]:
        rows = await self.session.execute(
            select(ProjectMember, User)
            .join(User, User.id == ProjectMember.user_id)
            .where(ProjectMember.project_id == project_id)
            .order_by(User.login)
        )
        return [(m, u) for m, u in rows]

    async def set_notify(self, project_id: int, user_id: int, notify: bool) -> bool:
        result = await self.session.execute(
            update(ProjectMember)
            .where(ProjectMember.project_id == project_id, ProjectMember.user_id == user_id)
            .values(notify=notify)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def notify_emails(self, project_id: int) -> list[str]:
        """Addresses of the active members who asked to hear of the project's new data."""
        rows = await self.session.scalars(
            select(User.email)
            .join(ProjectMember, ProjectMember.user_id == User.id)
            .where(ProjectMember.project_id == project_id, ProjectMember.notify,
                   User.is_active, User.email != "")
            .order_by(User.email)
        )  # fmt: skip
        return list(dict.fromkeys(rows))

    async def count_owners(self, project_id: int) -> int:
        stmt = select(func.count()).where(
            ProjectMember.project_id == project_id, ProjectMember.role == "owner"
        )
        return int(await self.session.scalar(stmt) or 0)


class SignInFailureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, login: str, client: str) -> None:
        """Serialises sign-in attempts on one account and from one address, to the commit."""
        # Always the account first, then the address: no two attempts wait on each other.
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('regovar.sign_in'), hashtext(:l))"),
            {"l": login.lower()},
        )
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('regovar.sign_in_client'), hashtext(:c))"),
            {"c": client},
        )

    async def add(self, login: str, client: str) -> None:
        self.session.add(SignInFailure(login=login.lower(), client=client))
        await self.session.flush()

    async def recent(self, login: str, client: str, since: datetime) -> tuple[int, int]:
        """Failures since ``since`` for this account, and from this client address."""
        by_login = select(func.count()).where(
            SignInFailure.login == login.lower(), SignInFailure.at >= since
        )
        by_client = select(func.count()).where(
            SignInFailure.client == client, SignInFailure.at >= since
        )
        return (
            int(await self.session.scalar(by_login) or 0),
            int(await self.session.scalar(by_client) or 0),
        )

    async def clear(self, login: str) -> None:
        await self.session.execute(
            delete(SignInFailure).where(SignInFailure.login == login.lower())
        )

    async def prune(self, before: datetime) -> None:
        """Failures older than the throttling window count no more: the table stays small."""
        await self.session.execute(delete(SignInFailure).where(SignInFailure.at < before))

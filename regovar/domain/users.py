"""Users, sign-in sessions and project members.

There is no default account and no default password: the first administrator is created on the
server with ``regovar users create --admin``. A session token is random (256 bits), shown once,
and stored only as its SHA-256; it expires and can be revoked. Repeated failed sign-ins are
refused for a while, per account and per client address, before the password is even checked.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from regovar.adapters import directory as ldap
from regovar.adapters.passwords import hash_password, needs_rehash, verify_password
from regovar.domain.access import require_admin, require_user
from regovar.domain.audit import record
from regovar.domain.common import Page, check_page, checked_email
from regovar.domain.errors import (
    Conflict,
    DirectoryUnavailable,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    Unauthenticated,
)
from regovar.domain.principal import Principal
from regovar.models import User, UserSession
from regovar.repositories.uow import UnitOfWork, UnitOfWorkFactory
from regovar.repositories.users import LoginTaken

log = logging.getLogger("regovar.users")
SYSTEM_DIRECTORY = Principal(None, "directory")  # the actor of accounts made at first sign-in
LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; a huge one is only a way to burn CPU
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class AuthPolicy:
    session_hours: int = 12
    max_failures: int = 5  # per account within the window
    max_client_failures: int = 20  # per client address within the window
    window_minutes: int = 15


@dataclass(frozen=True)
class CreateUser:
    login: str
    password: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    is_admin: bool = False


@dataclass(frozen=True)
class SignIn:
    login: str
    password: str
    client: str = ""  # the caller's address, for throttling and the audit trail

    @property
    def origin(self) -> str:
        return f"web:{self.client}" if self.client else "web"


@dataclass(frozen=True)
class SignedIn:
    token: str  # shown once; only its hash is stored
    session: UserSession
    user: User


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _checked_password(password: str, login: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(
            f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters", field="password"
        )
    if password.lower() == login.lower():
        raise InvalidInput("the password cannot be the login", field="password")
    return password


def _encodable(text: str) -> bool:
    """Text PostgreSQL and argon2 can take: UTF-8, no NUL."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\0" not in text


def _now() -> datetime:
    return datetime.now(UTC)


class UserManager:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        policy: AuthPolicy,
        max_page_size: int,
        directory: ldap.Directory | None = None,
    ) -> None:
        self.uow = uow
        self.policy = policy
        self.max_page_size = max_page_size
        self.directory = directory

    # Accounts ------------------------------------------------------------------------------

    async def create(self, principal: Principal, command: CreateUser) -> User:
        require_admin(principal)
        login = command.login.strip()
        if not LOGIN.fullmatch(login):
            raise InvalidInput(
                "a login has 1 to 64 letters, digits, '.', '_', '@' or '-'", field="login"
            )
        password = _checked_password(command.password, login)
        hashed = await asyncio.to_thread(hash_password, password)
        async with self.uow() as uow:
            taken = Conflict(f"a user named {login!r} already exists", field="login")
            if await uow.users.by_login(login) is not None:
                raise taken
            new = User(
                login=login,
                email=checked_email(command.email),
                first_name=command.first_name.strip(),
                last_name=command.last_name.strip(),
                is_admin=command.is_admin,
                is_active=True,
                password_hash=hashed,
                password_changed_at=_now(),
            )
            try:
                user = await uow.users.add(new)
            except LoginTaken:
                raise taken from None
            await record(uow, principal, "user.create", "user", user.id, login=login,
                         admin=command.is_admin)  # fmt: skip
            await uow.commit()
            return user

    async def page(self, principal: Principal, offset: int = 0, limit: int = 100) -> Page[User]:
        require_admin(principal)
        check_page(offset, limit, self.max_page_size)
        async with self.uow() as uow:
            items, total = await uow.users.page(offset, limit)
            return Page(items, total, offset, limit)

    async def get(self, principal: Principal, user_id: int) -> User:
        require_user(principal)
        if not principal.is_admin and principal.user_id != user_id:
            raise PermissionDenied("you can only read your own account")
        async with self.uow() as uow:
            return await _user(uow, user_id)

    async def me(self, principal: Principal) -> User:
        require_user(principal)
        if principal.user_id is None:
            raise NotFound("the system principal has no account")
        return await self.get(principal, principal.user_id)

    async def find(self, principal: Principal, login: str) -> User:
        require_admin(principal)
        async with self.uow() as uow:
            user = await uow.users.by_login(login)
            if user is None:
                raise NotFound(f"user {login!r} not found", login=login)
            return user

    async def act_as(self, principal: Principal, login: str, origin: str = "") -> Principal:
        """The CLI on the server acts as a named user (``--as LOGIN``) with that user's rights."""
        if not principal.is_system:
            raise PermissionDenied("only the server itself can act as another user")
        async with self.uow() as uow:
            user = await uow.users.by_login(login)
        if user is None:
            raise NotFound(f"user {login!r} not found", login=login)
        if not user.is_active:
            raise Unauthenticated(f"user {login!r} is disabled")
        return Principal(user.id, user.login, user.is_admin, origin=origin or principal.origin)

    async def set_email(self, principal: Principal, user_id: int, email: str) -> User:
        """Administrators, or the user for their own account."""
        require_user(principal)
        if principal.user_id != user_id:
            require_admin(principal)
        address = checked_email(email)
        async with self.uow() as uow:
            user = await _user(uow, user_id, for_update=True)
            user.email = address
            user.updated_at = _now()
            await record(uow, principal, "user.set_email", "user", user.id)
            await uow.commit()
            return user

    async def set_active(self, principal: Principal, user_id: int, active: bool) -> User:
        """Deactivating signs the user out everywhere; the last active admin stays active."""
        require_admin(principal)
        async with self.uow() as uow:
            user = await _user(uow, user_id, for_update=True)
            if (
                not active
                and user.is_admin
                and user.is_active
                and await uow.users.count_admins() <= 1
            ):
                raise Conflict("the last active administrator cannot be deactivated")
            user.is_active = active
            user.updated_at = _now()
            if not active:
                await uow.sessions.revoke_all(user.id, _now())
            await record(uow, principal, "user.activate" if active else "user.deactivate",
                         "user", user.id, login=user.login)  # fmt: skip
            await uow.commit()
            return user

    async def reset_password(self, principal: Principal, user_id: int, password: str) -> User:
        """An administrator sets a new password; every session of the user ends."""
        require_admin(principal)
        async with self.uow() as uow:
            user = await _user(uow, user_id, for_update=True)
            await self._set_password(uow, user, password)
            await uow.sessions.revoke_all(user.id, _now())
            await record(uow, principal, "user.reset_password", "user", user.id, login=user.login)
            await uow.commit()
            return user

    async def change_password(self, principal: Principal, current: str, new: str) -> None:
        """The user's own change; the other sessions end, this one stays. Wrong current
        passwords count as failed sign-ins: a stolen session cannot guess its way to the
        password."""
        require_user(principal)
        if principal.user_id is None:
            raise InvalidInput("the system principal has no password")
        client = principal.origin.removeprefix("web:")[:200]
        async with self.uow() as uow:
            user = await _user(uow, principal.user_id, for_update=True)
            await uow.sign_in_failures.lock(user.login, client)
            await self._throttle(uow, user.login, client)
            ok = _encodable(current) and await asyncio.to_thread(
                verify_password, user.password_hash, current[:MAX_PASSWORD]
            )
            if not ok:
                await uow.sign_in_failures.add(user.login, client)
                await record(uow, principal, "user.change_password_failed", "user", user.id)
                await uow.commit()
                raise PermissionDenied("the current password is wrong", field="currentPassword")
            await self._set_password(uow, user, new)
            await uow.sessions.revoke_all(user.id, _now(), keep=principal.session_id)
            await record(uow, principal, "user.change_password", "user", user.id)
            await uow.commit()

    async def _set_password(self, uow: UnitOfWork, user: User, password: str) -> None:
        if user.source != "local":
            raise InvalidInput("this account signs in through the directory", field="password")
        if not _encodable(password):
            raise InvalidInput("a password cannot hold NUL or invalid characters", field="password")
        checked = _checked_password(password, user.login)
        user.password_hash = await asyncio.to_thread(hash_password, checked)
        user.password_changed_at = user.updated_at = _now()

    # Sessions ------------------------------------------------------------------------------

    async def sign_in(self, command: SignIn) -> SignedIn:
        """One attempt at a time per account and per client address (advisory locks held to
        the commit), so that parallel guesses all see the failures before them."""
        login, client = command.login.strip()[:200], command.client[:200]
        password = command.password[:MAX_PASSWORD]
        # A login no account can have (control characters, brackets...) is a failure with
        # nothing to look up; it is not written anywhere as typed.
        well_formed = bool(LOGIN.fullmatch(login)) and _encodable(password)
        account = login if well_formed else ""
        async with self.uow() as uow:
            await uow.sign_in_failures.lock(account, client)
            await self._throttle(uow, account, client)
            user, ok = None, False
            if well_formed:
                user = await uow.users.by_login(login)
                user, ok = await self._check_password(uow, user, login, password)
            if user is None or not ok or not user.is_active:
                await uow.sign_in_failures.add(account, client)
                reason = "inactive" if user is not None and ok else "bad credentials"
                await record(uow, Principal(None, "anonymous", origin=command.origin),
                             "user.sign_in_failed", "user", user.id if user else None,
                             login=user.login if user else None, client=client,
                             reason=reason)  # fmt: skip
                await uow.commit()
                raise Unauthenticated("wrong login or password, or the account is disabled")
            if user.password_hash is not None and needs_rehash(user.password_hash):
                user.password_hash = await asyncio.to_thread(hash_password, password)
            token = secrets.token_urlsafe(32)
            session = await uow.sessions.add(
                UserSession(
                    user_id=user.id,
                    token_hash=token_hash(token),
                    client=client,
                    expires_at=_now() + timedelta(hours=self.policy.session_hours),
                )
            )
            await uow.sign_in_failures.clear(account)
            await record(uow, Principal(user.id, user.login, origin=command.origin),
                         "user.sign_in", "session", session.id, client=client)  # fmt: skip
            await uow.commit()
            return SignedIn(token, session, user)

    async def _throttle(self, uow: UnitOfWork, account: str, client: str) -> None:
        since = _now() - timedelta(minutes=self.policy.window_minutes)
        await uow.sign_in_failures.prune(since)
        by_login, by_client = await uow.sign_in_failures.recent(account, client, since)
        if (account and by_login >= self.policy.max_failures) or (
            by_client >= self.policy.max_client_failures
        ):
            raise TooManyAttempts(
                f"too many failed sign-ins; try again in {self.policy.window_minutes} minutes",
                retry_after_s=self.policy.window_minutes * 60,
            )

    async def _check_password(
        self, uow: UnitOfWork, user: User | None, login: str, password: str
    ) -> tuple[User | None, bool]:
        if self.directory is not None and (user is None or user.source == "ldap"):
            return await self._directory_sign_in(uow, user, login, password)
        stored = user.password_hash if user is not None else None
        ok = await asyncio.to_thread(verify_password, stored, password)
        return user, ok and user is not None and user.source == "local"

    async def _directory_sign_in(
        self, uow: UnitOfWork, user: User | None, login: str, password: str
    ) -> tuple[User | None, bool]:
        """Checks the password against the directory; a directory user signing in for the
        first time gets an account (not an administrator, member of no project yet)."""
        assert self.directory is not None
        try:
            found = await asyncio.to_thread(
                self.directory.authenticate, login, password[:MAX_PASSWORD]
            )
        except ldap.DirectoryUnavailable as exc:
            log.warning("directory sign-in impossible: %s", exc)
            raise DirectoryUnavailable(
                "the staff directory does not answer; try again later"
            ) from exc
        if found is None:
            return user, False
        if user is None:
            user = await uow.users.add(
                User(login=login, email=found.email, first_name=found.first_name,
                     last_name=found.last_name, is_admin=False, is_active=True,
                     password_hash=None, source="ldap")
            )  # fmt: skip
            await record(uow, SYSTEM_DIRECTORY, "user.create", "user", user.id, login=login,
                         source="ldap")  # fmt: skip
        else:
            user.email, user.first_name, user.last_name = (
                found.email or user.email,
                found.first_name,
                found.last_name,
            )
        return user, True

    async def authenticate(self, token: str) -> Principal:
        """The principal of a bearer token; Unauthenticated when it is unknown, expired, revoked
        or its user is disabled."""
        now = _now()
        async with self.uow() as uow:
            found = await uow.sessions.by_token_hash(token_hash(token))
            if found is None:
                raise Unauthenticated("unknown session token: sign in again")
            session, user = found
            if session.revoked_at is not None or session.expires_at <= now:
                raise Unauthenticated("this session has ended: sign in again")
            if not user.is_active:
                raise Unauthenticated("this account is disabled")
            if now - session.last_seen_at > TOUCH_EVERY:
                await uow.sessions.touch(session.id, now)
                await uow.commit()
            return Principal(
                user.id,
                user.login,
                user.is_admin,
                session_id=session.id,
                origin=f"web:{session.client}" if session.client else "web",
            )

    async def sign_out(self, principal: Principal) -> None:
        require_user(principal)
        if principal.session_id is None:
            return
        async with self.uow() as uow:
            await uow.sessions.revoke(principal.session_id, _now())
            await record(uow, principal, "user.sign_out", "session", principal.session_id)
            await uow.commit()

    async def sessions(self, principal: Principal) -> list[UserSession]:
        require_user(principal)
        if principal.user_id is None:
            return []
        async with self.uow() as uow:
            return await uow.sessions.of_user(principal.user_id, _now())

    async def revoke_session(self, principal: Principal, session_id: int) -> None:
        """Users end their own sessions; administrators end anyone's."""
        require_user(principal)
        async with self.uow() as uow:
            session = await uow.sessions.get(session_id)
            if session is None or (not principal.is_admin and session.user_id != principal.user_id):
                raise NotFound(f"session {session_id} not found", id=session_id)
            if session.revoked_at is not None:
                return  # already ended: nothing changes, nothing to record
            await uow.sessions.revoke(session_id, _now())
            await record(uow, principal, "user.revoke_session", "session", session_id,
                         user_id=session.user_id)  # fmt: skip
            await uow.commit()


async def _user(uow: UnitOfWork, user_id: int, *, for_update: bool = False) -> User:
    user = await uow.users.get(user_id, for_update=for_update)
    if user is None:
        raise NotFound(f"user {user_id} not found", id=user_id)
    return user

"""Project members and their roles: owners (and administrators) manage them.

A project keeps at least one owner; member changes of one project are serialised, so two
owners removing each other at once leave one.
"""

from __future__ import annotations

from dataclasses import dataclass

from regovar.domain.access import check_role_name, require_role
from regovar.domain.audit import record
from regovar.domain.errors import Conflict, InvalidInput, NotFound
from regovar.domain.principal import Principal
from regovar.models import ProjectMember, User
from regovar.repositories.uow import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class Member:
    member: ProjectMember
    user: User


class MemberManager:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow = uow

    async def list(self, principal: Principal, project_id: int) -> list[Member]:
        async with self.uow() as uow:
            await require_role(uow, principal, project_id, "viewer")
            return [Member(m, u) for m, u in await uow.members.of_project(project_id)]

    async def set(self, principal: Principal, project_id: int, login: str, role: str) -> Member:
        """Owners (and administrators) add members or change their role."""
        check_role_name(role)
        async with self.uow() as uow:
            await uow.members.lock(project_id)  # before the role check: roles may be changing
            await require_role(uow, principal, project_id, "owner")
            user = await uow.users.by_login(login)
            if user is None:
                raise NotFound(f"user {login!r} not found", login=login)
            current = await uow.members.role(project_id, user.id)
            if current == "owner" and role != "owner":
                await _keep_an_owner(uow, project_id)
            await uow.members.set(project_id, user.id, role)
            await record(uow, principal, "project.set_member", "project", project_id,
                         project_id=project_id, user_id=user.id, role=role)  # fmt: skip
            await uow.commit()
            found = await uow.members.of_project(project_id)
            return next(Member(m, u) for m, u in found if u.id == user.id)

    async def subscribe(self, principal: Principal, project_id: int, notify: bool,
                        login: str | None = None) -> Member:  # fmt: skip
        """A member asks (or stops asking) for an email when a run of the project is imported
        or fails. For another member (``login``): owners and administrators."""
        async with self.uow() as uow:
            await require_role(uow, principal, project_id, "viewer")
            if login is None or login == principal.login:
                if principal.user_id is None:
                    raise InvalidInput("the server itself has no email: name a member (--user)")
                user_id = principal.user_id
            else:
                await require_role(uow, principal, project_id, "owner")
                user = await uow.users.by_login(login)
                if user is None:
                    raise NotFound(f"user {login!r} not found", login=login)
                user_id = user.id
            if not await uow.members.set_notify(project_id, user_id, notify):
                raise NotFound(f"{login or principal.login!r} is not a member of project "
                               f"{project_id}", login=login or principal.login)  # fmt: skip
            await record(uow, principal, "project.notify", "project", project_id,
                         project_id=project_id, user_id=user_id, notify=notify)  # fmt: skip
            await uow.commit()
            found = await uow.members.of_project(project_id)
            return next(Member(m, u) for m, u in found if u.id == user_id)

    async def remove(self, principal: Principal, project_id: int, login: str) -> None:
        async with self.uow() as uow:
            await uow.members.lock(project_id)  # before the role check: roles may be changing
            await require_role(uow, principal, project_id, "owner")
            user = await uow.users.by_login(login)
            if user is None or await uow.members.role(project_id, user.id) is None:
                raise NotFound(f"{login!r} is not a member of project {project_id}", login=login)
            if await uow.members.role(project_id, user.id) == "owner":
                await _keep_an_owner(uow, project_id)
            await uow.members.remove(project_id, user.id)
            await record(uow, principal, "project.remove_member", "project", project_id,
                         project_id=project_id, user_id=user.id)  # fmt: skip
            await uow.commit()


async def _keep_an_owner(uow: UnitOfWork, project_id: int) -> None:
    if await uow.members.count_owners(project_id) <= 1:
        raise Conflict(f"project {project_id} must keep at least one owner")

"""Projects: the folders of work that hold subjects, samples and analyses."""

from __future__ import annotations

from dataclasses import dataclass

from regovar.domain.access import (
    readable,
    require_admin,
    require_role,
    require_user,
    visible_projects,
)
from regovar.domain.audit import record
from regovar.domain.common import Page, check_page
from regovar.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from regovar.domain.principal import Principal
from regovar.models import Project, Subject
from regovar.repositories.uow import UnitOfWorkFactory


@dataclass(frozen=True)
class CreateProject:
    name: str
    description: str = ""
    owner_login: str | None = None  # administrators: whom the project belongs to


class ProjectManager:
    def __init__(self, uow: UnitOfWorkFactory, max_page_size: int) -> None:
        self.uow = uow
        self.max_page_size = max_page_size

    async def create(self, principal: Principal, command: CreateProject) -> Project:
        """Any signed-in user creates projects, and owns the ones they create; an administrator
        (or the CLI on the server) may name the owner instead."""
        require_user(principal)
        if command.owner_login and not principal.is_admin:
            raise PermissionDenied("only an administrator can create a project for someone else")
        name = command.name.strip()
        if not name or len(name) > 200:
            raise InvalidInput("a project name has 1 to 200 characters", field="name")
        if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in name) or "\x7f" in name:
            raise InvalidInput(
                "a project name cannot hold control or invalid characters", field="name"
            )
        if len(command.description) > 10_000 or "\0" in command.description:
            raise InvalidInput(
                "a description has at most 10,000 characters, and no NUL", field="description"
            )
        async with self.uow() as uow:
            if await uow.projects.by_name(name) is not None:
                raise Conflict(f"a project named {name!r} already exists", field="name")
            owner = principal.user_id
            if command.owner_login:
                user = await uow.users.by_login(command.owner_login)
                if user is None:
                    raise NotFound(f"user {command.owner_login!r} not found", field="owner")
                owner = user.id
            project = await uow.projects.add(name, command.description.strip())
            if owner is not None:
                await uow.members.set(project.id, owner, "owner")
            await record(uow, principal, "project.create", "project", project.id,
                         project_id=project.id, name=name, owner_id=owner)  # fmt: skip
            await uow.commit()
            return project

    async def set_protected(self, principal: Principal, project_id: int,
                            protected: bool) -> Project:  # fmt: skip
        """A protected project is never archived for disuse (administrators)."""
        require_admin(principal)
        async with self.uow() as uow:
            project = await uow.projects.get(project_id)
            if project is None:
                raise NotFound(f"project {project_id} not found", id=project_id)
            project.protected = protected
            await record(uow, principal, "project.protect", "project", project_id,
                         project_id=project_id, protected=protected)  # fmt: skip
            await uow.commit()
            return project

    async def get(self, principal: Principal, project_id: int) -> Project:
        async with self.uow() as uow:
            await require_role(uow, principal, project_id, "viewer")
            project = await uow.projects.get(project_id)
            if project is None:
                raise NotFound(f"project {project_id} not found", id=project_id)
            return project

    async def find(self, principal: Principal, name_or_id: str) -> Project:
        """The CLI names projects by name or id."""
        require_user(principal)
        async with self.uow() as uow:
            project = await uow.projects.by_name(name_or_id)
            if project is None and name_or_id.isdigit() and int(name_or_id) < 2**31:
                project = await uow.projects.get(int(name_or_id))
            missing = NotFound(f"project {name_or_id!r} not found", name=name_or_id)
            if project is None:
                raise missing
            try:
                await require_role(uow, principal, project.id, "viewer")
            except NotFound:
                raise missing from None  # the same answer whether it exists or not
            return project

    async def page(self, principal: Principal, offset: int = 0, limit: int = 100) -> Page[Project]:
        check_page(offset, limit, self.max_page_size)
        async with self.uow() as uow:
            visible = await visible_projects(uow, principal)
            items, total = await uow.projects.page(offset, limit, visible)
            return Page(items, total, offset, limit)

    async def get_many(self, principal: Principal, ids: list[int]) -> dict[int, Project]:
        async with self.uow() as uow:
            found = await uow.projects.get_many(ids)
            return await readable(uow, principal, found, lambda project: project.id)

    async def subjects(
        self, principal: Principal, project_id: int, offset: int = 0, limit: int = 100
    ) -> Page[Subject]:
        check_page(offset, limit, self.max_page_size)
        async with self.uow() as uow:
            await require_role(uow, principal, project_id, "viewer")
            items, total = await uow.subjects.page(project_id, offset, limit)
            return Page(items, total, offset, limit)

"""Project access: who may read or change what. Every manager asks here, so GraphQL, the CLI and
the batches follow the same rules.

Roles: viewer (read), editor (read, import, analyse), owner (editor + members). Administrators
and the system principal see everything. A project that a user is not a member of does not
exist for that user: asking for it answers NOT_FOUND, the same as a project that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from regovar.domain.errors import InvalidInput, NotFound, PermissionDenied, Unauthenticated
from regovar.domain.principal import Principal
from regovar.repositories.uow import UnitOfWork

T = TypeVar("T")
ROLES = ("viewer", "editor", "owner")
_RANK = {role: rank for rank, role in enumerate(ROLES)}


def require_user(principal: Principal) -> None:
    if not principal.is_authenticated:
        raise Unauthenticated(principal.problem or "sign in first")


def require_admin(principal: Principal) -> None:
    require_user(principal)
    if not principal.is_admin:
        raise PermissionDenied("only an administrator can do this")


def sees_everything(principal: Principal) -> bool:
    require_user(principal)
    return principal.is_admin


async def require_role(uow: UnitOfWork, principal: Principal, project_id: int, need: str) -> None:
    """The principal holds at least role ``need`` in the project (which must exist). A person
    passing here uses the project: it is not archived for disuse (batches do not count)."""
    if not principal.is_system:
        uow.used(project_id)
    if sees_everything(principal):
        if await uow.projects.get(project_id) is None:
            raise NotFound(f"project {project_id} not found", id=project_id)
        return
    assert principal.user_id is not None
    role = await uow.members.role(project_id, principal.user_id)
    if role is None:
        raise NotFound(f"project {project_id} not found", id=project_id)
    if _RANK[role] < _RANK[need]:
        raise PermissionDenied(
            f"this needs the {need} role in project {project_id}; you are {role}",
            id=project_id,
            role=role,
        )


async def visible_projects(uow: UnitOfWork, principal: Principal) -> list[int] | None:
    """The projects the principal may read; None: all of them."""
    if sees_everything(principal):
        return None
    assert principal.user_id is not None
    return await uow.members.project_ids(principal.user_id)


async def readable(
    uow: UnitOfWork,
    principal: Principal,
    found: dict[int, T],
    project_of: Callable[[T], int] = lambda entity: entity.project_id,  # type: ignore[attr-defined]
) -> dict[int, T]:
    """Batch reads (DataLoaders): the entities of projects the principal may read. The others
    are left out, as if they did not exist. A person reading them uses their projects."""
    visible = await visible_projects(uow, principal)
    kept = found
    if visible is not None:
        allowed = set(visible)
        kept = {k: v for k, v in found.items() if project_of(v) in allowed}
    if not principal.is_system:
        for project_id in {project_of(v) for v in kept.values()}:
            uow.used(project_id)
    return kept


def check_role_name(role: str) -> str:
    if role not in _RANK:
        raise InvalidInput(f"unknown role {role!r}; expected one of {ROLES}", field="role")
    return role

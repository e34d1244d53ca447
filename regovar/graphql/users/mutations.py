from __future__ import annotations

import strawberry

from regovar.domain.users import CreateUser, SignIn
from regovar.graphql.scalars import parse_id
from regovar.graphql.users.types import ProjectMember, SignInResult, User


@strawberry.input
class CreateUserInput:
    login: str
    password: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    is_admin: bool = False


@strawberry.type
class UserMutations:
    @strawberry.mutation(description="Open a session; the only operation open to anyone.")
    async def sign_in(self, info: strawberry.Info, login: str, password: str) -> SignInResult:
        ctx = info.context
        signed = await ctx.container.users.sign_in(SignIn(login, password, ctx.client_address))
        return SignInResult.from_domain(signed)

    @strawberry.mutation(description="End the current session.")
    async def sign_out(self, info: strawberry.Info) -> bool:
        ctx = info.context
        await ctx.container.users.sign_out(ctx.principal)
        return True

    @strawberry.mutation(description="Change your own password; your other sessions end.")
    async def change_password(
        self, info: strawberry.Info, current_password: str, new_password: str
    ) -> bool:
        ctx = info.context
        await ctx.container.users.change_password(ctx.principal, current_password, new_password)
        return True

    @strawberry.mutation(description="End one of your sessions (administrators: anyone's).")
    async def revoke_session(self, info: strawberry.Info, id: strawberry.ID) -> bool:
        ctx = info.context
        await ctx.container.users.revoke_session(ctx.principal, parse_id(id))
        return True

    @strawberry.mutation(description="Create a user (administrators).")
    async def create_user(self, info: strawberry.Info, input: CreateUserInput) -> User:
        ctx = info.context
        command = CreateUser(
            login=input.login,
            password=input.password,
            email=input.email,
            first_name=input.first_name,
            last_name=input.last_name,
            is_admin=input.is_admin,
        )
        return User.from_model(await ctx.container.users.create(ctx.principal, command))

    @strawberry.mutation(description="Activate or deactivate a user (administrators).")
    async def set_user_active(self, info: strawberry.Info, id: strawberry.ID, active: bool) -> User:
        ctx = info.context
        user = await ctx.container.users.set_active(ctx.principal, parse_id(id), active)
        return User.from_model(user)

    @strawberry.mutation(description="Set a user's password (administrators).")
    async def reset_password(self, info: strawberry.Info, id: strawberry.ID, password: str) -> User:
        ctx = info.context
        user = await ctx.container.users.reset_password(ctx.principal, parse_id(id), password)
        return User.from_model(user)

    @strawberry.mutation(description="Add a member to a project or change their role (owners).")
    async def set_project_member(
        self, info: strawberry.Info, project_id: strawberry.ID, login: str, role: str
    ) -> ProjectMember:
        ctx = info.context
        member = await ctx.container.members.set(
            ctx.principal, parse_id(project_id, "projectId"), login, role
        )
        return ProjectMember.from_domain(member, ctx.principal)

    @strawberry.mutation(
        description="Ask (or stop asking) for an email when a run of the project is imported "
        "or fails; for another member (login): owners."
    )
    async def set_project_notifications(
        self, info: strawberry.Info, project_id: strawberry.ID, notify: bool,
        login: str | None = None,
    ) -> ProjectMember:  # fmt: skip
        ctx = info.context
        member = await ctx.container.members.subscribe(
            ctx.principal, parse_id(project_id, "projectId"), notify, login
        )
        return ProjectMember.from_domain(member, ctx.principal)

    @strawberry.mutation(description="Remove a member from a project (owners).")
    async def remove_project_member(
        self, info: strawberry.Info, project_id: strawberry.ID, login: str
    ) -> bool:
        ctx = info.context
        await ctx.container.members.remove(
            ctx.principal, parse_id(project_id, "projectId"), login
        )
        return True

from __future__ import annotations

from datetime import datetime

import strawberry

from regovar import models
from regovar.domain.members import Member
from regovar.domain.principal import Principal
from regovar.domain.users import SignedIn
from regovar.graphql.scalars import JSON


@strawberry.type(
    description="A user. Email, admin and active flags and creation date are shown to "
    "administrators and to the user; other members of a project see login and names."
)
class User:
    id: strawberry.ID
    login: str
    first_name: str
    last_name: str
    email: str | None
    is_admin: bool | None
    is_active: bool | None
    created_at: datetime | None

    @classmethod
    def from_model(cls, u: models.User, viewer: Principal | None = None) -> User:
        """``viewer``: who asks, when it may be someone else than an administrator or ``u``."""
        full = viewer is None or viewer.is_admin or viewer.user_id == u.id
        return cls(
            id=strawberry.ID(str(u.id)),
            login=u.login,
            first_name=u.first_name,
            last_name=u.last_name,
            email=u.email if full else None,
            is_admin=u.is_admin if full else None,
            is_active=u.is_active if full else None,
            created_at=u.created_at if full else None,
        )


@strawberry.type(description="A sign-in session (its token is never shown again).")
class Session:
    id: strawberry.ID
    client: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool

    @classmethod
    def from_model(cls, s: models.UserSession, current_id: int | None) -> Session:
        return cls(
            id=strawberry.ID(str(s.id)),
            client=s.client,
            created_at=s.created_at,
            last_seen_at=s.last_seen_at,
            expires_at=s.expires_at,
            current=s.id == current_id,
        )


@strawberry.type
class SignInResult:
    token: str = strawberry.field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: datetime
    user: User

    @classmethod
    def from_domain(cls, signed: SignedIn) -> SignInResult:
        return cls(
            token=signed.token,
            expires_at=signed.session.expires_at,
            user=User.from_model(signed.user),
        )


@strawberry.type
class ProjectMember:
    user: User
    role: str
    since: datetime
    notify: bool = strawberry.field(description="emailed when a run of the project is imported")

    @classmethod
    def from_domain(cls, m: Member, viewer: Principal) -> ProjectMember:
        return cls(
            user=User.from_model(m.user, viewer), role=m.member.role, since=m.member.created_at,
            notify=m.member.notify,
        )


@strawberry.type
class AuditEvent:
    id: strawberry.ID
    at: datetime
    actor: str
    actor_id: strawberry.ID | None
    action: str
    object_type: str
    object_id: str | None
    project_id: strawberry.ID | None
    details: JSON  # type: ignore[valid-type]

    @classmethod
    def from_model(cls, e: models.AuditEvent) -> AuditEvent:
        return cls(
            id=strawberry.ID(str(e.id)),
            at=e.at,
            actor=e.actor,
            actor_id=strawberry.ID(str(e.actor_id)) if e.actor_id is not None else None,
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            project_id=strawberry.ID(str(e.project_id)) if e.project_id is not None else None,
            details=e.details,
        )


@strawberry.type
class AuditVerification:
    events: int
    intact: bool
    first_bad_id: strawberry.ID | None
    problem: str | None
    anchor: str | None = strawberry.field(
        description="EVENT_ID:HASH of the newest event: keep it off the server and pass it "
        "back in `anchors` to prove the trail was not rewritten since."
    )

"""SQLAlchemy entities. Relationships are lazy="raise": load what you need explicitly."""

from regovar.models.entities import (
    Analysis,
    AnalysisSample,
    AnnotationRelease,
    AuditEvent,
    Base,
    File,
    Import,
    Project,
    ProjectMember,
    Sample,
    SignInFailure,
    Subject,
    User,
    UserSession,
    Variant,
)
from regovar.models.tables import call_transcripts, calls

__all__ = [
    "Analysis",
    "AnalysisSample",
    "AnnotationRelease",
    "AuditEvent",
    "Base",
    "File",
    "Import",
    "Project",
    "ProjectMember",
    "Sample",
    "SignInFailure",
    "Subject",
    "User",
    "UserSession",
    "Variant",
    "call_transcripts",
    "calls",
]

"""SQLAlchemy entities. Relationships are lazy="raise": load what you need explicitly."""

from regovar.models.entities import (
    Analysis,
    AnalysisSample,
    AnnotationRelease,
    AuditEvent,
    Base,
    File,
    FilterVersion,
    Import,
    Project,
    ProjectMember,
    Sample,
    SavedFilter,
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
    "FilterVersion",
    "Import",
    "Project",
    "ProjectMember",
    "Sample",
    "SavedFilter",
    "SignInFailure",
    "Subject",
    "User",
    "UserSession",
    "Variant",
    "call_transcripts",
    "calls",
]

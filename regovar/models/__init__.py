"""SQLAlchemy entities. Relationships are lazy="raise": load what you need explicitly."""

from regovar.models.entities import (
    AnnotationRelease,
    Base,
    File,
    Import,
    Project,
    Sample,
    Subject,
    Variant,
)
from regovar.models.tables import calls, variant_annotations

__all__ = [
    "AnnotationRelease",
    "Base",
    "File",
    "Import",
    "Project",
    "Sample",
    "Subject",
    "Variant",
    "calls",
    "variant_annotations",
]

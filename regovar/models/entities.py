"""Entities handled one at a time through the ORM (the variant store is in tables.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # Server defaults (ids, timestamps) come back with the INSERT (RETURNING), so an entity is
    # complete when its unit of work ends: nothing is lazily loaded afterwards.
    __mapper_args__ = {"eager_defaults": True}


def _now() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    last_used_at: Mapped[datetime] = _now()  # read or changed by a person (hourly precision)
    protected: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Subject(Base):
    """A person. Sex and affected status use PED codes (0 unknown; 1 male/unaffected; 2 ...)."""

    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("project_id", "identifier"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    identifier: Mapped[str] = mapped_column(Text)
    family: Mapped[str | None] = mapped_column(Text)
    father_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id", ondelete="SET NULL"))
    mother_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id", ondelete="SET NULL"))
    sex: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    affected: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    hpo_terms: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    created_at: Mapped[datetime] = _now()


class File(Base):
    __tablename__ = "files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))  # vcf, ped
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(20), default="registered")
    created_at: Mapped[datetime] = _now()


class AnnotationRelease(Base):
    """Annotations are stored once per (variant, release): a release is annotator + version."""

    __tablename__ = "annotation_releases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    created_at: Mapped[datetime] = _now()


class Import(Base):
    """The job row of one VCF import: GraphQL and the CLI read its state and progress."""

    __tablename__ = "imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"))
    ped_file_id: Mapped[int | None] = mapped_column(ForeignKey("files.id", ondelete="SET NULL"))
    assembly: Mapped[str | None] = mapped_column(String(10))
    requested_assembly: Mapped[str | None] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    records: Mapped[int] = mapped_column(BigInteger, default=0)
    variants: Mapped[int] = mapped_column(BigInteger, default=0)
    new_variants: Mapped[int] = mapped_column(BigInteger, default=0)
    samples: Mapped[int] = mapped_column(Integer, default=0)
    genotypes: Mapped[int] = mapped_column(BigInteger, default=0)
    annotation_release_id: Mapped[int | None] = mapped_column(
        ForeignKey("annotation_releases.id", ondelete="SET NULL")
    )
    header: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = _now()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Sample(Base):
    """One VCF column. ``column`` is its 0-based index in the per-sample arrays of calls."""

    __tablename__ = "samples"
    __table_args__ = (UniqueConstraint("import_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    subject_id: Mapped[int | None] = mapped_column(
        ForeignKey("subjects.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    column: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = _now()


class Variant(Base):
    """A normalised allele; ``vkey`` = md5(assembly:chrom:pos:ref:alt[:end]) names it everywhere."""

    __tablename__ = "variants"
    vkey: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    assembly: Mapped[int] = mapped_column(SmallInteger)  # 37 or 38
    chrom: Mapped[str] = mapped_column(Text)
    chrom_rank: Mapped[int] = mapped_column(SmallInteger)
    pos: Mapped[int] = mapped_column(Integer)
    end_pos: Mapped[int] = mapped_column(Integer)
    ref: Mapped[str] = mapped_column(Text)
    alt: Mapped[str] = mapped_column(Text)
    carriers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class User(Base):
    """A person who signs in. ``password_hash`` is an argon2 hash; NULL for directory users."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(Text, default="", server_default="")
    first_name: Mapped[str] = mapped_column(Text, default="", server_default="")
    last_name: Mapped[str] = mapped_column(Text, default="", server_default="")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    password_hash: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(10), default="local", server_default="local")
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class UserSession(Base):
    """A sign-in. Only the SHA-256 of the token is stored: a database dump opens no session."""

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    client: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = _now()
    last_seen_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProjectMember(Base):
    __tablename__ = "project_members"
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(10))  # owner, editor, viewer
    # Emailed when a run of the project is imported (or fails)
    notify: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_at: Mapped[datetime] = _now()


class SignInFailure(Base):
    __tablename__ = "sign_in_failures"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    login: Mapped[str] = mapped_column(Text)
    client: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = _now()


class AuditEvent(Base):
    """One link of the hash chain: ``hash`` = SHA-256 of ``prev_hash`` and the event's content."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(Text)
    project_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary)
    hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)


class Analysis(Base):
    """A named set of a project's samples with their family roles, filtered together."""

    __tablename__ = "analyses"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_analyses_project_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class AnalysisSample(Base):
    """A sample in an analysis: its role, and the sex and affected status used by the
    inheritance modes (PED codes, prefilled from the subject, editable per analysis)."""

    __tablename__ = "analysis_samples"
    analysis_id: Mapped[int] = mapped_column(
        ForeignKey("analyses.id", ondelete="CASCADE"), primary_key=True
    )
    sample_id: Mapped[int] = mapped_column(
        ForeignKey("samples.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(SmallInteger)
    role: Mapped[str] = mapped_column(String(10))  # proband, mother, father, sibling, other
    sex: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    affected: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")


class SavedFilter(Base):
    """A named filter of an analysis, or (``analysis_id`` None) a preset of its project."""

    __tablename__ = "saved_filters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    analysis_id: Mapped[int | None] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _now()


class FilterVersion(Base):
    """One version of a saved filter, never changed; ``variant_count``: what it kept in its
    analysis when saved (None for presets)."""

    __tablename__ = "filter_versions"
    filter_id: Mapped[int] = mapped_column(
        ForeignKey("saved_filters.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)
    variant_count: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _now()


class VariantNote(Base):
    """One interpretation event on a variant, never changed: a selection or unselection, a tag
    set or removed, a comment, or a classification (with its criteria). ``analysis_id`` is
    where it was made; classifications are read by variant key in every analysis."""

    __tablename__ = "variant_notes"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    analysis_id: Mapped[int | None] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"))
    vkey: Mapped[bytes] = mapped_column(LargeBinary)
    variant: Mapped[str] = mapped_column(Text)  # chrom:pos ref>alt, for reading the history
    kind: Mapped[str] = mapped_column(String(12))
    value: Mapped[str] = mapped_column(Text, default="", server_default="")
    criteria: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = _now()


class Job(Base):
    """One run of a batch (monitor, mail, ...): fired by the scheduler for one tick of its
    schedule (``scheduled_for``, unique per kind) or asked for by hand."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    trigger: Mapped[str] = mapped_column(String(10))  # schedule, manual
    scheduled_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    requested_by: Mapped[str] = mapped_column(Text, default="", server_default="")
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    state: Mapped[str] = mapped_column(String(10), default="queued", server_default="queued")
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    report: Mapped[str] = mapped_column(Text, default="", server_default="")
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = _now()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutgoingMail(Base):
    """A message waiting in the outbox or sent. ``dedupe_key`` names what it is about (one
    alert, one import's data-ready notice): the same key is never queued twice."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    recipients: Mapped[list[str]] = mapped_column(ARRAY(Text))
    subject: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = _now()
    last_error: Mapped[str | None] = mapped_column(Text)
    refused: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    created_at: Mapped[datetime] = _now()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AlertState(Base):
    """The last state of one health check that the watch batch saw (ok or critical), and
    since when: an alert goes out only when it changes."""

    __tablename__ = "alert_states"
    check_name: Mapped[str] = mapped_column(Text, primary_key=True)
    state: Mapped[str] = mapped_column(String(10))
    value: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text, default="", server_default="")
    since: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class InboxRun(Base):
    """A run folder found in a drop folder. ``settling`` while its files may still change
    (``snapshot``: their sizes and times at ``seen_at``); then ``importing``, ``done`` or
    ``failed`` (left in place, with the reason), or ``duplicate`` (the same run id and files
    as a run already taken). ``run_key`` (run id and the files' SHA-256) makes each run
    imported once."""

    __tablename__ = "inbox_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inbox: Mapped[str] = mapped_column(Text)
    folder: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str] = mapped_column(Text)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    state: Mapped[str] = mapped_column(String(10), default="settling", server_default="settling")
    run_key: Mapped[str | None] = mapped_column(Text, unique=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default="[]")
    import_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list,
                                                  server_default="{}")  # fmt: skip
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    seen_at: Mapped[datetime] = _now()
    created_at: Mapped[datetime] = _now()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Archive(Base):
    """A project's data written to an archive bundle and removed from the database (until
    restored)."""

    __tablename__ = "archives"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    project_name: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="archived", server_default="archived")
    bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    freed_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = _now()
    restored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

"""One error hierarchy with stable codes, shared by GraphQL, the CLI and the batches."""

from __future__ import annotations

from typing import Any


class RegovarError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str, **data: Any) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


class NotFound(RegovarError):
    code = "NOT_FOUND"


class PermissionDenied(RegovarError):
    code = "PERMISSION_DENIED"


class InvalidInput(RegovarError):
    code = "INVALID_INPUT"


class Conflict(RegovarError):
    code = "CONFLICT"


class VcfMalformedError(RegovarError):
    """The file cannot be imported; data names the file and line."""

    code = "VCF_MALFORMED"


class VcfNoSamples(RegovarError):
    """A valid sites-only VCF: nothing to import for a case (no genotypes)."""

    code = "VCF_NO_SAMPLES"


class PedMalformedError(RegovarError):
    code = "PED_MALFORMED"


class QueryTooLong(RegovarError):
    code = "QUERY_TIMEOUT"


class ImportFailed(RegovarError):
    """An unexpected failure during an import; the job row keeps the message."""

    code = "IMPORT_FAILED"


class ImportBusy(RegovarError):
    """Another worker holds this import; the message will be redelivered."""

    code = "IMPORT_BUSY"


class Unauthenticated(RegovarError):
    """No valid session: sign in (again)."""

    code = "UNAUTHENTICATED"


class TooManyAttempts(RegovarError):
    """Sign-in refused for a while after repeated failures (per account and per address)."""

    code = "TOO_MANY_ATTEMPTS"


class DirectoryUnavailable(RegovarError):
    """The configured directory (LDAP) did not answer: sign-in is not possible right now."""

    code = "DIRECTORY_UNAVAILABLE"


class JobBusy(RegovarError):
    """Another worker is running this batch job; the message will be redelivered."""

    code = "JOB_BUSY"


class MailUnavailable(RegovarError):
    """No SMTP server is configured, or it refused or did not answer."""

    code = "MAIL_UNAVAILABLE"


class RunRejected(RegovarError):
    """A run folder of a drop folder cannot be imported as it is (its manifest, its files or
    its project); it is left in place with this reason."""

    code = "RUN_REJECTED"


class ProjectArchived(RegovarError):
    """The project's data is in an archive bundle: restore it first."""

    code = "PROJECT_ARCHIVED"


class ArchiveInvalid(RegovarError):
    """An archive bundle is missing, changed or unreadable: nothing was changed."""

    code = "ARCHIVE_INVALID"


class BatchIncomplete(RegovarError):
    """A batch ran, but some of its items failed (its report says which and why)."""

    code = "BATCH_INCOMPLETE"


class ProjectBusy(RegovarError):
    """The project is being changed (an import is loading): try again later."""

    code = "PROJECT_BUSY"

"""Typed settings, read once from REGOVAR_* environment variables and an optional TOML file."""

from __future__ import annotations

import logging
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ASSEMBLIES = ("GRCh37", "GRCh38")
SMTP_SECURITY = ("none", "starttls", "tls")


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "regovar"


@dataclass(frozen=True)
class Inbox:
    """A drop folder of sequencer runs, and the project its runs go to (None: the project
    named by each run's manifest)."""

    path: Path
    project: str | None = None


@dataclass(frozen=True)
class Settings:
    """Everything configurable. ``database_url=None`` means: run a private PostgreSQL."""

    data_dir: Path = field(default_factory=_default_data_dir)
    database_url: str | None = None
    broker_url: str | None = None  # None: the PostgreSQL queue; redis://, amqp://, stub://
    import_dirs: tuple[Path, ...] = ()
    default_assembly: str = "GRCh37"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    max_page_size: int = 1000
    max_request_kb: int = 1024  # largest request body the web server reads
    import_batch_rows: int = 2000
    import_processes: int = 0  # VCF parser processes per import; 0 = cores + 1 (up to 8)
    import_parallel_min_mb: int = 1  # smaller files are parsed without extra processes
    import_columnar_rows: int = 4000  # records per chunk of the columnar parser; 0 = off
    import_chunk_kb: int = 2048  # VCF text per chunk at most: bounds the parsers' memory
    ldap_url: str | None = None  # directory sign-in, e.g. ldaps://ldap.hospital.example
    ldap_user_dn: str | None = None  # DN template: uid={login},ou=people,dc=hospital,dc=example
    ldap_base_dn: str | None = None  # or search under this base...
    ldap_user_filter: str = "(uid={login})"  # ...with this filter
    ldap_bind_dn: str | None = None  # service account for the search (none: anonymous)
    ldap_bind_password: str | None = None
    cors_origins: tuple[str, ...] = ()  # other web origins allowed to call the API from a browser
    trusted_proxies: tuple[str, ...] = ()  # proxies whose X-Forwarded-For is believed
    session_hours: int = 12  # a sign-in session expires after this
    sign_in_max_failures: int = 5  # failed sign-ins per account before a pause
    sign_in_window_minutes: int = 15  # the pause, and the window failures are counted in
    worker_heartbeat_ttl: int = 60  # s without heartbeat before a worker's messages are requeued
    # Health thresholds (regovar status, GraphQL serverStatus): crossing one is critical
    monitor_disk_min_free_percent: int = 10  # data, archive and database folders
    monitor_memory_min_free_percent: int = 10
    monitor_load_max_percent: int = 200  # load average per core, in percent
    monitor_queue_max_age_minutes: int = 30  # oldest message waiting in the queue
    monitor_failed_jobs_max: int = 0  # failed imports and batch runs in the last 24 hours
    monitor_mail_max_age_minutes: int = 60  # oldest email still waiting in the outbox
    # Batch schedules, in cron syntax (minute hour day-of-month month day-of-week, server's
    # local time zone); an empty one switches the batch off (it still runs by hand)
    schedule_monitor: str = "*/5 * * * *"  # health checks; alert emails on changes
    schedule_mail: str = "* * * * *"  # sends the outbox (retries with backoff)
    schedule_inbox: str = "*/2 * * * *"  # imports the complete runs of the drop folders
    # Drop folders: each sub-folder is a run, taken once complete: a marker file is there and
    # its files did not change for inbox_settle_seconds
    inboxes: tuple[Inbox, ...] = ()  # REGOVAR_INBOXES=/srv/runs/exomes=exomes:/srv/runs/all
    inbox_markers: tuple[str, ...] = ("regovar-run.json", "CopyComplete.txt")
    inbox_settle_seconds: int = 60
    notify_emails: tuple[str, ...] = ()  # told of every run, besides subscribed members
    # Archiving: projects nobody read or changed for archive_after_days go to bundles in
    # archive_dir (default: the archive folder of the data directory), then leave the database
    schedule_archive: str = "0 3 * * 6"  # Saturdays at 03:00
    archive_dir: Path | None = None
    archive_after_days: int = 180
    # Email (alerts, data-ready notices): no smtp_host keeps messages in the outbox
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_security: str = "none"  # none, starttls or tls (SMTP over TLS, port 465)
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_timeout_s: int = 30
    smtp_ca_file: Path | None = None  # the hospital's CA, to verify the server's certificate
    mail_from: str = "regovar@localhost"
    alert_emails: tuple[str, ...] = ()  # besides the administrators who have an email address
    public_url: str = ""  # how users reach this server, for links in emails
    log_level: str = "INFO"

    @property
    def effective_archive_dir(self) -> Path:
        return self.archive_dir or self.data_dir / "archive"

    @property
    def effective_import_dirs(self) -> tuple[Path, ...]:
        """Server-side imports are confined to these folders (the drop folder by default),
        and the inboxes."""
        folders = self.import_dirs or (self.data_dir / "incoming",)
        return folders + tuple(i.path for i in self.inboxes if i.path not in folders)

    def __repr__(self) -> str:  # never print credentials
        url = _redact(self.database_url)
        broker = _redact(self.broker_url)
        return f"Settings(data_dir={self.data_dir!s}, database_url={url}, broker={broker})"


def _redact(url: str | None) -> str | None:
    if not url or "@" not in url or "//" not in url:
        return url
    scheme, rest = url.split("//", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}//{user}:***@{host}"


class SettingsError(ValueError):
    pass


_INTEGERS = (
    "http_port", "max_page_size", "max_request_kb", "import_batch_rows", "import_processes",
    "import_parallel_min_mb", "import_columnar_rows", "import_chunk_kb", "worker_heartbeat_ttl",
    "session_hours", "sign_in_max_failures",
    "sign_in_window_minutes", "monitor_disk_min_free_percent", "monitor_memory_min_free_percent",
    "monitor_load_max_percent", "monitor_queue_max_age_minutes", "monitor_failed_jobs_max",
    "monitor_mail_max_age_minutes", "smtp_port", "smtp_timeout_s", "inbox_settle_seconds",
    "archive_after_days",
)  # fmt: skip


_RANGES = {
    "http_port": (1, 65535), "smtp_port": (1, 65535), "smtp_timeout_s": (1, 3600),
    "max_page_size": (1, 10**6), "import_batch_rows": (1, 10**7),
    "import_columnar_rows": (0, 10**7), "import_chunk_kb": (16, 10**6),
    "session_hours": (1, 24 * 366),
    "worker_heartbeat_ttl": (1, 86400), "monitor_disk_min_free_percent": (0, 101),
    "monitor_memory_min_free_percent": (0, 101),
}  # fmt: skip
# A plain address, in ASCII (mail servers without SMTPUTF8 refuse others): local@domain.
EMAIL_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*")


def _address(name: str, address: str) -> str:
    if len(address) > 254 or not EMAIL_ADDRESS.fullmatch(address):
        raise SettingsError(f"REGOVAR_{name.upper()}: {address[:80]!r} is not an email address "
                            "(local@domain, in ASCII)")  # fmt: skip
    return address


def _coerce(name: str, raw: Any) -> Any:
    if name == "data_dir":
        return Path(str(raw)).expanduser()
    if name in ("archive_dir", "smtp_ca_file"):
        return Path(str(raw)).expanduser().absolute() if str(raw) else None
    if name == "import_dirs":
        items = raw if isinstance(raw, list) else str(raw).split(os.pathsep)
        return tuple(Path(str(p)).expanduser() for p in items if str(p))
    if name == "inboxes":
        return tuple(_inbox(item) for item in (
            raw if isinstance(raw, list) else str(raw).split(os.pathsep)) if item)  # fmt: skip
    if name == "inbox_markers":
        items = raw if isinstance(raw, list) else str(raw).split(",")
        markers = tuple(str(m).strip() for m in items if str(m).strip())
        if not markers or any("/" in m for m in markers):
            raise SettingsError("REGOVAR_INBOX_MARKERS: file names, separated by commas")
        return markers
    if name in ("alert_emails", "notify_emails"):
        items = raw if isinstance(raw, list) else str(raw).split(",")
        found = tuple(str(o).strip() for o in items if str(o).strip())
        for address in found:
            _address(name, address)
        return found
    if name == "mail_from":
        return _address(name, str(raw).strip())
    if name == "smtp_host" and raw and not re.fullmatch(r"[A-Za-z0-9.:\[\]_-]{1,253}", str(raw)):
        raise SettingsError(f"REGOVAR_SMTP_HOST: {str(raw)[:80]!r} is not a host name or address")
    if name in ("cors_origins", "trusted_proxies"):
        items = raw if isinstance(raw, list) else str(raw).split(",")
        return tuple(str(o).strip().rstrip("/") for o in items if str(o).strip())
    if name in _INTEGERS:
        text = str(raw).strip()
        if isinstance(raw, bool) or not re.fullmatch(r"-?[0-9]{1,12}", text):
            raise SettingsError(f"REGOVAR_{name.upper()} must be an integer, got {raw!r}")
        value = int(text)
        low, high = _RANGES.get(name, (0, 10**12))
        if not low <= value <= high:
            raise SettingsError(f"REGOVAR_{name.upper()} must be between {low} and {high}, "
                                f"got {value}")  # fmt: skip
        return value
    if name == "smtp_security" and raw not in SMTP_SECURITY:
        raise SettingsError(f"REGOVAR_SMTP_SECURITY must be one of {SMTP_SECURITY}, got {raw!r}")
    if name.startswith("schedule_"):
        from regovar.cron import CronError, parse_cron

        if not str(raw).strip():
            return ""  # by hand only
        try:
            parse_cron(str(raw))
        except CronError as exc:
            raise SettingsError(f"REGOVAR_{name.upper()}: {exc}") from exc
        return str(raw).strip()
    if name == "default_assembly" and raw not in ASSEMBLIES:
        raise SettingsError(f"REGOVAR_DEFAULT_ASSEMBLY must be one of {ASSEMBLIES}, got {raw!r}")
    optional = ("database_url", "broker_url", "ldap_url", "ldap_user_dn", "ldap_base_dn",
                "ldap_bind_dn", "ldap_bind_password", "smtp_host", "smtp_user",
                "smtp_password")  # fmt: skip
    return raw or None if name in optional else raw


def _inbox(item: Any) -> Inbox:
    """``/path`` or ``/path=project``; in the TOML file also {path = ..., project = ...}."""
    if isinstance(item, dict):
        path, project = item.get("path"), item.get("project")
    else:
        path, _, project = str(item).partition("=")
    if not path or not Path(str(path)).expanduser().is_absolute():
        raise SettingsError(f"REGOVAR_INBOXES: {item!r} is not an absolute folder path")
    if project and any(c in str(project) for c in ",;/="):
        raise SettingsError(f"REGOVAR_INBOXES: {item!r}: a project name has no ',', ';', '/' "
                            f"or '='; separate drop folders with {os.pathsep!r}")  # fmt: skip
    return Inbox(Path(str(path)).expanduser(), str(project).strip() or None if project else None)


# Read elsewhere, not settings: the config file, the CLI's --as, the benchmarks' folder, the
# shared PostgreSQL folder (and the tests' REGOVAR_TEST_* servers).
_OTHER_VARIABLES = {"REGOVAR_CONFIG", "REGOVAR_AS", "REGOVAR_BENCH_DIR", "REGOVAR_PG_SHARED_DIR"}


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults, then the TOML file named by REGOVAR_CONFIG, then REGOVAR_* variables."""
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {}
    config_file = env.get("REGOVAR_CONFIG")
    if config_file:
        try:
            with open(config_file, "rb") as fh:
                values.update(tomllib.load(fh).get("regovar", {}))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"cannot read REGOVAR_CONFIG {config_file}: {exc}") from exc
    known = {f.name for f in fields(Settings)}
    unknown = set(values) - known
    if unknown:
        raise SettingsError(f"unknown settings in {config_file}: {', '.join(sorted(unknown))}")
    for name in known:
        if f"REGOVAR_{name.upper()}" in env:
            values[name] = env[f"REGOVAR_{name.upper()}"]
    typos = sorted(k for k in env if k.startswith("REGOVAR_") and k not in _OTHER_VARIABLES
                   and not k.startswith("REGOVAR_TEST_")
                   and k[len("REGOVAR_"):].lower() not in known)  # fmt: skip
    if typos:
        logging.getLogger("regovar.config").warning(
            "unknown settings ignored (a typo?): %s", ", ".join(typos))
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = Settings(**{k: _coerce(k, v) for k, v in values.items()})
    return replace(settings)

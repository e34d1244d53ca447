"""Run folders in a drop folder, as the file system shows them: their files with sizes and
modification times (to see whether a copy is still going on), markers and manifest, and the
SHA-256 of a file."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST = "regovar-run.json"
MAX_MANIFEST_BYTES = 1 << 20
MAX_FILES = 500_000


def shown(text: object) -> str:
    """A name as it can be stored and printed: bytes that are not UTF-8 become U+FFFD and
    control characters (a line break in a folder name) become '?'."""
    raw = os.fsencode(str(text)).decode("utf-8", "replace")
    return "".join("?" if ord(c) < 32 or ord(c) == 127 else c for c in raw)


def _readable_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8 (surrogate escapes)
        return False
    return True


@dataclass(frozen=True)
class RunFolder:
    path: Path
    marker: str | None  # the first completion marker found in it
    files: dict[str, tuple[int, int]]  # relative path: (size, mtime in ns), hidden ones too
    problem: str | None = None  # why its files could not be listed

    @property
    def name(self) -> str:
        """The folder's name as stored and shown (see :func:`shown`)."""
        return shown(self.path.name)

    @property
    def where(self) -> str:
        return shown(self.path)

    @property
    def snapshot(self) -> dict[str, list[int]]:
        return {name: [size, mtime] for name, (size, mtime) in sorted(self.files.items())}


class ManifestError(ValueError):
    pass


def run_folders(inbox: Path, markers: tuple[str, ...]) -> list[RunFolder]:
    """Each visible sub-folder of ``inbox`` is a run (sorted by name); an inbox that does not
    exist (an unmounted share) has none."""
    try:
        entries = sorted(os.scandir(inbox), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
            continue
        path = Path(entry.path)
        marker = next((m for m in markers if (path / m).is_file()), None)
        if marker is None:
            found.append(RunFolder(path, None, {}))
            continue
        if not _readable_name(entry.name) or not entry.name.isprintable():
            problem = "the folder's name is not printable UTF-8 text: rename it"
            found.append(RunFolder(path, marker, {}, problem))
            continue
        try:
            found.append(RunFolder(path, marker, _files(path)))
        except OSError as exc:
            problem = shown(f"{exc.strerror or exc}: {exc.filename or path}")
            found.append(RunFolder(path, marker, {}, problem))
    return found


class TooManyFiles(OSError):
    pass


def _raise(error: OSError) -> None:
    raise error


def loose_files(inbox: Path) -> list[str]:
    """Files in the drop folder itself, outside any run folder (sorted names)."""
    try:
        return sorted(shown(e.name) for e in os.scandir(inbox) if e.is_file())
    except OSError:
        return []


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under the folder; an unreadable sub-folder raises (a run is read whole)."""
    files: dict[str, tuple[int, int]] = {}
    for root, dirs, names in os.walk(folder, onerror=_raise):
        dirs.sort()
        for name in sorted(names):
            full = Path(root) / name
            try:
                st = full.stat()
            except FileNotFoundError:  # renamed away while we looked: the copy goes on
                files[str(full.relative_to(folder))] = (-1, -1)
                continue
            relative = str(full.relative_to(folder))
            if not _readable_name(relative):
                raise OSError(0, "a file name is not UTF-8 text (rename it)", shown(relative))
            files[relative] = (st.st_size, st.st_mtime_ns)
            if len(files) > MAX_FILES:
                raise TooManyFiles(0, f"more than {MAX_FILES:,} files", str(folder))
    return files


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest's JSON object; ManifestError says what is wrong with it."""
    try:
        raw = path.read_bytes()[: MAX_MANIFEST_BYTES + 1]
    except OSError as exc:
        raise ManifestError(f"cannot read {path.name}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"{path.name} is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{path.name} is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{path.name}, line {exc.lineno}: {exc.msg}") from exc
    if not isinstance(document, dict):
        raise ManifestError(f"{path.name} must hold a JSON object")
    return document


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()

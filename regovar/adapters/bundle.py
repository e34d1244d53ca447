"""Archive bundles on disk: a folder holding gzip-compressed CSV tables (with a header row of
column names), the original source files, and ``manifest.json`` that describes them all with
their sizes and SHA-256.

A bundle is written in a hidden ``.partial-*`` folder and renamed when complete, so a bundle
folder that exists is whole. Reading it back checks every checksum and counts every table's
rows.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from regovar.adapters.runs import sha256_of

FORMAT = "regovar-archive/1"
MANIFEST = "manifest.json"


class BundleError(ValueError):
    pass


@dataclass(frozen=True)
class Written:
    path: Path
    manifest_sha256: str
    bytes: int


class BundleWriter:
    def __init__(self, parent: Path, name: str) -> None:
        parent.mkdir(parents=True, exist_ok=True)
        self.final = parent / name
        if self.final.exists():
            raise BundleError(f"archive bundle {self.final} exists already")
        self.folder = parent / f".partial-{name}"
        if self.folder.exists():
            shutil.rmtree(self.folder)  # an earlier attempt that crashed
        (self.folder / "tables").mkdir(parents=True)
        (self.folder / "sources").mkdir()
        self.tables: dict[str, dict[str, Any]] = {}
        self.sources: list[dict[str, Any]] = []

    def table(self, name: str) -> gzip.GzipFile:
        """A gzip file for one table's CSV (PostgreSQL COPY ... CSV HEADER writes into it)."""
        relative = f"tables/{name}.csv.gz"
        self.tables[name] = {"file": relative}
        return gzip.open(self.folder / relative, "wb", compresslevel=6)

    def source(self, original: Path, file_id: int) -> str:
        relative = f"sources/{file_id}-{original.name}"
        shutil.copyfile(original, self.folder / relative)
        self.sources.append({"file": relative, "file_id": file_id, "original": str(original)})
        return relative

    def finish(self, manifest: dict[str, Any], rows: dict[str, int]) -> Written:
        for name, count in rows.items():
            self.tables[name]["rows"] = count
        files: list[dict[str, Any]] = []
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
            files.append({"file": str(path.relative_to(self.folder)),
                          "bytes": path.stat().st_size, "sha256": sha256_of(path)})  # fmt: skip
        document = {"format": FORMAT, **manifest, "tables": self.tables,
                    "sources": self.sources, "files": files}  # fmt: skip
        text = json.dumps(document, indent=2, sort_keys=True, default=str).encode()
        (self.folder / MANIFEST).write_bytes(text)
        self.folder.rename(self.final)
        size = sum(f["bytes"] for f in files) + len(text)
        return Written(self.final, hashlib.sha256(text).hexdigest(), size)

    def abandon(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class BundleReader:
    def __init__(self, folder: Path, manifest_sha256: str | None = None) -> None:
        self.folder = folder
        try:
            raw = (folder / MANIFEST).read_bytes()
        except OSError as exc:
            raise BundleError(f"{folder}: no readable {MANIFEST}: {exc.strerror or exc}") from exc
        if manifest_sha256 and hashlib.sha256(raw).hexdigest() != manifest_sha256:
            raise BundleError(f"{folder / MANIFEST}: changed since the bundle was written")
        try:
            self.manifest: dict[str, Any] = json.loads(raw)
        except ValueError as exc:
            raise BundleError(f"{folder / MANIFEST}: not JSON: {exc}") from exc
        if self.manifest.get("format") != FORMAT:
            raise BundleError(f"{folder}: not a {FORMAT} bundle")

    def verify(self) -> None:
        """Every file is there with its size and checksum, every table has its rows."""
        for entry in self.manifest["files"]:
            path = self.folder / entry["file"]
            if not path.is_file():
                raise BundleError(f"{path}: missing from the bundle")
            if path.stat().st_size != entry["bytes"] or sha256_of(path) != entry["sha256"]:
                raise BundleError(f"{path}: checksum differs from the manifest")
        for name, table in self.manifest["tables"].items():
            found = sum(1 for _ in self.rows(name))
            if found != table["rows"]:
                raise BundleError(f"{self.folder / table['file']}: {found} rows, the manifest "
                                  f"says {table['rows']}")  # fmt: skip

    def columns(self, name: str) -> list[str]:
        with self.open(name) as fh:
            return next(csv.reader(io.TextIOWrapper(fh, encoding="utf-8", newline="")))

    def rows(self, name: str) -> Any:
        csv.field_size_limit(sys.maxsize)
        with self.open(name) as fh:
            reader = csv.reader(io.TextIOWrapper(fh, encoding="utf-8", newline=""))
            next(reader, None)
            yield from reader

    def open(self, name: str) -> gzip.GzipFile:
        table = self.manifest["tables"].get(name)
        if table is None:
            raise BundleError(f"{self.folder}: no table {name} in the bundle")
        return gzip.open(self.folder / table["file"], "rb")

    def has(self, name: str) -> bool:
        return name in self.manifest["tables"]

    def source_path(self, relative: str) -> Path:
        return self.folder / relative

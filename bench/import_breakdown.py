"""Where an import's time goes, measured against the bare COPY baseline of import_bench.py.

    python bench/import_breakdown.py [--database-url URL] [FILE]

Each part runs in its own process, on a fresh database, in the same run:

- ``parse``: the parsers' CPU for the whole file on one core (``ChunkWork`` on chunks of the
  import's size, as a parser process runs it), without the database;
- ``store``: the database's part alone: the same COPY payloads, computed beforehand, sent through
  the real ``VariantStore`` (COPY into the import's new tables, then its finish: key index,
  duplicates, position index, statistics, catalogue insert, partitions attached) and committed;
  ``COPY`` and ``finish`` are its two phases;
- ``baseline``: import_bench's bare parse and binary COPY of the raw columns;
- ``import``: the real import, end to end (import_bench's).

``store / baseline`` is the ratio the import would have if parsing cost nothing: the floor that
the parser alone cannot go below, whatever its speed. With two cores, an import's streaming
phase takes at least (parse CPU + COPY) / 2; its finish runs on one core after it.
Default file: the exome-scale trio (about 109k real GIAB records, ../shared/tools/make-trio.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import database, drop, exome_trio
from bench.import_bench import baseline, regovar


def _payloads(path: Path) -> tuple[list[tuple[bytes, bytes]], float, int, str]:
    """The file's COPY payloads as the import makes them; parse CPU seconds; records; assembly."""
    from regovar.adapters.vcf import open_vcf
    from regovar.domain.import_parse import MIN_COLUMNAR_ROWS, ChunkWork, ImportTuning
    from regovar.repositories.variant_store import ASSEMBLY_CODES, BatchEncoder

    reader = open_vcf(str(path), default_assembly="GRCh37")
    with reader:
        filters = "FT" in reader.header.formats
        plan = reader.columnar_plan(filters)
        tuning = ImportTuning()
        size, columnar = tuning.chunking(len(reader.header.samples), plan is not None)
        encoder = BatchEncoder(1, ASSEMBLY_CODES[reader.assembly], filters)
        work = ChunkWork(reader.chunk_parser(), encoder, plan if columnar else None,
                         min_columnar=MIN_COLUMNAR_ROWS)  # as the import builds it
        chunks = list(reader.record_chunks(size, max_bytes=tuning.chunk_bytes))
        work(chunks[0][:2])  # loads polars: a parser process does it once, before its chunks
        start = time.process_time()
        results = [work(chunk) for chunk in chunks]
        cpu = time.process_time() - start
        batches = [(r.batch.calls, r.batch.transcripts) for r in results]
        return batches, cpu, sum(r.records for r in results), reader.assembly


async def parse(path: Path, url: str) -> dict[str, float]:
    _, cpu, records, _ = _payloads(path)
    return {"seconds": cpu, "records": records}


async def store(path: Path, url: str) -> dict[str, float]:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from regovar.db import make_engine
    from regovar.repositories.uow import UnitOfWork
    from regovar.repositories.variant_store import Batch

    batches, _, records, assembly = _payloads(path)
    engine = make_engine(url)
    sessions = async_sessionmaker(engine, expire_on_commit=False, class_=AsyncSession)
    start = time.perf_counter()
    async with UnitOfWork(sessions) as uow:
        await uow.variant_store.begin(1, assembly)
        for calls, transcripts in batches:
            await uow.variant_store.send(Batch(calls, transcripts))
        copied = time.perf_counter()
        await uow.variant_store.finish()
        await uow.commit()
    end = time.perf_counter()
    await engine.dispose()
    return {"seconds": end - start, "copy": copied - start, "finish": end - copied,
            "records": records}  # fmt: skip


KINDS = {"parse": parse, "store": store, "baseline": baseline, "import": regovar}


def measure(kind: str, path: Path, admin_url: str | None) -> dict[str, float]:
    url, server = database(admin_url)
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--one", kind, "--database-url", url, str(path)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        drop(url)
        if server is not None:
            server.stop()  # type: ignore[attr-defined]
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--database-url", help="server to use (default: a private PostgreSQL)")
    parser.add_argument("--one", choices=sorted(KINDS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = args.file or exome_trio()
    if args.one:
        print(json.dumps(asyncio.run(KINDS[args.one](path, args.database_url))))
        return
    got = {kind: measure(kind, path, args.database_url) for kind in KINDS}
    base = got["baseline"]["seconds"]
    store_part = got["store"]
    print(f"{path.name}: {got['import']['records']:,} records; ratios to the bare COPY baseline")
    rows = [
        ("baseline (bare parse + binary COPY)", base),
        ("parse: the parsers' CPU, one core", got["parse"]["seconds"]),
        ("store: COPY + finish, payloads ready", store_part["seconds"]),
        ("  COPY into the import's tables", store_part["copy"]),
        ("  finish (indexes, catalogue, attach)", store_part["finish"]),
        ("import, end to end", got["import"]["seconds"]),
    ]
    for label, seconds in rows:
        print(f"  {label:40} {seconds:7.2f} s {seconds / base:6.2f}x")


if __name__ == "__main__":
    main()

"""Import benchmark: Regovar's import against a bare parse + binary COPY of the same file.

    python bench/import_bench.py [--database-url URL] [FILE ...]

Each measurement runs in its own process (for its peak RSS); "all MB" is the peak of the
importing process and its parser processes together, sampled every 0.2 s. The baseline splits
each line on tabs and COPYs the raw columns (no normalisation, no genotype decoding, no
annotations); the ratio is Regovar's wall time over the baseline's, measured in the same run on
the same server. "general s" is Regovar's time without its columnar parser (every record read
by the general parser), also measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SHARED, TreeRss, database, drop, exome_trio, wide_vep

BATCH = 20_000


def _open(path: Path):
    with path.open("rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rt") if magic == b"\x1f\x8b" else path.open("rt")


async def general(path: Path, url: str) -> dict[str, float]:
    """Regovar with the general parser only (no columnar parser), for comparison."""
    return await regovar(path, url, {"REGOVAR_IMPORT_COLUMNAR_ROWS": "0"})


async def baseline(path: Path, url: str) -> dict[str, float]:
    import asyncpg

    start = time.perf_counter()
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    await conn.execute(
        "CREATE TABLE bare (chrom text, pos integer, ref text, alt text, qual real, "
        "filter text, info text, format text, samples text[])"
    )
    records, batch = 0, []
    with _open(path) as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            qual = None if len(f) < 6 or f[5] == "." else float(f[5])
            batch.append(
                (f[0], int(f[1]), f[3], f[4], qual, f[6], f[7], f[8] if len(f) > 8 else None, f[9:])
            )
            records += 1
            if len(batch) == BATCH:
                await conn.copy_records_to_table("bare", records=batch)
                batch = []
    if batch:
        await conn.copy_records_to_table("bare", records=batch)
    await conn.close()
    return {"seconds": time.perf_counter() - start, "records": records}


async def regovar(path: Path, url: str, env: dict[str, str] | None = None) -> dict[str, float]:
    from regovar.bootstrap import build
    from regovar.config import load_settings
    from regovar.domain.imports import StartImport
    from regovar.domain.principal import SYSTEM
    from regovar.domain.projects import CreateProject

    # REGOVAR_IMPORT_* tuning from the environment applies (e.g. REGOVAR_IMPORT_PROCESSES=2).
    tuning = {k: v for k, v in os.environ.items() if k.startswith("REGOVAR_IMPORT_")}
    settings = load_settings(env=tuning | (env or {}), database_url=url)
    c = build(settings, url=url, with_broker=False)
    project = await c.projects.create(SYSTEM, CreateProject(f"bench-{time.time_ns()}"))
    start = time.perf_counter()
    started = await c.imports.start(SYSTEM, StartImport(project.id, str(path)), queue=False)
    job = await c.imports.run(SYSTEM, started.job.id)
    seconds = time.perf_counter() - start
    await c.aclose()
    return {
        "seconds": seconds,
        "records": job.records,
        "variants": job.variants,
        "genotypes": job.genotypes,
    }


def measure(kind: str, path: Path, url: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--one", kind, "--database-url", url, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--database-url", help="server to use (default: a private PostgreSQL)")
    parser.add_argument("--one", choices=("baseline", "regovar", "general"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        work = {"baseline": baseline, "regovar": regovar, "general": general}[args.one]
        with TreeRss() as tree:
            result = asyncio.run(work(args.files[0], args.database_url))
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # With the parser processes, sampled: the whole import's memory.
        result["tree_mb"] = tree.peak_total_mb
        print(json.dumps(result))
        return
    files = args.files or [
        exome_trio(),
        SHARED / "data" / "truvari__hg002_comp.vcf.gz",
        SHARED / "data" / "snpeff__genotypes.chr22.vcf.gz",
        wide_vep(),
    ]
    print(
        f"{'file':38} {'records':>9} {'regovar s':>9} {'rec/s':>8} {'geno/s':>10} "
        f"{'peak MB':>8} {'all MB':>7} {'COPY s':>7} {'ratio':>6} {'general s':>9}"
    )
    for path in files:
        url, server = database(args.database_url)
        try:
            base = measure("baseline", path, url)
            ours = measure("regovar", path, url)
            plain = measure("general", path, url)
        finally:
            drop(url)
        print(
            f"{path.name[:38]:38} {ours['records']:>9,} {ours['seconds']:>9.2f} "
            f"{ours['records'] / ours['seconds']:>8,.0f} "
            f"{ours['genotypes'] / ours['seconds']:>10,.0f} {ours['peak_mb']:>8.0f} "
            f"{ours['tree_mb']:>7.0f} "
            f"{base['seconds']:>7.2f} {ours['seconds'] / base['seconds']:>6.2f} "
            f"{plain['seconds']:>9.2f}",
            flush=True,
        )
        if server is not None:
            server.stop()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()

"""Parser processes give exactly what the in-process parser gives: rows, counts, warnings, errors.

The default settings only start parser processes for files of 8 MiB and more, which no small
fixture reaches; here a second container parses every file in two processes, in chunks of 100
records, so that one file's chunks are spread over both processes and come back out of order.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from regovar.bootstrap import build
from regovar.domain import variant_filter as vf
from regovar.domain.import_parse import ImportTuning
from regovar.domain.principal import SYSTEM
from tests.conftest import settings_for
from tests.helpers import DEMO_PED, DEMO_VCF, EDGE, import_file, samples_of


@pytest.fixture(scope="module")
async def parallel(database_url, import_dir):
    settings = settings_for(
        database_url,
        import_dir,
        import_processes="2",
        import_parallel_min_mb="0",
        import_batch_rows="100",
    )
    c = build(settings, url=database_url)
    yield c
    await c.aclose()


def _snapshot(items, names: dict[int, str]) -> list[tuple]:
    return [
        (r.chrom, r.pos, r.ref, r.alt, r.qual, r.filters, r.genes, r.consequences, r.info,
         sorted((names[k], sorted(v.items())) for k, v in r.samples.items()))
        for r in items
    ]  # fmt: skip


async def _all_rows(c, job) -> list[tuple]:
    """Every stored row of the import, sample ids replaced by sample names."""
    samples = await samples_of(c, job)
    names = {s.id: name for name, s in samples.items()}
    ids = tuple(sorted(names))
    found: list = []
    while True:
        page = await c.variants.query(
            SYSTEM, vf.VariantQuery(ids, None, offset=len(found), limit=1000)
        )
        found += page.items
        if len(found) >= page.total:
            return _snapshot(found, names)


def _values(job) -> tuple:
    return (job.state, job.records, job.variants, job.genotypes, job.samples)


@pytest.mark.parametrize(
    "path",
    [
        DEMO_VCF,
        EDGE / "01-star-spanning-deletion.vcf",
        EDGE / "25-duplicate-records.vcf",
        EDGE / "04-multiallelic-split-numberR.vcf",
        EDGE / "31-gvcf-nonref-blocks.vcf",
    ],
    ids=lambda p: p.name,
)
async def test_processes_store_what_one_thread_stores(container, parallel, path: Path):
    ped = DEMO_PED if path == DEMO_VCF else None
    one = await import_file(container, path, ped=ped)
    many = await import_file(parallel, path, ped=ped)
    assert one.state == "done", one.error_message
    assert _values(many) == _values(one)
    assert many.new_variants == 0  # the same variants, stored once
    assert many.warnings == one.warnings
    first, second = await _all_rows(container, one), await _all_rows(parallel, many)
    assert len(first) == one.variants
    assert second == first


async def test_error_in_a_parser_process_names_the_line(parallel, tmp_path):
    text = gzip.decompress(DEMO_VCF.read_bytes()).decode().splitlines(keepends=True)
    header = sum(1 for t in text if t.startswith("#"))
    bad_index = header + 750  # in the eighth chunk of 100 records
    fields = text[bad_index].split("\t")
    fields[1] = "12x4"
    text[bad_index] = "\t".join(fields)
    path = tmp_path / "bad-pos.vcf"
    path.write_text("".join(text))
    job = await import_file(parallel, path)
    assert (job.state, job.error_code) == ("failed", "VCF_MALFORMED")
    assert f"line {bad_index + 1}" in job.error_message and "bad-pos.vcf" in job.error_message
    assert job.variants == 0 and job.genotypes == 0


def test_small_files_stay_in_process():
    tuning = ImportTuning(processes=4, parallel_min_bytes=8 << 20)
    assert tuning.parser_processes(1 << 20) == 1
    assert tuning.parser_processes(64 << 20) == 4


def test_columnar_parsers_are_one_per_core():
    cores = os.cpu_count() or 1
    tuning = ImportTuning(parallel_min_bytes=1)
    assert tuning.parser_processes(64 << 20) == min(cores + 1, 8)
    assert tuning.parser_processes(64 << 20, columnar=True) == min(cores, 8)


def test_wide_files_are_read_by_the_general_parser():
    tuning = ImportTuning()  # 4,000 records per columnar chunk, 2,000 otherwise
    assert tuning.chunking(3, True) == (4000, True)
    assert tuning.chunking(3, False) == (2000, False)  # a BCF: no columnar parser
    assert tuning.chunking(100, True) == (1000, True)  # 100,000 cells a chunk
    assert tuning.chunking(483, True) == (207, False)  # too few records for columns
    assert tuning.chunking(5000, True) == (100, False)
    assert ImportTuning(columnar_rows=0).chunking(3, True) == (2000, False)


async def test_sending_a_batch_leaves_no_garbage_holding_it(container):
    # asyncpg's COPY leaves a reference cycle holding its source: the payloads of an import
    # stayed in memory until a full collection (100 MB for a 483-sample file).
    import gc

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from regovar.repositories.uow import UnitOfWork
    from regovar.repositories.variant_store import Batch

    async with UnitOfWork(async_sessionmaker(container.engine, class_=AsyncSession)) as uow:
        await uow.variant_store.begin(987_654, "GRCh37")
        was_enabled = gc.isenabled()
        gc.collect()
        gc.disable()
        try:
            await uow.variant_store.send(Batch(b"", b""))
            assert gc.collect() == 0, "send left cyclic garbage behind"
        finally:
            if was_enabled:
                gc.enable()
        # (not committed: the tables go with the transaction)

"""Both parsers store the same rows in PostgreSQL (the unit tests compare COPY payloads; here
PostgreSQL itself must accept them and give back the same values)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from regovar.bootstrap import build
from tests.conftest import settings_for
from tests.helpers import DEMO_VCF, EDGE, import_file
from tests.unit.test_vcf_columnar import BCSQ_HEADER, BCSQ_RECORDS, SYNTHETIC


@pytest.fixture(scope="module")
async def general_only(database_url, import_dir):
    c = build(settings_for(database_url, import_dir, import_columnar_rows="0"), url=database_url)
    yield c
    await c.aclose()


async def _stored(c, import_id: int) -> tuple[list, list]:
    async with c.engine.connect() as conn:
        calls = (await conn.execute(text(
            "SELECT (to_jsonb(c) - 'import_id')::text FROM calls c WHERE import_id = :i "
            "ORDER BY line, alt_index"), {"i": import_id})).scalars().all()  # fmt: skip
        transcripts = (await conn.execute(text(
            "SELECT line, alt_index, transcripts::text FROM call_transcripts "
            "WHERE import_id = :i ORDER BY line, alt_index"), {"i": import_id})).all()  # fmt: skip
    return list(calls), [tuple(t) for t in transcripts]


def _bcsq_file(folder: Path, layout: str) -> Path:
    records = BCSQ_RECORDS[layout]
    body = [
        f"1\t{1000 + i}\t.\tA\tG\t50\tPASS\t{records[i % len(records)]}\tGT\t0/1\t0/0"
        for i in range(20)
    ]
    path = folder / f"bcsq-{len(layout)}.vcf"
    path.write_text(BCSQ_HEADER.format(layout=layout) + "\n".join(body) + "\n")
    return path


def _files(folder: Path) -> list[Path]:
    odd = folder / "odd-values.vcf"
    odd.write_text(SYNTHETIC)
    return [DEMO_VCF, odd, EDGE / "25-duplicate-records.vcf",
            *(_bcsq_file(folder, layout) for layout in BCSQ_RECORDS)]  # fmt: skip


async def test_columnar_and_general_parsers_store_the_same_rows(
    container, general_only, import_dir
):
    folder = import_dir / "columnar-vs-general"
    folder.mkdir(exist_ok=True)
    for path in _files(folder):
        fast = await import_file(container, path)
        slow = await import_file(general_only, path)
        assert fast.state == "done", (path.name, fast.error_message)
        assert slow.state == "done", (path.name, slow.error_message)
        assert (fast.records, fast.variants, fast.warnings) == (
            slow.records, slow.variants, slow.warnings)  # fmt: skip
        calls, transcripts = await _stored(container, fast.id)
        assert len(calls) == fast.variants
        assert (calls, transcripts) == await _stored(general_only, slow.id), path.name


async def test_an_info_integer_beyond_64_bits_is_kept_exactly(container, import_dir):
    path = import_dir / "big-info-integer.vcf"
    path.write_text(SYNTHETIC)
    job = await import_file(container, path)
    assert job.state == "done", job.error_message
    async with container.engine.connect() as conn:
        dp, pair = (await conn.execute(text(
            "SELECT info->>'DP', info->'PAIR' FROM calls WHERE import_id = :i AND pos = 303"
        ), {"i": job.id})).one()  # fmt: skip
    assert dp == "99999999999999999999"
    assert pair == [1, -99999999999999999999]

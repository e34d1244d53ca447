"""A failed import leaves its reason on the job row, not patient identifiers in the logs."""

from __future__ import annotations

import logging

from dramatiq import Worker

from regovar.bootstrap import build
from regovar.domain.imports import StartImport
from regovar.domain.principal import SYSTEM
from regovar.tasks.actors import register
from tests.helpers import new_project

PATIENT = "DUPONT-Marie-1961"


async def test_a_failed_import_logs_no_sample_or_file_name(container, import_dir, caplog):
    vcf = import_dir / f"{PATIENT}.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n"
        f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{PATIENT}\t{PATIENT}\n"
    )
    project = await new_project(container)
    # A broker of its own: the session's already has the actor, bound to another test's worker.
    own = build(container.settings, url=container.database_url)
    started = await own.imports.start(SYSTEM, StartImport(project.id, str(vcf)))
    worker_container = build(container.settings, url=container.database_url, with_broker=False)
    worker_container.queue = own.queue
    assert own.queue is not None and own.queue.broker is not container.queue.broker
    broker = own.queue.broker
    register(worker_container)
    worker = Worker(broker, worker_threads=1)
    caplog.set_level(logging.DEBUG)
    worker.start()
    try:
        broker.join("imports", timeout=60_000)
    finally:
        worker.stop()
        await worker_container.aclose()
        await own.aclose()
    job = await container.imports.get(SYSTEM, started.job.id)
    assert (job.state, job.error_code) == ("failed", "VCF_MALFORMED")
    assert PATIENT in job.error_message  # the reason is there for the lab
    assert f"import {job.id} failed: VCF_MALFORMED" in caplog.text
    assert PATIENT not in caplog.text


async def test_an_unexpected_failure_names_the_file_on_the_job_not_in_the_log(
    container, import_dir, caplog, monkeypatch
):
    from regovar.domain import import_pipeline

    vcf = import_dir / f"{PATIENT}-2.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
        "1\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n"
    )
    project = await new_project(container)
    started = await container.imports.start(SYSTEM, StartImport(project.id, str(vcf)), queue=False)

    async def broken(*args, **kwargs):
        raise KeyError(f"sample {PATIENT}")

    monkeypatch.setattr(import_pipeline, "load", broken)
    caplog.set_level(logging.DEBUG)
    try:
        await container.imports.run(SYSTEM, started.job.id)
    except Exception as exc:
        assert type(exc).__name__ == "ImportFailed"
    job = await container.imports.get(SYSTEM, started.job.id)
    assert (job.state, job.error_code) == ("failed", "IMPORT_FAILED")
    assert str(vcf) in job.error_message and "KeyError" in job.error_message
    assert f"import {job.id} failed unexpectedly: KeyError" in caplog.text
    assert "broken" in caplog.text  # where it happened
    assert PATIENT not in caplog.text

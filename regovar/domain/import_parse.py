"""Parsing and encoding of record chunks, in this process or in parser processes.

The reading process decompresses the file and cuts it into chunks of records; each chunk is
parsed (validation, split, normalisation, genotypes, annotations) and encoded as COPY text by a
:class:`ChunkWork`, either in one thread beside the event loop or in a pool of processes, one per
core. Results come back in file order, so the rows, the line numbers of errors and the warnings
are the same whichever way the work was done.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Awaitable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from regovar.adapters.vcf import CallRow, ImportWarnings
from regovar.adapters.vcf.consequences import IMPACT_CODES, impact_of, worst_consequence
from regovar.adapters.vcf.reader import ChunkParser, ColumnarPlan, Record
from regovar.adapters.vcf.siblings import ChunkOrder, chunk_order
from regovar.repositories.variant_store import Batch, BatchEncoder

if TYPE_CHECKING:  # polars is loaded by the processes that parse, not by every command
    from regovar.adapters.vcf.columnar import ColumnarParser

MAX_AUTO_PROCESSES = 8
CELLS_PER_BATCH = 100_000  # genotype cells per chunk (records x samples)
MIN_COLUMNAR_ROWS = 1_000  # smaller chunks are read by the general parser


@dataclass(frozen=True)
class ImportTuning:
    """How an import uses the machine (settings ``import_*``)."""

    batch_rows: int = 2_000  # records per chunk, bounded by CELLS_PER_BATCH
    processes: int = 0  # parser processes; 0 = one more than the cores (at most 8); 1 = none
    parallel_min_bytes: int = 1 << 20  # smaller files are parsed in-process
    columnar_rows: int = 4_000  # records per chunk for the columnar parser; 0 = not used
    chunk_bytes: int = 2 << 20  # VCF text per chunk at most (parsing memory follows the text)

    def chunking(self, n_samples: int, columnar: bool) -> tuple[int, bool]:
        """(records per chunk, whether the columnar parser reads them). Chunks are bounded by
        genotype cells (a 2,000-sample file gets small chunks); the columnar parser works a
        column at a time, and on chunks that few cells leave small its fixed costs exceed
        what it saves (a 483-sample file: slower, and more memory): the general parser then
        reads them."""
        cells = CELLS_PER_BATCH // max(n_samples, 1)
        if columnar and self.columnar_rows and min(self.columnar_rows, cells) >= MIN_COLUMNAR_ROWS:
            return max(100, min(self.columnar_rows, cells)), True
        return max(100, min(self.batch_rows, cells)), False

    def parser_processes(self, file_bytes: int, columnar: bool = False) -> int:
        # In a child process (a script without a ``__main__`` guard, re-run by
        # multiprocessing), never start more processes.
        if file_bytes < self.parallel_min_bytes or multiprocessing.parent_process() is not None:
            return 1
        # One more than the cores: the reading process and PostgreSQL wait at times. A columnar
        # parser holds a few times more memory (larger chunks, columns): one per core.
        extra = 0 if columnar else 1
        wanted = self.processes or min((os.cpu_count() or 1) + extra, MAX_AUTO_PROCESSES)
        return max(wanted, 1)


@dataclass(frozen=True)
class ChunkResult:
    batch: Batch
    records: int  # VCF records read (every data line, stored or not: gVCF blocks too)
    warnings: ImportWarnings
    order: ChunkOrder  # where its records lie (an unsorted file is said)


class ChunkWork:
    """Parses one chunk and encodes its rows; picklable (header and ids only).

    With a columnar parser, the ordinary records of the chunk are parsed by it and only the
    others by the general parser (see adapters/vcf/columnar.py)."""

    def __init__(
        self, parser: ChunkParser, encoder: BatchEncoder, plan: ColumnarPlan | None = None,
        min_columnar: int = 0,
    ) -> None:  # fmt: skip
        self.parser, self.encoder, self.plan = parser, encoder, plan
        # Chunks of fewer records go to the general parser alone: long records (a VEP record
        # of 20 kB) make chunks that the text bound leaves small, where the columnar parser's
        # fixed cost per chunk outweighs what it saves (6,000 such records: 2.9 s, 2.3 s so).
        self.min_columnar = min_columnar
        self._columnar: ColumnarParser | None = None  # built from the plan where it runs

    def __getstate__(self) -> dict[str, Any]:
        return {"parser": self.parser, "encoder": self.encoder, "plan": self.plan,
                "min_columnar": self.min_columnar}  # fmt: skip

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["parser"], state["encoder"], state["plan"],  # type: ignore[misc]
                      state["min_columnar"])  # fmt: skip

    def __call__(self, chunk: list[Record]) -> ChunkResult:
        if self.plan is not None and self._columnar is None:
            self._columnar = self.plan.build()
        order = chunk_order(chunk)
        with _no_cycle_collection():
            fast = self._columnar if len(chunk) >= self.min_columnar else None
            frame, rest = fast.split(chunk) if fast is not None else (None, chunk)
            rows = list(self.parser.parse(rest))
            batch = self.encoder.encode(rows, [summarize(r) for r in rows], frame)
            records = len(chunk)
            # Freed here, while collection is off: the collector would walk them on resuming.
            del rows
        return ChunkResult(batch, records, self.parser.warnings.drain(), order)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Parsing allocates millions of short-lived objects without reference cycles (freed by
    reference counting); the cycle collector would scan them again and again, which doubled
    the parse time. It is paused for one chunk and resumed after (nested uses keep it off)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def summarize(row: CallRow) -> tuple[Any, ...]:
    """Per-variant annotation summary: genes, consequences, worst consequence, worst impact."""
    if not row.annotations:
        return (None, None, None, None)
    genes = sorted({a.gene for a in row.annotations if a.gene})
    # A bcftools consequence downstream of a stop ('*missense') describes no protein change of
    # its own: kept on its transcript, not counted in the variant's consequences or impact.
    own = [a for a in row.annotations
           if not (a.source == "BCSQ" and a.extra.get("downstream_of_stop") == "true")]  # fmt: skip
    terms = sorted({t for a in own for t in a.consequences})
    impacts = [
        IMPACT_CODES.get(a.impact or "", -1)
        if a.impact
        else max((IMPACT_CODES.get(impact_of(t) or "", -1) for t in a.consequences), default=-1)
        for a in own
    ]
    worst = max(impacts, default=-1)
    return (genes, terms, worst_consequence(terms), worst if worst >= 0 else None)


class ChunkPool:
    """Runs ChunkWork on chunks: ``submit`` returns an awaitable result, in submission order.

    With one process the work runs in a single thread (chunks strictly one after the other, as
    the parser keeps state); otherwise in a pool of processes started by a fork server (a
    clean process, not a fork of this one with its threads, sockets and event loop).
    """

    def __init__(self, work: ChunkWork, processes: int) -> None:
        self.processes = processes
        self.window = processes + 1  # chunks in flight
        self._work = work
        self._executor: Executor
        if processes <= 1:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="regovar-parse")
        else:
            context = multiprocessing.get_context("forkserver")
            # The fork server imports the parsers' modules once; each parser process forks
            # from it nearly ready to work, for this import and the next ones.
            context.set_forkserver_preload(PARSER_MODULES)
            self._executor = ProcessPoolExecutor(
                processes, mp_context=context, initializer=_install, initargs=(work,)
            )

    def submit(self, chunk: list[Record]) -> Awaitable[ChunkResult]:
        import asyncio  # here: loaded by the importer, not by the fork server (40 ms)

        if self.processes <= 1:
            return asyncio.wrap_future(self._executor.submit(self._work, chunk))
        return asyncio.wrap_future(self._executor.submit(_run, chunk))

    async def close(self) -> None:
        import asyncio

        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)


# "__main__" first, as multiprocessing's default (a script's own functions). Not polars: each
# parser process loads it (in parallel); kept out of the long-lived fork server's memory.
PARSER_MODULES = ["__main__", "regovar.domain.import_parse"]
_installed: ChunkWork | None = None  # the work of this parser process (one import per pool)


def _install(work: ChunkWork) -> None:
    global _installed
    _installed = work
    _exit_with_importer()
    # One thread per parser process: the pool already has a process per core. Read by polars
    # when it first runs a query, i.e. after this.
    os.environ.setdefault("POLARS_MAX_THREADS", "1")


def _exit_with_importer() -> None:
    """A parser process ends when the importing process does, however it ends: killed (the
    OOM killer, `kill -9`, a lost machine), it cannot tell its parsers, which are children of
    the fork server. They went on with nobody to read their results, blocked forever on a
    full pipe and kept their memory. The fork server hands each of them a pipe from the
    importing process, which reads as closed once that process is gone."""
    importer = multiprocessing.parent_process()
    if importer is None:
        return

    def watch() -> None:
        importer.join()
        os._exit(1)

    threading.Thread(target=watch, name="regovar-importer-watch", daemon=True).start()


def _run(chunk: list[Record]) -> ChunkResult:
    assert _installed is not None, "parser process started without its work"
    return _installed(chunk)

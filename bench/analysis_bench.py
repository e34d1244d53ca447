"""Analysis benchmark: every inheritance mode with typical conditions, on an exome-scale trio.

    python bench/analysis_bench.py [--database-url URL] [--runs N] [--others N] [--per-import N]

Imports the exome-scale trio (about 109k real GIAB records), creates an analysis (HG002 an
affected son, HG004 his mother, HG003 his father), and times each mode combined with frequency
(INFO AF < 0.5), consequence (impact LOW or more) and quality (QUAL >= 30, the proband's DP >= 10
and GQ >= 20) conditions: first page of 100, total count and counts per gene, through the
service (AnalysisManager.results) and through GraphQL over HTTP (a real `regovar serve`).

Then it imports ``--others`` more exome-scale samples (default 200, in imports of
``--per-import`` samples, genotypes taken from the trio's real calls) and times the same
queries again: the last column is the ratio of the p95 with them to the p95 without them (the
target is at most 1.5: the cost follows the analysis, not the database).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import WORK, database, drop, exome_trio, served
from bench.query_bench import pct
from regovar.bootstrap import build
from regovar.config import load_settings
from regovar.domain.analyses import CreateAnalysis, MemberSpec
from regovar.domain.imports import StartImport
from regovar.domain.principal import SYSTEM, Principal
from regovar.domain.projects import CreateProject

MODES = (
    "de_novo", "autosomal_dominant", "autosomal_recessive", "compound_heterozygous",
    "x_linked_recessive", "x_linked_dominant", "mitochondrial",
)  # fmt: skip
TYPICAL = [
    {"info": {"name": "AF", "op": "lt", "value": 0.5}},
    {"impact": "LOW"},
    {"qual": {"op": "ge", "value": 30}},
    {"sample_value": {"sample": "proband", "field": "dp", "op": "ge", "value": 10}},
    {"sample_value": {"sample": "proband", "field": "gq", "op": "ge", "value": 20}},
]
GRAPHQL = """query($a: ID!, $f: JSON!) {
  analysisResults(analysisId: $a, filter: $f, limit: 100) {
    mode total items { chrom pos ref alt genes worstConsequence
                       calls { sampleId gt zygosity dp gq vaf } }
  }
}"""


def document(mode: str) -> dict:
    return {"version": 1, "filter": {"all": [*TYPICAL, {"inheritance": mode}]}}


async def prepare(url: str):
    from regovar.domain.users import CreateUser, SignIn

    c = build(load_settings(env={}, database_url=url), url=url, with_broker=False)
    user = await c.users.create(SYSTEM, CreateUser("geneticist", "bench password 1"))
    actor = Principal(user.id, user.login)
    token = (await c.users.sign_in(SignIn(user.login, "bench password 1", "bench"))).token
    project = await c.projects.create(actor, CreateProject("bench-analysis"))
    started = await c.imports.start(SYSTEM, StartImport(project.id, str(exome_trio())), queue=False)
    job = await c.imports.run(SYSTEM, started.job.id)
    page = await c.variants.samples(SYSTEM, import_id=job.id)
    ids = {s.name: s.id for s in page.items}
    view = await c.analyses.create(
        actor,
        CreateAnalysis(project.id, "HG002 trio", (
            MemberSpec(ids["HG002"], "proband", "male", "affected"),
            MemberSpec(ids["HG004"], "mother", "female", "unaffected"),
            MemberSpec(ids["HG003"], "father", "male", "unaffected"),
        ), with_family=False),
    )  # fmt: skip
    return c, actor, token, project.id, view.analysis.id


async def time_service(c, actor, analysis_id: int, runs: int) -> tuple[dict, dict]:
    times: dict[str, list[float]] = {}
    totals: dict[str, int] = {}
    for mode in MODES:
        doc = document(mode)
        for _ in range(3):
            result = await c.analyses.results(actor, analysis_id, doc)
        samples = []
        for _ in range(runs):
            t = time.perf_counter()
            result = await c.analyses.results(actor, analysis_id, doc)
            samples.append((time.perf_counter() - t) * 1000)
        times[mode], totals[mode] = samples, result.page.total
    return times, totals


def time_http(url: str, token: str, analysis_id: int, runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    with served(url, token) as http:
        for mode in MODES:
            body = {"query": GRAPHQL,
                    "variables": {"a": str(analysis_id), "f": document(mode)}}  # fmt: skip
            for _ in range(3):
                answer = http.post("/graphql", json=body).json()
                assert "errors" not in answer, answer
            samples = []
            for _ in range(runs):
                t = time.perf_counter()
                http.post("/graphql", json=body).raise_for_status()
                samples.append((time.perf_counter() - t) * 1000)
            out[mode] = samples
    return out


def other_samples(count: int, per_import: int) -> list[Path]:
    """Files of ``per_import`` exome-scale samples each, from the trio's real records; each
    sample takes, per record, the genotype of one of the trio's members at random."""
    trio = exome_trio()
    files = []
    rng = random.Random(7)
    for n in range(0, count, per_import):
        width = min(per_import, count - n)
        out = WORK / f"others-{n}-{width}.vcf"
        files.append(out)
        if out.exists():
            continue
        with trio.open() as src, out.open("w") as dst:
            for line in src:
                if line.startswith("##"):
                    dst.write(line)
                    continue
                fields = line.rstrip("\n").split("\t")
                if line.startswith("#"):
                    names = [f"OTHER{n + k:03d}" for k in range(width)]
                    dst.write("\t".join(fields[:9] + names) + "\n")
                    continue
                cells = fields[9:]
                picked = [cells[rng.randrange(len(cells))] for _ in range(width)]
                dst.write("\t".join(fields[:9] + picked) + "\n")
    return files


async def import_others(c, project_id: int, files: list[Path]) -> None:
    for path in files:
        started = await c.imports.start(SYSTEM, StartImport(project_id, str(path)), queue=False)
        job = await c.imports.run(SYSTEM, started.job.id)
        print(f"  imported {path.name}: {job.samples} samples, {job.variants:,} variants",
              flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--others", type=int, default=200)
    parser.add_argument("--per-import", type=int, default=25)
    args = parser.parse_args()
    url, server = database(args.database_url)
    try:

        async def alone():
            c, actor, token, project_id, analysis_id = await prepare(url)
            service, totals = await time_service(c, actor, analysis_id, args.runs)
            await c.aclose()
            return actor, token, project_id, analysis_id, service, totals

        actor, token, _, analysis_id, service, totals = asyncio.run(alone())
        http = time_http(url, token, analysis_id, args.runs)
        crowded: dict[str, list[float]] = {}
        if args.others:
            files = other_samples(args.others, args.per_import)

            async def with_others():
                c = build(load_settings(env={}, database_url=url), url=url, with_broker=False)
                other = await c.projects.create(SYSTEM, CreateProject("bench-others"))
                await import_others(c, other.id, files)
                times, _ = await time_service(c, actor, analysis_id, args.runs)
                await c.aclose()
                return times

            crowded = asyncio.run(with_others())
    finally:
        drop(url)
        if server is not None:
            server.stop()  # type: ignore[attr-defined]
    print(f"{'mode (+ AF, impact, QUAL, DP, GQ)':34} {'total':>7} {'svc p50':>8} {'svc p95':>8} "
          f"{'http p50':>9} {'http p95':>9} {'p95 with others':>16} {'ratio':>6}")  # fmt: skip
    for name in MODES:
        s, h = service[name], http[name]
        crowd = f"{pct(crowded[name], 95):>16.1f}" if crowded else f"{'-':>16}"
        ratio = f"{pct(crowded[name], 95) / pct(s, 95):>6.2f}" if crowded else f"{'-':>6}"
        print(f"{name:34} {totals[name]:>7,} {pct(s, 50):>8.1f} {pct(s, 95):>8.1f} "
              f"{pct(h, 50):>9.1f} {pct(h, 95):>9.1f} {crowd} {ratio}")  # fmt: skip


if __name__ == "__main__":
    main()

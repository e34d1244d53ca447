"""Query benchmark: five typical trio queries (first page of 100 + total count).

    python bench/query_bench.py [--database-url URL] [--runs N]

Imports the exome-scale trio (about 109k real GIAB records) into a fresh database, then times
each query through the service (VariantManager.query) and through GraphQL over HTTP (a real
`regovar serve` process). The baseline, measured in the same run, is a bare
`SELECT count(*)` over the trio's calls partition (one sequential scan of the import).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import database, drop, exome_trio, served
from regovar.bootstrap import build
from regovar.config import load_settings
from regovar.domain import variant_filter as vf
from regovar.domain.imports import StartImport
from regovar.domain.principal import SYSTEM
from regovar.domain.projects import CreateProject


def queries(child: int, father: int, mother: int, genes: list[str]) -> dict[str, dict]:
    """Each query as (domain filter, GraphQL input) built from the same description."""
    trio = [child, father, mother]
    quality = [
        {"sample": s, "field": f, "op": "GE", "value": v}
        for s in trio
        for f, v in (("DP", 10), ("GQ", 20))
    ]
    return {
        "de novo + quality + LOW+": {
            "genotypes": [(child, ["HET"]), (father, ["HOM_REF"]), (mother, ["HOM_REF"])],
            "sampleValues": quality,
            "minImpact": "LOW",
        },
        "recessive hom + impact": {
            "genotypes": [(child, ["HOM_ALT"]), (father, ["HET"]), (mother, ["HET"])],
            "minImpact": "MODERATE",
        },
        "gene panel (50) carriers": {"genotypes": [(child, ["CARRIER"])], "genes": genes},
        "region 1:1-50M + qual": {
            "genotypes": [(child, ["CARRIER"])],
            "regions": [{"chrom": "1", "start": 1, "end": 50_000_000}],
            "qual": {"op": "GE", "value": 30},
        },
        "INFO QD and AF + carrier": {
            "genotypes": [(child, ["CARRIER"])],
            "info": [
                {"name": "QD", "op": "ge", "number": 2.0},
                {"name": "AF", "op": "lt", "number": 0.5},
            ],
        },
    }


def graphql_input(trio: list[int], spec: dict) -> dict:
    g = {"samples": [str(s) for s in trio], "limit": 100}
    g["genotypes"] = [{"sample": str(s), "zygosity": z} for s, z in spec.get("genotypes", [])]
    for key in ("minImpact", "genes", "regions", "qual", "info", "filter"):
        if key in spec:
            g[key] = spec[key]
    g["sampleValues"] = [{**v, "sample": str(v["sample"])} for v in spec.get("sampleValues", [])]
    return g


def domain_query(trio: list[int], spec: dict) -> vf.VariantQuery:
    leaves: list[vf.Node] = [
        vf.Genotype(s, tuple(z.lower() for z in zs)) for s, zs in spec.get("genotypes", [])
    ]
    leaves += [
        vf.SampleValue(v["sample"], v["field"].lower(), v["op"].lower(), v["value"])
        for v in spec.get("sampleValues", [])
    ]
    if "minImpact" in spec:
        leaves.append(vf.MinImpact(spec["minImpact"]))
    if "genes" in spec:
        leaves.append(vf.Genes(tuple(spec["genes"])))
    if "regions" in spec:
        leaves.append(
            vf.Or(tuple(vf.Region(r["chrom"], r["start"], r["end"]) for r in spec["regions"]))
        )
    if "qual" in spec:
        leaves.append(vf.Qual(spec["qual"]["op"].lower(), spec["qual"]["value"]))
    if "filter" in spec:
        leaves.append(vf.Filters(pass_only=True))
    leaves += [vf.Info(i["name"], i["op"], i["number"]) for i in spec.get("info", [])]
    return vf.VariantQuery(tuple(trio), vf.And(tuple(leaves)), limit=100)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def prepare(url: str):
    from regovar.domain.principal import Principal
    from regovar.domain.users import CreateUser, SignIn

    c = build(load_settings(env={}, database_url=url), url=url, with_broker=False)
    # A geneticist who owns the project: the queries go through the access checks.
    user = await c.users.create(SYSTEM, CreateUser("geneticist", "bench password 1"))
    actor = Principal(user.id, user.login)
    token = (await c.users.sign_in(SignIn(user.login, "bench password 1", "bench"))).token
    project = await c.projects.create(actor, CreateProject("bench-trio"))
    started = await c.imports.start(SYSTEM, StartImport(project.id, str(exome_trio())), queue=False)
    job = await c.imports.run(SYSTEM, started.job.id)
    page = await c.variants.samples(SYSTEM, import_id=job.id)
    ids = {s.name: s.id for s in page.items}
    trio = [ids["HG002"], ids["HG003"], ids["HG004"]]
    any_rows = await c.variants.query(
        SYSTEM, vf.VariantQuery(tuple(trio), vf.MinImpact("MODERATE"), limit=1000)
    )
    genes = sorted({g for r in any_rows.items for g in (r.genes or [])})[:50]
    return c, job, trio, genes, actor, token


async def time_service(c, actor, trio, specs, runs: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for name, spec in specs.items():
        q = domain_query(trio, spec)
        for _ in range(3):
            await c.variants.query(actor, q)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            page = await c.variants.query(actor, q)
            times.append((time.perf_counter() - t) * 1000)
        out[name] = times
        spec["total"] = page.total
    return out


async def time_baseline(c, job, runs: int) -> list[float]:
    from sqlalchemy import text

    times = []
    async with c.engine.connect() as conn:
        for _ in range(runs):
            t = time.perf_counter()
            await conn.execute(text(f"SELECT count(*) FROM calls_i{job.id}"))
            times.append((time.perf_counter() - t) * 1000)
    return times


def time_http(
    url: str, token: str, trio: list[int], specs: dict, runs: int
) -> dict[str, list[float]]:
    query = (
        "query($q: VariantQueryInput!) { variants(query: $q) { total items { chrom pos ref "
        "alt genes worstConsequence calls { sampleId gt zygosity dp gq vaf } } } }"
    )
    out: dict[str, list[float]] = {}
    with served(url, token) as http:
        for name, spec in specs.items():
            body = {"query": query, "variables": {"q": graphql_input(trio, spec)}}
            for _ in range(3):
                assert "errors" not in http.post("/graphql", json=body).json()
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                http.post("/graphql", json=body).raise_for_status()
                times.append((time.perf_counter() - t) * 1000)
            out[name] = times
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    url, server = database(args.database_url)
    try:

        async def measure():
            c, job, trio, genes, actor, token = await prepare(url)
            specs = queries(trio[0], trio[1], trio[2], genes)
            service = await time_service(c, actor, trio, specs, args.runs)
            base = await time_baseline(c, job, args.runs)
            await c.aclose()
            return job, trio, specs, service, base, token

        job, trio, specs, service, base, token = asyncio.run(measure())
        http = time_http(url, token, trio, specs, args.runs)
    finally:
        drop(url)
        if server is not None:
            server.stop()  # type: ignore[attr-defined]
    b50 = statistics.median(base)
    print(f"trio: {job.records:,} records; baseline count(*) of the partition p50 {b50:.1f} ms")
    print(
        f"{'query':28} {'total':>7} {'svc p50':>8} {'svc p95':>8} {'http p50':>9} "
        f"{'http p95':>9} {'p95/base':>9}"
    )
    for name, spec in specs.items():
        s, h = service[name], http[name]
        print(
            f"{name:28} {spec['total']:>7,} {pct(s, 50):>8.1f} {pct(s, 95):>8.1f} "
            f"{pct(h, 50):>9.1f} {pct(h, 95):>9.1f} {pct(s, 95) / b50:>9.1f}"
        )


if __name__ == "__main__":
    main()

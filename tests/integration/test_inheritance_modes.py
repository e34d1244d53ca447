"""Inheritance modes of analyses against an independent definition, on a generated family.

The family: a affected son (P), his unaffected mother (M) and father (F) and an unaffected
sister (S), GRCh38. Records draw every sample's genotype at random (fixed seed) among
diploid, haploid, phased, missing and partial calls, on chr1, on chrX inside and outside the
pseudo-autosomal region, on chrY and on chrM, three records per gene, with a QUAL of 10 or 50.

``expected`` below is written from the genotype strings alone (counting ALT alleles), not from
Regovar's zygosity codes; each mode's result must equal it, for the trio, the duo (mother only)
and the singleton.
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest

from regovar.domain.analyses import CreateAnalysis, MemberSpec
from regovar.domain.errors import InvalidInput
from regovar.domain.principal import SYSTEM
from tests.conftest import SHARED
from tests.helpers import DEMO_PED, DEMO_VCF, import_file, new_project, samples_of

SAMPLES = ("P", "M", "F", "S")
PED = "fam\tP\tF\tM\t1\t2\nfam\tM\t0\t0\t2\t1\nfam\tF\t0\t0\t1\t1\nfam\tS\tF\tM\t2\t1\n"
PAR1 = (10_001, 2_781_479)
DIPLOID = ["0/0"] * 5 + ["0/1"] * 5 + ["1/1"] * 2 + ["./.", "0|1", "1|0", "./1", "0/."]
HAPLOID = ["0", "1", "."]
HEADER = """##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=chr1,length=248956422>
##contig=<ID=chrX,length=156040895>
##contig=<ID=chrY,length=57227415>
##contig=<ID=chrM,length=16569>
##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. \
Format: Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tP\tM\tF\tS
"""


def _records() -> list[dict]:
    rng = random.Random(20261204)
    out = []
    layout = [("chr1", 1_000_000, 900, False), ("chrX", 20_000, 90, False),
              ("chrX", 5_000_000, 600, True), ("chrY", 3_000_000, 60, True),
              ("chrM", 100, 60, False)]  # fmt: skip
    n = 0
    for chrom, start, count, male_haploid in layout:
        for i in range(count):
            gts = {}
            for s in SAMPLES:
                male = s in ("P", "F")
                if chrom == "chrY" and not male:
                    gts[s] = "."
                elif male and male_haploid and rng.random() < 0.5:
                    gts[s] = rng.choice(HAPLOID)
                else:
                    gts[s] = rng.choice(DIPLOID)
            out.append({
                "chrom": chrom, "pos": start + i * 10, "gene": f"{chrom}G{n // 3}",
                "qual": rng.choice((10, 50)), "gt": gts,
            })  # fmt: skip
            n += 1
    return out


def _write(folder: Path) -> tuple[Path, Path]:
    vcf, ped = folder / "family-modes.vcf", folder / "family-modes.ped"
    lines = [HEADER]
    for r in _records():
        csq = f"G|missense_variant|MODERATE|{r['gene']}|ENSG1|Transcript|ENST1|protein_coding"
        cells = [f"{g}:{7 if '|' in g else '.'}" for g in (r["gt"][s] for s in SAMPLES)]
        lines.append(
            f"{r['chrom']}\t{r['pos']}\t.\tA\tG\t{r['qual']}\tPASS\tCSQ={csq}\tGT:PS\t"
            + "\t".join(cells) + "\n"
        )  # fmt: skip
    vcf.write_text("".join(lines))
    ped.write_text(PED)
    return vcf, ped


# --- the independent definition, on genotype strings -------------------------------------


def alleles(gt: str) -> list[str]:
    return gt.replace("|", "/").split("/")


def called(gt: str) -> bool:
    return "." not in alleles(gt)


def carrier(gt: str) -> bool:
    return called(gt) and "1" in alleles(gt)


def non_carrier(gt: str) -> bool:
    return called(gt) and "1" not in alleles(gt)


def het(gt: str) -> bool:
    a = alleles(gt)
    return called(gt) and len(a) == 2 and a.count("1") == 1


def hom_alt(gt: str) -> bool:  # every allele is the ALT, diploid
    a = alleles(gt)
    return called(gt) and len(a) == 2 and a.count("1") == 2


def male_alt(gt: str) -> bool:  # a male's X: hemizygous ALT, or called 1/1
    a = alleles(gt)
    return called(gt) and all(x == "1" for x in a)


def outside_par(r: dict) -> bool:
    return r["chrom"] == "chrX" and not PAR1[0] <= r["pos"] <= PAR1[1]


def expected(mode: str, records: list[dict], family: str = "trio", min_qual: int = 0) -> set:
    keep = set()
    rows = [r for r in records if r["qual"] >= min_qual]
    for r in rows:
        g, chrom = r["gt"], r["chrom"]
        autosome = chrom == "chr1"
        ok = False
        if mode == "de_novo":
            if chrom == "chrY":
                ok = carrier(g["P"]) and non_carrier(g["F"])
            elif chrom == "chrM":
                ok = carrier(g["P"]) and non_carrier(g["M"])
            else:
                ok = carrier(g["P"]) and non_carrier(g["M"]) and non_carrier(g["F"])
            # the unaffected sister has no called ALT copy (a missing call of hers is fine)
            ok = ok and "1" not in alleles(g["S"])
        elif mode == "autosomal_dominant":
            ok = autosome and het(g["P"]) and all(non_carrier(g[s]) for s in "MFS")
        elif mode == "autosomal_recessive":
            ok = (autosome and hom_alt(g["P"]) and het(g["M"]) and het(g["F"])
                  and called(g["S"]) and not hom_alt(g["S"]))  # fmt: skip
        elif mode == "x_linked_recessive":
            ok = (outside_par(r) and male_alt(g["P"]) and het(g["M"]) and non_carrier(g["F"])
                  and called(g["S"]) and not hom_alt(g["S"]))  # fmt: skip
        elif mode == "x_linked_dominant":
            ok = outside_par(r) and carrier(g["P"]) and all(non_carrier(g[s]) for s in "MFS")
        elif mode == "mitochondrial":
            ok = chrom == "chrM" and carrier(g["P"])
        if ok:
            keep.add((chrom, r["pos"]))
    if mode == "compound_heterozygous":
        keep = _compound_het(rows, family)
    return keep


def _compound_het(rows: list[dict], family: str) -> set:
    """Pairs of the proband's het variants in one gene: one from each parent (trio), one the
    mother carries and one she does not (duo), any two not phased on one haplotype
    (singleton); in the trio, a pair whose two variants the unaffected sister both carries
    does not count."""
    by_gene: dict[str, list[tuple[dict, str | None]]] = {}
    for r in rows:
        g = r["gt"]
        if not het(g["P"]):
            continue
        # two copies of the gene: not chrY or chrM, nor the son's chrX outside the PARs
        pars = ((10_001, 2_781_479), (155_701_383, 156_030_895))
        on_x = r["chrom"] == "chrX" and not any(a <= r["pos"] <= b for a, b in pars)
        if r["chrom"] in ("chrY", "chrM") or on_x:
            continue
        if family == "trio":
            origin = ("M" if het(g["M"]) and non_carrier(g["F"]) else
                      "F" if het(g["F"]) and non_carrier(g["M"]) else None)  # fmt: skip
        elif family == "duo":  # mother only
            origin = "in" if het(g["M"]) else "out" if non_carrier(g["M"]) else None
        else:
            origin = "any"
        by_gene.setdefault(r["gene"], []).append((r, origin))
    siblings = ("S",) if family == "trio" else ()
    keep = set()
    for items in by_gene.values():
        for i, (r1, o1) in enumerate(items):
            for r2, o2 in items[i + 1:]:
                if o1 is None or o2 is None:
                    continue
                if family == "singleton":
                    g1, g2 = r1["gt"]["P"], r2["gt"]["P"]
                    if "|" in g1 and g1 == g2:  # same phase set (7), same side: cis
                        continue
                elif o1 == o2:
                    continue
                if any("1" in alleles(r1["gt"][s]) and "1" in alleles(r2["gt"][s])
                       for s in siblings):  # fmt: skip
                    continue
                keep |= {(r1["chrom"], r1["pos"]), (r2["chrom"], r2["pos"])}
    return keep


# --- the tests ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def family(container, import_dir):
    vcf, ped = _write(import_dir)
    job = await import_file(container, vcf, ped=ped)
    assert job.state == "done", job.error_message
    samples = await samples_of(container, job)
    return job, samples


async def _analysis(container, job, samples, names, with_family=False):
    created = await container.analyses.create(
        SYSTEM,
        CreateAnalysis(
            job.project_id,
            f"{'-'.join(names)}-{uuid.uuid4().hex[:8]}",
            tuple(MemberSpec(samples[n].id) for n in names),
            with_family=with_family,
        ),
    )
    return created


async def _run(container, analysis_id, mode, min_qual=0, genes=False):
    conditions = [{"inheritance": mode}]
    if min_qual:
        conditions.insert(0, {"qual": {"op": "ge", "value": min_qual}})
    result = await container.analyses.results(
        SYSTEM, analysis_id, {"version": 1, "filter": {"all": conditions}}, limit=1000,
        gene_counts=genes,
    )
    assert result.page.total == len(result.page.items)
    return result, {(r.chrom, r.pos) for r in result.page.items}


async def test_the_pedigree_fills_roles_sex_and_status(container, family):
    job, samples = family
    view = await _analysis(container, job, samples, ["P"], with_family=True)
    members = {m.sample: (m.role, m.sex, m.affected) for m in view.members}
    assert members == {
        "P": ("proband", "male", "affected"),
        "M": ("mother", "female", "unaffected"),
        "F": ("father", "male", "unaffected"),
        "S": ("sibling", "female", "unaffected"),
    }
    assert [m.sample for m in view.members][:3] == ["P", "M", "F"]


@pytest.mark.parametrize(
    "mode",
    ["de_novo", "autosomal_dominant", "autosomal_recessive", "x_linked_recessive",
     "x_linked_dominant", "mitochondrial", "compound_heterozygous"],
)  # fmt: skip
async def test_each_mode_matches_the_independent_definition(container, family, mode):
    job, samples = family
    view = await _analysis(container, job, samples, ["P", "M", "F", "S"])
    result, got = await _run(container, view.analysis.id, mode)
    want = expected(mode, _records())
    assert len(want) >= 3, "the generated family must exercise the mode"
    assert got == want
    assert result.mode == (mode if mode != "compound_heterozygous" else f"{mode}:trio")


async def test_compound_het_pairs_only_the_candidates(container, family):
    """The other conditions choose the candidates before pairing: a QUAL threshold breaks
    pairs whose other half has a low QUAL."""
    job, samples = family
    view = await _analysis(container, job, samples, ["P", "M", "F", "S"])
    _, all_quals = await _run(container, view.analysis.id, "compound_heterozygous")
    result, got = await _run(
        container, view.analysis.id, "compound_heterozygous", min_qual=30, genes=True
    )
    want = expected("compound_heterozygous", _records(), min_qual=30)
    assert got == want and want
    assert got < {p for p in all_quals}  # strictly fewer: some pairs lost a member
    genes = dict(result.genes)
    assert sum(genes.values()) == len(got) and all(n >= 2 for n in genes.values())


async def test_compound_het_with_one_parent_and_alone(container, family):
    job, samples = family
    duo = await _analysis(container, job, samples, ["P", "M"])
    result, got = await _run(container, duo.analysis.id, "compound_heterozygous")
    assert result.mode == "compound_heterozygous:duo"
    assert got == expected("compound_heterozygous", _records(), "duo")
    alone = await _analysis(container, job, samples, ["P"])
    result, got = await _run(container, alone.analysis.id, "compound_heterozygous")
    assert result.mode == "compound_heterozygous:singleton"
    want = expected("compound_heterozygous", _records(), "singleton")
    assert got == want and len(want) > len(expected("compound_heterozygous", _records()))


async def test_modes_that_need_parents_say_so(container, family):
    job, samples = family
    alone = await _analysis(container, job, samples, ["P"])
    with pytest.raises(InvalidInput) as err:
        await _run(container, alone.analysis.id, "de_novo")
    assert "filter.all[0].inheritance" in err.value.message and "mother and father" in (
        err.value.message
    )


async def test_missing_parental_calls_are_never_hom_ref(container, family):
    job, samples = family
    view = await _analysis(container, job, samples, ["P", "M", "F", "S"])
    _, got = await _run(container, view.analysis.id, "de_novo")
    by_pos = {(r["chrom"], r["pos"]): r for r in _records()}
    assert all(called(by_pos[k]["gt"]["M"]) or k[0] == "chrY" for k in got)
    assert all(called(by_pos[k]["gt"]["F"]) or k[0] == "chrM" for k in got)
    # and there were records the mode would have kept had a missing mother counted as hom-ref
    assert any(
        carrier(r["gt"]["P"]) and not called(r["gt"]["M"]) and non_carrier(r["gt"]["F"])
        for r in _records() if r["chrom"] == "chr1"
    )


async def test_de_novo_on_the_real_giab_trio(container):
    """HG002 with the pedigree's parents: the same variants as the plain genotype query."""
    from regovar.domain import variant_filter as vf

    project = await new_project(container)
    job = await import_file(container, DEMO_VCF, ped=DEMO_PED, project=project)
    samples = await samples_of(container, job)
    view = await container.analyses.create(
        SYSTEM, CreateAnalysis(project.id, "HG002", (MemberSpec(samples["HG002"].id),))
    )
    roles = {m.sample: m.role for m in view.members}
    assert roles == {"HG002": "proband", "HG004": "mother", "HG003": "father"}
    result = await container.analyses.results(
        SYSTEM, view.analysis.id, {"version": 1, "filter": {"inheritance": "de_novo"}}
    )
    ids = (samples["HG002"].id, samples["HG003"].id, samples["HG004"].id)
    plain = await container.variants.query(
        SYSTEM,
        vf.VariantQuery(ids, vf.And((
            vf.Genotype(ids[0], ("het", "hom_alt", "hemi_alt", "het_alt")),
            vf.Genotype(ids[1], ("non_carrier",)),
            vf.Genotype(ids[2], ("non_carrier",)),
        ))),
    )
    assert result.page.total == plain.total > 0
    assert [r.variant_key for r in result.page.items] == [r.variant_key for r in plain.items]


@pytest.mark.parametrize("mode", ["x_linked_recessive", "x_linked_dominant", "de_novo"])
async def test_x_modes_with_a_female_proband(container, family, mode):
    """The sister as an affected proband and her brother unaffected: on X a female proband
    needs two copies for the recessive mode, so her father is affected there (he gave her his
    X), and her father's X counts for her."""
    job, samples = family
    father_status = "affected" if mode == "x_linked_recessive" else "unaffected"
    view = await container.analyses.create(
        SYSTEM,
        CreateAnalysis(job.project_id, f"sister-{uuid.uuid4().hex[:8]}", (
            MemberSpec(samples["S"].id, "proband", "female", "affected"),
            MemberSpec(samples["M"].id, "mother"),
            MemberSpec(samples["F"].id, "father", "male", father_status),
            MemberSpec(samples["P"].id, "sibling", "male", "unaffected"),
        ), with_family=False),
    )  # fmt: skip
    _, got = await _run(container, view.analysis.id, mode)
    want = set()
    for r in _records():
        g = r["gt"]
        if mode == "x_linked_recessive":
            ok = (outside_par(r) and hom_alt(g["S"]) and het(g["M"]) and male_alt(g["F"])
                  and non_carrier(g["P"]))  # fmt: skip
        elif mode == "x_linked_dominant":
            ok = outside_par(r) and carrier(g["S"]) and all(non_carrier(g[s]) for s in "MFP")
        else:
            ok = r["chrom"] != "chrY" and (
                carrier(g["S"]) and non_carrier(g["M"]) if r["chrom"] == "chrM"
                else carrier(g["S"]) and non_carrier(g["M"]) and non_carrier(g["F"])
            )  # fmt: skip
            ok = ok or (r["chrom"] == "chrY" and carrier(g["S"]) and non_carrier(g["F"]))
            ok = ok and "1" not in alleles(g["P"])  # her unaffected brother has no ALT copy
        if ok:
            want.add((r["chrom"], r["pos"]))
    assert got == want
    if mode != "de_novo":
        assert want, "the generated family must exercise the mode"


@pytest.mark.parametrize("mode", ["de_novo", "compound_heterozygous"])
async def test_only_unaffected_siblings_exclude_and_an_unknown_one_is_noted(
    container, family, mode
):
    job, samples = family
    records = _records()

    async def run_with(role: str, affected: str):
        view = await container.analyses.create(
            SYSTEM,
            CreateAnalysis(job.project_id, f"{mode}-{role}-{uuid.uuid4().hex[:8]}", (
                MemberSpec(samples["P"].id, "proband", "male", "affected"),
                MemberSpec(samples["M"].id, "mother", "female", "unaffected"),
                MemberSpec(samples["F"].id, "father", "male", "unaffected"),
                MemberSpec(samples["S"].id, role, "female", affected),
            ), with_family=False),
        )  # fmt: skip
        return await _run(container, view.analysis.id, mode)

    with_sister, free = expected(mode, records), _unconstrained(mode, records)
    assert with_sister < free  # the sister's calls matter in this family
    result, got = await run_with("sibling", "unaffected")
    assert got == with_sister and result.notes == []
    # the same person as an unrelated member ("other"): not a sibling, not used
    result, got = await run_with("other", "unaffected")
    assert got == free and result.notes == []
    # a sibling whose status is unknown: not used, and the result says so
    result, got = await run_with("sibling", "unknown")
    assert got == free
    assert len(result.notes) == 1 and "S (sibling): affected status unknown" in result.notes[0]


def _unconstrained(mode: str, records: list[dict]) -> set:
    """The trio's result without the sister (her calls replaced by missing ones)."""
    blind = [{**r, "gt": {**r["gt"], "S": "./."}} for r in records]
    return expected(mode, blind)


QUARTET_VCF = SHARED / "opencga__quartet.variants.annotated.partial.vcf.gz"
QUARTET_PED = SHARED / "exomiser__Pfeiffer-quartet.ped"


@pytest.mark.skipif(not QUARTET_PED.exists(), reason="../shared/data is absent")
async def test_compound_het_pairs_with_a_sibling_are_made_once_per_query(container):
    # Right after an import (before autovacuum's statistics), a quartet's count per gene ran
    # over 60 s on PostgreSQL 18: the pairing subquery, written four times, was planned as a
    # nested loop that ran it again for every candidate. It is now one CTE, made once.
    from sqlalchemy import event

    from regovar.domain.analyses import CreateAnalysis

    project = await new_project(container, "quartet")
    job = await import_file(container, QUARTET_VCF, ped=QUARTET_PED, project=project)
    assert job.state == "done", job.error_message
    samples = await samples_of(container, job)
    view = await container.analyses.create(
        SYSTEM, CreateAnalysis(project.id, "q", (MemberSpec(samples["ISDBM322017"].id),)))
    assert {m.role for m in view.members} >= {"proband", "mother", "father", "sibling"}
    statements: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if "comphet_" in statement:
            statements.append((statement, parameters))

    event.listen(container.engine.sync_engine, "before_cursor_execute", grab)
    try:
        result = await container.analyses.results(
            SYSTEM, view.analysis.id, {"version": 1, "filter": {"inheritance":
                                                                "compound_heterozygous"}},
            gene_counts=True, limit=5)  # fmt: skip
    finally:
        event.remove(container.engine.sync_engine, "before_cursor_execute", grab)
    assert result.page.total == 770 and len(result.genes) == 121
    assert result.genes[0] == ("HLA-DPA1", 66)
    async with container.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        for statement, parameters in statements:
            plan = "\n".join(r[0] for r in await raw.fetch("EXPLAIN " + statement, *parameters))
            assert plan.count("CTE Scan on comphet_") == 2, plan  # one pairing join

"""In-house frequency: carriers of a variant among the database's other samples."""

from __future__ import annotations

import random
import uuid

from regovar.domain.analyses import CreateAnalysis, MemberSpec
from regovar.domain.principal import SYSTEM
from tests.helpers import import_file, new_project, samples_of

HEADER = """##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=chr1,length=248956422>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
"""


def _vcf(folder, names: list[str], records: list[tuple[int, list[str]]]):
    path = folder / f"in-house-{uuid.uuid4().hex[:8]}.vcf"
    lines = [HEADER, "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
             + "\t".join(names) + "\n"]  # fmt: skip
    lines += [f"chr1\t{pos}\t.\tA\tG\t50\tPASS\t.\tGT\t" + "\t".join(gts) + "\n"
              for pos, gts in records]  # fmt: skip
    path.write_text("".join(lines))
    return path


async def test_counts_other_samples_across_projects_and_updates_with_imports(
    container, import_dir
):
    base = random.Random(uuid.uuid4().int).randrange(10_000_000, 200_000_000)
    shared, private = base, base + 100  # the first variant is also seen elsewhere
    family = _vcf(import_dir, ["P", "M", "F"], [
        (shared, ["0/1", "0/1", "0/0"]),
        (private, ["0/1", "0/0", "0/0"]),
    ])  # fmt: skip
    job = await import_file(container, family)
    samples = await samples_of(container, job)
    view = await container.analyses.create(
        SYSTEM, CreateAnalysis(job.project_id, "family",
                               tuple(MemberSpec(samples[n].id) for n in "PMF"))
    )

    async def positions(op: str, value: int, scope: str = "database") -> set[int]:
        document = {"version": 1, "filter": {"in_house": {"op": op, "value": value,
                                                          "scope": scope}}}  # fmt: skip
        result = await container.analyses.results(SYSTEM, view.analysis.id, document)
        return {r.pos for r in result.page.items}

    # only the family itself carries both variants: no other sample of the database does
    assert await positions("eq", 0) == {shared, private}
    others = _vcf(import_dir, ["X1", "X2", "X3"], [(shared, ["0/1", "1/1", "./."])])
    await import_file(container, others, project=await new_project(container, "others"))
    assert await positions("eq", 0) == {private}
    assert await positions("eq", 2) == {shared}  # X1 and X2; the missing X3 is not a carrier
    assert await positions("le", 1) == {private}
    # by project: the other project's samples do not count; a second file of this one does
    assert await positions("eq", 0, "project") == {shared, private}
    cousin = _vcf(import_dir, ["C1"], [(private, ["1/1"])])
    project = await container.projects.get(SYSTEM, job.project_id)
    await import_file(container, cousin, project=project)
    assert await positions("eq", 0, "project") == {shared}
    assert await positions("eq", 1, "project") == {private}
    assert await positions("eq", 1) == {private}  # the database: C1, and X1 X2 for the other

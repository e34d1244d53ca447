"""Small helpers shared by the integration tests (real PostgreSQL, real files)."""

from __future__ import annotations

import uuid
from pathlib import Path

from regovar.bootstrap import Container
from regovar.domain import variant_filter as vf
from regovar.domain.imports import StartImport
from regovar.domain.principal import SYSTEM
from regovar.domain.projects import CreateProject
from regovar.domain.variants import VariantRow
from regovar.models import Import, Project, Sample

ROOT = Path(__file__).resolve().parents[1]
DEMO_VCF = ROOT / "regovar" / "data" / "ashk-trio.vcf.gz"
DEMO_PED = ROOT / "regovar" / "data" / "ashk-trio.ped"
EDGE = ROOT / "tests" / "data" / "vcf" / "edgecases"


async def new_project(c: Container, prefix: str = "p") -> Project:
    return await c.projects.create(SYSTEM, CreateProject(f"{prefix}-{uuid.uuid4().hex[:8]}"))


async def import_file(
    c: Container,
    path: Path,
    *,
    ped: Path | None = None,
    assembly: str | None = None,
    project: Project | None = None,
) -> Import:
    """Imports in place, as `regovar import` does; returns the final job row."""
    project = project or await new_project(c)
    started = await c.imports.start(
        SYSTEM, StartImport(project.id, str(path), str(ped) if ped else None, assembly), queue=False
    )
    try:
        return await c.imports.run(SYSTEM, started.job.id)
    except Exception:
        return await c.imports.get(SYSTEM, started.job.id)


async def samples_of(c: Container, job: Import) -> dict[str, Sample]:
    page = await c.variants.samples(SYSTEM, import_id=job.id, limit=1000)
    return {s.name: s for s in page.items}


async def rows(
    c: Container,
    job: Import,
    node: vf.Node | None = None,
    *,
    names: list[str] | None = None,
    limit: int = 1000,
) -> tuple[list[VariantRow], dict[str, int]]:
    samples = await samples_of(c, job)
    chosen = names or sorted(samples, key=lambda n: samples[n].column)
    ids = tuple(samples[n].id for n in chosen)
    page = await c.variants.query(SYSTEM, vf.VariantQuery(ids, node, limit=limit))
    return page.items, {n: samples[n].id for n in chosen}


def by_locus(items: list[VariantRow]) -> dict[str, VariantRow]:
    return {f"{r.chrom}:{r.pos}:{r.ref}>{r.alt}": r for r in items}


def trio_copies(copies: int, out: Path) -> Path:
    """A larger trio made of the demo trio's real records, placed on other chromosomes."""
    import gzip

    with gzip.open(DEMO_VCF, "rt") as fh:
        lines = fh.read().splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#")]
    records = [line.split("\t", 2) for line in lines if not line.startswith("#")]
    with out.open("w") as fh:
        fh.writelines(header)
        for k in range(copies):
            chrom = str(k % 22 + 1)
            for _, pos, rest in records:
                fh.write(f"{chrom}\t{int(pos) + k // 22 * 7}\t{rest}")
    return out


PASSWORD = "correct horse battery"


async def new_user(c: Container, prefix: str = "u", *, admin: bool = False):
    """A user with the test password; returns the User."""
    from regovar.domain.users import CreateUser

    login = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return await c.users.create(
        SYSTEM, CreateUser(login, PASSWORD, f"{login}@lab.example", is_admin=admin)
    )


async def signed_in(c: Container, prefix: str = "u", *, admin: bool = False) -> tuple[str, str]:
    """A new user signed in: (login, bearer token)."""
    from regovar.domain.users import SignIn

    user = await new_user(c, prefix, admin=admin)
    signed = await c.users.sign_in(SignIn(user.login, PASSWORD, "test"))
    return user.login, signed.token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

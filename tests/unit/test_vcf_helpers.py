"""Shared helpers for the VCF reader tests (imported by the other test_vcf_* modules)."""

from __future__ import annotations

import gzip
from pathlib import Path

from regovar.adapters.vcf import CallRow, VcfReader, open_vcf

DATA = Path(__file__).resolve().parents[1] / "data" / "vcf"
EDGE = DATA / "edgecases"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"

HEADER = """##fileformat=VCFv4.2
##contig=<ID=1,length=249250621>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth">
##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="Genotype quality">
##FORMAT=<ID=PL,Number=G,Type=Integer,Description="Likelihoods">
"""


def read(path: Path | str, **kwargs: object) -> tuple[VcfReader, list[CallRow]]:
    """All rows of a file, with the reader (for its header and warnings)."""
    with open_vcf(path, **kwargs) as reader:  # type: ignore[arg-type]
        return reader, list(reader.rows())


def write_vcf(tmp_path: Path, body: str, *, name: str = "t.vcf", header: str = HEADER,
              samples: tuple[str, ...] = ("S1", "S2", "S3"), compress: bool = False) -> Path:
    """A VCF made of ``header``, a #CHROM line for ``samples`` and ``body``."""
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"
    if samples:
        columns += "\tFORMAT\t" + "\t".join(samples)
    data = (header + columns + "\n" + body).encode()
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def tabs(*lines: str) -> str:
    """Record lines written with single spaces between columns, turned into TAB-separated."""
    return "".join(line.replace(" ", "\t") + "\n" for line in lines)


def vaf3(values: list[float | None]) -> list[float | None]:
    return [None if v is None else round(v, 3) for v in values]

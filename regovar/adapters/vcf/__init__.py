"""Streaming VCF/BCF reader that yields normalised, per-ALT rows ready for bulk loading."""

from regovar.adapters.vcf.model import (
    Annotation,
    CallRow,
    FieldDef,
    ImportWarnings,
    VcfHeader,
    VcfMalformed,
    Zygosity,
)
from regovar.adapters.vcf.reader import VcfReader, open_vcf

__all__ = [
    "Annotation",
    "CallRow",
    "FieldDef",
    "ImportWarnings",
    "VcfHeader",
    "VcfMalformed",
    "VcfReader",
    "Zygosity",
    "open_vcf",
]

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

__all__ = ["Annotation", "CallRow", "FieldDef", "ImportWarnings", "VcfHeader", "VcfMalformed", "Zygosity"]

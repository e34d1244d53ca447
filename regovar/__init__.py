"""Regovar: variant-analysis server for hospital genetics laboratories."""

__version__ = "0.1.0"

"""The variant store, as Core tables: read by set-based SQL, written by COPY.

``calls`` holds one row per (import, variant) with typed arrays of per-sample values, in the
order of the import's sample columns. It is LIST-partitioned by import: an import loads its
partition off-line and attaches it in its final transaction (all-or-nothing visibility), an
analysis reads only the partitions of its samples, and deleting an import drops a table.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    SmallInteger,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, REAL

from regovar.models.entities import Base

calls = Table(
    "calls",
    Base.metadata,
    Column("import_id", Integer, nullable=False),
    Column("variant_id", BigInteger, nullable=False),
    Column("line", Integer, nullable=False),
    Column("alt_index", SmallInteger, nullable=False),
    Column("qual", REAL),
    Column("filters", ARRAY(Text)),
    Column("info", JSONB),
    Column("ac", Integer),
    Column("an", Integer),
    Column("gt", ARRAY(Text)),
    Column("zyg", ARRAY(SmallInteger)),
    Column("ps", ARRAY(Integer)),
    Column("dp", ARRAY(Integer)),
    Column("ad_ref", ARRAY(Integer)),
    Column("ad_alt", ARRAY(Integer)),
    Column("gq", ARRAY(Integer)),
    Column("vaf", ARRAY(REAL)),
    info={"partitioned": True},
)

variant_annotations = Table(
    "variant_annotations",
    Base.metadata,
    Column("release_id", Integer, primary_key=True),
    Column("variant_id", BigInteger, primary_key=True),
    Column("genes", ARRAY(Text), nullable=False),
    Column("consequences", ARRAY(Text), nullable=False),
    Column("worst_consequence", Text),
    Column("worst_impact", SmallInteger),  # 0 MODIFIER, 1 LOW, 2 MODERATE, 3 HIGH
)

transcript_annotations = Table(
    "transcript_annotations",
    Base.metadata,
    Column("release_id", Integer, primary_key=True),
    Column("variant_id", BigInteger, primary_key=True),
    Column("ordinal", Integer, primary_key=True),
    Column("source", Text, nullable=False),
    Column("gene", Text),
    Column("gene_id", Text),
    Column("feature", Text),
    Column("biotype", Text),
    Column("consequences", ARRAY(Text), nullable=False),
    Column("impact", SmallInteger),
    Column("hgvsc", Text),
    Column("hgvsp", Text),
    Column("warnings", ARRAY(Text)),
    Column("extra", JSONB),
)

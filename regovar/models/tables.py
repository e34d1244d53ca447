"""The variant store, as Core tables: read by set-based SQL, written by COPY.

``calls`` holds one row per (import, variant) with typed arrays of per-sample values, in the
order of the import's sample columns, the variant's locus (so that a query filters and sorts
by position without a join) and the file's annotations of the variant. It is LIST-partitioned
by import: an import loads its partition off-line and attaches it in its final transaction
(all-or-nothing visibility), an analysis reads only the partitions of its samples, and deleting
an import drops a table.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Integer,
    LargeBinary,
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
    Column("vkey", LargeBinary, nullable=False),
    Column("line", Integer, nullable=False),
    Column("alt_index", Integer, nullable=False),
    Column("chrom_rank", SmallInteger, nullable=False),
    Column("chrom", Text, nullable=False),
    Column("pos", Integer, nullable=False),
    Column("end_pos", Integer, nullable=False),
    Column("ref", Text, nullable=False),
    Column("alt", Text, nullable=False),
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
    Column("ft", ARRAY(Text)),  # per-sample FILTER (FORMAT FT) as written; NULL without FT
    # The file's annotations of this variant (NULL when it has none), the columns filters use;
    # the per-transcript entries are in call_transcripts.
    Column("genes", ARRAY(Text)),
    Column("consequences", ARRAY(Text)),
    Column("worst_consequence", Text),
    Column("worst_impact", SmallInteger),  # 0 MODIFIER, 1 LOW, 2 MODERATE, 3 HIGH
    info={"partitioned": True},
)

# Per-transcript annotations of an import's annotated variants, partitioned like calls: a list
# of objects (source, gene, feature, consequences, impact, hgvsc, hgvsp...). Kept out of the
# calls rows, which every query scans: they would make those rows twice as wide. json, not
# jsonb: written once and read whole (migration 0011).
call_transcripts = Table(
    "call_transcripts",
    Base.metadata,
    Column("import_id", Integer, nullable=False),
    Column("vkey", LargeBinary, nullable=False),
    Column("line", Integer, nullable=False),
    Column("alt_index", Integer, nullable=False),
    Column("transcripts", JSON, nullable=False),
    info={"partitioned": True},
)

"""The one place where a variant filter tree becomes SQL: whitelisted fields, bound values.

Every query starts from the calls partitions of the queried samples' imports, so its cost
depends on those imports only, never on the size of the whole database.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    and_,
    case,
    cast,
    column,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    text,
    true,
    union,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, JSONPATH, REAL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select
from sqlalchemy.types import SmallInteger, Text

from regovar.models import Import, Variant, call_transcripts, calls
from regovar.models import variant_filter as vf
from regovar.repositories.notes import classified_as, latest_of
from regovar.repositories.variant_store import chrom_rank

_IMPACT = {name: i for i, name in enumerate(vf.IMPACTS)}
QUERY_TIMEOUT_MS = 60_000
_OPS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}
_JSONPATH_OPS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
SAMPLE_COLUMNS = ("gt", "zyg", "ps", "dp", "gq", "ad_ref", "ad_alt", "vaf", "ft")
_CHROMOSOME_RANK = {"X": 23, "Y": 24, "MT": 25}
_HET = vf.ZYGOSITY_CODES["het"]  # het, and het with another ALT
_NON_CARRIER = vf.ZYGOSITY_CODES["non_carrier"]
_CARRIER = vf.ZYGOSITY_CODES["carrier"]
# A number written as text, bounded so that its cast to a double cannot fail (1e400 would)
_NUMBER = r"^\s*[-+]?([0-9]{1,30}\.?[0-9]{0,30}|\.[0-9]{1,30})([eE][-+]?[0-9]{1,2})?\s*$"


@dataclass(frozen=True)
class Placement:
    """Where a sample's values live: its import's partition and its array position (0-based)."""

    import_id: int
    column: int


def _real(value: float) -> ColumnElement[Any]:
    """A value compared with a 4-byte float column, as one: the file's QUAL 18253.01 is stored
    as 18253.0098, which a double 18253.01 exceeds (>= 18253.01 missed it)."""
    return cast(literal(value), REAL)


class _Compiler:
    def __init__(self, placements: dict[int, Placement], prefix: str = "c") -> None:
        self.placements = placements
        self.prefix = prefix
        self.pairs: Select[Any] | None = None  # set by a compound heterozygous condition
        imports = list(dict.fromkeys(p.import_id for p in placements.values()))
        self.imports = imports
        self.aliases = {imp: calls.alias(f"{prefix}{n}") for n, imp in enumerate(imports)}
        self.base = self.aliases[imports[0]]

    def sample_value(self, sample_id: int, column: str) -> ColumnElement[Any]:
        place = self.placements[sample_id]
        return self.aliases[place.import_id].c[column][place.column + 1]

    def from_clause(self, select_stmt: Select[Any]) -> Select[Any]:
        c0 = self.base
        if len(self.imports) == 1:
            stmt = select_stmt.select_from(c0).where(c0.c.import_id == self.imports[0])
        else:
            ids = self.union
            joined: Any = ids
            for imp, alias in self.aliases.items():
                joined = joined.outerjoin(
                    alias, and_(alias.c.import_id == imp, alias.c.vkey == ids.c.vkey)
                )
            stmt = select_stmt.select_from(joined)
        return stmt

    @property
    def locus(self) -> Any:
        """Where the variant's position is read: the import's own rows, or their union."""
        return self.base if len(self.imports) == 1 else self.union

    @functools.cached_property
    def union(self) -> Any:
        """Every variant of the queried imports once, with its locus (the same in every row)."""
        c = calls.c
        return (
            select(
                c.vkey,
                *(func.min(col).label(col.name) for col in
                  (c.chrom_rank, c.chrom, c.pos, c.end_pos, c.ref, c.alt)),
            )
            .where(c.import_id.in_(self.imports))
            .group_by(c.vkey)
            .subquery(f"{self.prefix}ids")
        )  # fmt: skip

    def info_column(self) -> ColumnElement[Any]:
        if len(self.imports) == 1:
            return self.base.c.info
        return func.coalesce(*(a.c.info for a in self.aliases.values()))

    def record_column(self, name: str) -> ColumnElement[Any]:
        if len(self.imports) == 1:
            return self.base.c[name]
        return func.coalesce(*(a.c[name] for a in self.aliases.values()))

    def compile(self, node: vf.Node | None) -> ColumnElement[bool]:
        if node is None:
            return true()
        if isinstance(node, vf.And):
            return and_(true(), *(self.compile(c) for c in node.children))
        if isinstance(node, vf.Or):
            return or_(false(), *(self.compile(c) for c in node.children))
        if isinstance(node, vf.Not):
            return not_(func.coalesce(self.compile(node.child), false()))
        return self._leaf(node)

    def _leaf(self, node: vf.Node) -> ColumnElement[bool]:
        if isinstance(node, vf.Genotype):
            return self._genotype(node)
        if isinstance(node, vf.SampleValue):
            value = _real(node.value) if node.field == "vaf" else node.value
            return _OPS[node.op](self.sample_value(node.sample_id, node.field), value)
        if isinstance(node, vf.Region):
            return self._region(node)
        if isinstance(node, vf.Genes | vf.Consequences | vf.MinImpact):
            return self._annotation(node)
        if isinstance(node, vf.Qual):
            return _OPS[node.op](self.record_column("qual"), _real(node.value))
        if isinstance(node, vf.Filters):
            return self._filters(node)
        if isinstance(node, vf.Info):
            return self._info(node)
        if isinstance(node, vf.Chromosome):
            rank = self.locus.c.chrom_rank
            return rank <= 22 if node.kind == "autosome" else rank == _CHROMOSOME_RANK[node.kind]
        if isinstance(node, vf.VariantType):
            return self._variant_type(node)
        if isinstance(node, vf.Alleles):
            v = self.locus
            tests = [v.c.ref == node.ref] if node.ref else []
            tests += [v.c.alt == node.alt] if node.alt else []
            return and_(true(), *tests)
        if isinstance(node, vf.VariantKey):
            return self.locus.c.vkey.in_(list(node.keys))
        if isinstance(node, vf.SampleFilter):
            return self._sample_filter(node)
        if isinstance(node, vf.Hgvs):
            return self._transcript_has(
                lambda e: or_(
                    func.strpos(func.coalesce(e["hgvsc"].astext, ""), node.text) > 0,
                    func.strpos(func.coalesce(e["hgvsp"].astext, ""), node.text) > 0,
                )
            )
        if isinstance(node, vf.AnnotationField):
            return self._transcript_has(lambda e: self._field_test(e, node))
        if isinstance(node, vf.InHouse):
            return _OPS[node.op](self._in_house(node.imports), node.value)
        if isinstance(node, vf.Selected):
            chosen = self.locus.c.vkey.in_(latest_of(node.analysis_id, ("select", "unselect")))
            return chosen if node.selected else not_(chosen)
        if isinstance(node, vf.Tagged):
            return self.locus.c.vkey.in_(latest_of(node.analysis_id, ("tag", "untag"), node.tag))
        if isinstance(node, vf.Classified):
            return self.locus.c.vkey.in_(classified_as(node.classes))
        if isinstance(node, vf.CompoundHet):
            return self._compound_het(node)
        raise TypeError(f"unknown filter node {node!r}")

    def _transcript_has(self, test: Any) -> ColumnElement[bool]:
        """Some transcript annotation of the variant (in the queried imports) passes ``test``."""
        t = call_transcripts.alias(f"{self.prefix}t")
        # Stored as json (written once, read whole): converted for the rows this filter reads.
        element = func.jsonb_array_elements(cast(t.c.transcripts, JSONB)).table_valued(
            column("value", JSONB), name=f"{self.prefix}e"
        )
        e = element.c.value
        return (
            select(literal(1))
            .select_from(t.join(element, true()))
            .where(t.c.import_id.in_(self.imports), t.c.vkey == self.locus.c.vkey, test(e))
            .exists()
        )

    def _field_test(self, e: Any, node: vf.AnnotationField) -> ColumnElement[bool]:
        raw = func.coalesce(e[node.name].astext, e["extra"][node.name].astext)
        if isinstance(node.value, str) and node.name in ("consequences", "warnings"):  # lists
            held = e[node.name].has_key(node.value)
            return func.coalesce(held if node.op == "eq" else not_(held), false())
        if isinstance(node.value, str):
            # in any case ('fbn1', 'modifier'), and an element of a VEP '&' list
            # ('benign' in likely_benign&benign&uncertain_significance)
            have, want = func.lower(raw), func.lower(literal(node.value))
            equal = or_(have == want,
                        func.strpos(literal("&") + have + literal("&"),
                                    literal("&") + want + literal("&")) > 0)  # fmt: skip
            return func.coalesce(equal if node.op == "eq" else not_(equal), false())
        number = case((raw.op("~")(_NUMBER), cast(raw, Float)), else_=None)
        return func.coalesce(_OPS[node.op](number, float(node.value)), false())

    def _in_house(self, imports: tuple[int, ...] | None) -> ColumnElement[Any]:
        """Carriers in the whole database (the catalogue's count), or in these imports (their
        partitions, probed by key), minus the queried samples'."""
        if imports is None:
            v = Variant.__table__.c
            everywhere = select(v.carriers).where(v.vkey == self.locus.c.vkey).scalar_subquery()
        else:
            c = calls.alias(f"{self.prefix}ih")
            # carriers of a row: how many array positions hold each carrier code
            per_row = sum(
                (func.cardinality(func.array_positions(c.c.zyg, literal(code, SmallInteger)))
                 for code in _CARRIER),
                literal(0),
            )  # fmt: skip
            everywhere = (
                select(func.sum(per_row))
                .where(c.c.import_id.in_(imports or (-1,)), c.c.vkey == self.locus.c.vkey)
                .scalar_subquery()
            )
        ours = [
            case((self.sample_value(sid, "zyg").in_(_CARRIER), 1), else_=0)
            for sid in self.placements
        ]
        return func.coalesce(everywhere, 0) - sum(ours, literal(0))

    def _sample_filter(self, node: vf.SampleFilter) -> ColumnElement[bool]:
        ft = self.sample_value(node.sample_id, "ft")  # as written: "PASS", "q10;s50"
        tests = _filter_tests(func.string_to_array(ft, ";", type_=ARRAY(Text)), node)
        return func.coalesce(or_(false(), *tests), false())

    def _variant_type(self, node: vf.VariantType) -> ColumnElement[bool]:
        v = self.locus
        symbolic = or_(v.c.alt.startswith("<"), v.c.alt.contains("["), v.c.alt.contains("]"))
        ref_len, alt_len = func.length(v.c.ref), func.length(v.c.alt)
        change = func.abs(ref_len - alt_len)
        tests = {
            "snv": and_(ref_len == 1, alt_len == 1, not_(symbolic)),
            "mnv": and_(ref_len == alt_len, ref_len > 1, not_(symbolic)),
            "indel": and_(ref_len != alt_len, change < vf.SV_MIN_LENGTH, not_(symbolic)),
            "sv": or_(symbolic, change >= vf.SV_MIN_LENGTH),
        }
        return or_(false(), *(tests[t] for t in node.types))

    def _compound_het(self, node: vf.CompoundHet) -> ColumnElement[bool]:
        """Variants of genes where the proband has a qualifying pair (see vf.CompoundHet):
        the candidates are read once (a CTE), grouped by gene, and filtered by origin."""
        inner = _Compiler(self.placements, prefix=f"h{len(self.prefix)}")
        zyg = functools.partial(inner.sample_value, column="zyg")
        het = zyg(node.proband).in_(_HET)

        def carrier(sid: int) -> ColumnElement[bool]:
            return zyg(sid).in_(_HET)

        def non_carrier(sid: int) -> ColumnElement[bool]:
            return zyg(sid).in_(_NON_CARRIER)

        mother, father = node.mother, node.father
        wanted: tuple[str, ...]
        if mother is not None and father is not None:
            origin: Any = case(
                (and_(carrier(mother), non_carrier(father)), "M"),
                (and_(carrier(father), non_carrier(mother)), "P"),
            )
            wanted = ("M", "P")
        elif mother is not None or father is not None:
            parent = mother if mother is not None else father
            assert parent is not None
            origin = case((carrier(parent), "M"), (non_carrier(parent), "P"))
            wanted = ("M", "P")
        else:
            origin = literal("S")
            wanted = ()
        gt, ps = inner.sample_value(node.proband, "gt"), inner.sample_value(node.proband, "ps")
        haplotype = case(
            (and_(gt == "0|1", ps.is_not(None)), func.concat("a", ps)),
            (and_(gt == "1|0", ps.is_not(None)), func.concat("b", ps)),
        )
        genes = inner.record_column("genes")
        # Per unaffected sibling: whether it has a called copy of the variant.
        siblings = [
            func.coalesce(zyg(sid).in_(_CARRIER), false()).label(f"sib{i}")
            for i, sid in enumerate(node.unaffected)
        ]
        cand_stmt = select(
            inner.locus.c.vkey.label("vkey"),
            func.unnest(genes).label("gene"),
            origin.label("origin"),
            haplotype.label("hap"),
            *siblings,
        )
        where = inner.from_clause(cand_stmt).where(
            and_(het, genes.is_not(None), inner.compile(node.candidates))
        )
        if node.unaffected:
            return self._compound_het_pairs(where.cte(f"comphet_{self.prefix}"), node, wanted)
        cand = where.subquery(f"comphet_{self.prefix}")
        # One pass over the candidates, each gene's verdict from window aggregates (a join of
        # the candidates with their genes' verdicts is planned from poor row estimates).
        gene = cand.c.gene
        if wanted:
            verdict = and_(
                *(func.bool_or(cand.c.origin == o).over(partition_by=gene) for o in wanted),
                cand.c.origin.in_(wanted),
            )
        else:
            n = func.count().over(partition_by=gene)
            one_haplotype = and_(
                n == func.count(cand.c.hap).over(partition_by=gene),
                func.min(cand.c.hap).over(partition_by=gene)
                == func.max(cand.c.hap).over(partition_by=gene),
            )
            verdict = and_(n >= 2, not_(one_haplotype))
        judged = select(cand.c.vkey, cand.c.gene, verdict.label("kept")).subquery(
            f"judged_{self.prefix}"
        )
        keep = select(judged.c.vkey).where(judged.c.kept)
        # The genes in which the variants pair up (a variant also lies in the other genes it
        # overlaps): what a count per gene of this mode counts.
        self.pairs = select(judged.c.vkey, judged.c.gene).where(judged.c.kept)
        return self.locus.c.vkey.in_(keep)

    def _compound_het_pairs(
        self, cand: Any, node: vf.CompoundHet, wanted: tuple[str, ...]
    ) -> ColumnElement[bool]:
        """The compound heterozygous mode with unaffected siblings, one pair at a time: a pair
        counts unless a sibling carries both of its variants (genes hold a few candidates: the
        pairs of one gene are few)."""
        a, b = cand.alias(f"ca_{self.prefix}"), cand.alias(f"cb_{self.prefix}")
        if wanted:  # one variant from each parent (or: the one parent has one, not the other)
            paired = and_(a.c.origin == wanted[0], b.c.origin == wanted[1])
        else:  # any two, unless read-backed phase puts both on one haplotype
            paired = and_(a.c.vkey < b.c.vkey,
                          not_(and_(a.c.hap.is_not(None), a.c.hap == b.c.hap)))  # fmt: skip
        shared = or_(false(), *(and_(a.c[f"sib{i}"], b.c[f"sib{i}"])
                                for i in range(len(node.unaffected))))  # fmt: skip
        good = (
            select(a.c.vkey.label("va"), b.c.vkey.label("vb"), a.c.gene.label("gene"))
            .select_from(a.join(b, a.c.gene == b.c.gene))
            .where(paired, not_(shared))
            # A CTE, computed once: as a subquery, a plan from a poor row estimate ran the
            # pairing again for every candidate (a quartet's count per gene: over 60 s).
            .cte(f"pairs_{self.prefix}")
        )
        members = union(
            select(good.c.va.label("vkey"), good.c.gene), select(good.c.vb, good.c.gene)
        ).subquery(f"paired_{self.prefix}")
        self.pairs = select(members.c.vkey, members.c.gene)
        return self.locus.c.vkey.in_(select(members.c.vkey))

    def _genotype(self, node: vf.Genotype) -> ColumnElement[bool]:
        codes = sorted({c for z in node.zygosity for c in vf.ZYGOSITY_CODES[z]})
        value = self.sample_value(node.sample_id, "zyg")
        test: ColumnElement[bool] = value.in_(codes)
        if 9 in codes:  # absent from another import's file: no call there
            test = or_(test, value.is_(None))
        return test

    def _region(self, node: vf.Region) -> ColumnElement[bool]:
        v = self.locus
        # Either convention's name ('20' or 'chr20'): the calls hold their assembly's.
        names = spellings(node.chrom)
        parts = [v.c.chrom_rank == chrom_rank(names[-1]), self._contig(node.chrom, names)]
        if node.end is not None:
            parts.append(v.c.pos <= node.end)
        if node.start is not None:
            parts.append(v.c.end_pos >= node.start)
        return and_(*parts)

    def _contig(self, asked: str, names: list[str]) -> ColumnElement[bool]:
        """The stored names of the contig asked for. The mitochondrion is the exception to
        "either convention": GRCh37's MT and GRCh38's chrM are the rCRS, but a GRCh37 import's
        chrM is hg19's, another sequence (kept as written, see docs/import.md). 'MT' (or 'M')
        finds chrM only in GRCh38 imports; 'chrM' finds what is stored as chrM."""
        chrom = self.locus.c.chrom
        if names[-1] != "chrM":
            return chrom.in_(names)
        if asked.lower() == "chrm":
            return chrom == "chrM"
        grch38 = (
            select(func.bool_or(Import.assembly == "GRCh38"))
            .where(Import.id.in_(self.imports))
            .scalar_subquery()
        )
        rcrs = [n for n in names if n != "chrM"]
        return or_(chrom.in_(rcrs), and_(chrom == "chrM", func.coalesce(grch38, false())))

    def _annotation(self, node: vf.Genes | vf.Consequences | vf.MinImpact) -> ColumnElement[bool]:
        if isinstance(node, vf.Genes):
            spellings = list(vf.gene_spellings(node.symbols))
            return self.record_column("genes").overlap(cast(spellings, ARRAY(Text)))
        if isinstance(node, vf.Consequences):
            terms = cast(list(node.terms), ARRAY(Text))
            return self.record_column("consequences").overlap(terms)
        return self.record_column("worst_impact") >= _IMPACT[node.impact]

    def _filters(self, node: vf.Filters) -> ColumnElement[bool]:
        tests = _filter_tests(self.record_column("filters"), node)
        if not tests:  # neither PASS nor named filters asked: no condition on FILTER
            return true()
        return or_(false(), *tests)

    def _info(self, node: vf.Info) -> ColumnElement[bool]:
        info = self.info_column()
        if node.op == "exists":
            return info.has_key(node.name)
        field = info[node.name]
        if isinstance(node.value, bool):  # a flag: absent is false
            kind_of = func.jsonb_typeof(field)
            true_ = func.coalesce(and_(kind_of == "boolean", field.as_boolean()), false())
            wanted = node.value == (node.op == "eq")
            return true_ if wanted else not_(true_)
        kind_of = func.jsonb_typeof(field)
        # '!=' is "no value equals": a list [Pathogenic, Likely_pathogenic] is not != Pathogenic
        op = "eq" if node.op == "ne" else node.op
        value = cast(literal(node.value), _json_type(node.value))
        if isinstance(node.value, int | float):
            # numbers also where a field declared String holds them (SCORE=5, CADD as text)
            text_ = field.as_string()
            as_number = case((text_.op("~")(_NUMBER), cast(text_, Float)), else_=None)
            branches = [(kind_of == "number", _OPS[op](field.as_float(), float(node.value))),
                        (kind_of == "string", _OPS[op](as_number, float(node.value)))]  # fmt: skip
            test = f'@ {_JSONPATH_OPS[op]} $v || (@.type() == "string" && @.double() ' \
                   f'{_JSONPATH_OPS[op]} $v)'  # fmt: skip
        else:
            branches = [(kind_of == "string", _OPS[op](field.as_string(), str(node.value)))]
            test = f"@ {_JSONPATH_OPS[op]} $v"
        # Scalars compare directly; lists (Number=. fields) match when any element does
        # (a text that is no number is skipped, silently: the path's errors are suppressed).
        in_list = func.jsonb_path_exists(
            info, cast(literal(f'$."{node.name}"[*] ? ({test})'), JSONPATH),
            func.jsonb_build_object("v", value), true(),
        )  # fmt: skip
        matched = func.coalesce(case(*branches, (kind_of == "array", in_list), else_=false()),
                                false())  # fmt: skip
        return not_(matched) if node.op == "ne" else matched


def spellings(chrom: str) -> list[str]:
    """The names a contig has in either convention: GRCh37's '20' and 'MT', GRCh38's 'chr20'
    and 'chrM' (and hg19's 'chrM'); 'x' and 'CHRX' are 'X'. The 'chr' form comes last."""
    bare = chrom[3:] if chrom[:3].lower() == "chr" else chrom
    if bare.upper() in ("X", "Y", "M", "MT"):
        bare = bare.upper()
    names = {chrom, bare}
    if bare in ("M", "MT"):
        names |= {"MT", "M", "chrMT"}
        bare = "M"
    return [*sorted(names - {f"chr{bare}"}), f"chr{bare}"]


def _filter_tests(names: Any, node: vf.Filters | vf.SampleFilter) -> list[ColumnElement[bool]]:
    """The tests of a FILTER condition on an array of filter names (NULL: missing)."""
    tests: list[ColumnElement[bool]] = []
    if node.pass_only:
        tests.append(names == cast(["PASS"], ARRAY(Text)))
        if node.missing_is_pass:
            tests.append(names.is_(None))
    if node.any_of:
        tests.append(names.overlap(cast(list(node.any_of), ARRAY(Text))))
    return tests


def _json_type(value: Any) -> Any:
    if isinstance(value, bool):
        return Boolean
    return Float if isinstance(value, float | int) else Text


@dataclass(frozen=True)
class VariantRowData:
    variant_key: str  # hex of the variant's 16-byte key
    chrom: str
    pos: int
    end: int
    ref: str
    alt: str
    qual: float | None
    filters: list[str] | None
    info: dict[str, Any] | None
    ac: int | None
    an: int | None
    genes: list[str] | None
    consequences: list[str] | None
    worst_consequence: str | None
    worst_impact: int | None
    samples: dict[int, dict[str, Any]]  # sample id -> gt, zyg, dp, gq, ad_ref, ad_alt, vaf, ps


class QueryTimeout(Exception):
    def __init__(self, ms: int) -> None:
        super().__init__(f"the query ran longer than {ms / 1000:.0f} s and was stopped")


class VariantQueryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(
        self,
        query: vf.VariantQuery,
        placements: dict[int, Placement],
    ) -> tuple[list[VariantRowData], int]:
        compiler = _Compiler(placements)
        where = compiler.compile(query.filter)
        # A runaway query must not hold a connection forever; and across imports the row
        # estimates of the union are poor: hash joins are safe, nested loops may not be.
        await self.session.execute(text(f"SET LOCAL statement_timeout = {int(QUERY_TIMEOUT_MS)}"))
        if len(compiler.imports) > 1:
            await self.session.execute(text("SET LOCAL enable_nestloop = off"))
        try:
            return await self._page(compiler, where, query, placements)
        except DBAPIError as exc:
            if type(exc.orig).__name__ == "QueryCanceledError" or "canceling statement" in str(exc):
                raise QueryTimeout(QUERY_TIMEOUT_MS) from exc
            raise

    async def transcripts(self, import_ids: list[int], vkey: bytes) -> list[dict[str, Any]]:
        """The per-transcript annotations of a variant, from the first of these imports that
        has them."""
        t = call_transcripts
        rows = await self.session.execute(
            select(t.c.import_id, t.c.transcripts).where(
                t.c.import_id.in_(import_ids), t.c.vkey == vkey
            )
        )
        found = {imp: value for imp, value in rows.all()}
        return next((found[i] for i in import_ids if i in found), [])

    async def present_info_keys(self, import_ids: list[int], names: list[str]) -> set[str]:
        """Which of these INFO keys some variant of these imports has (undeclared ones too)."""
        found = set()
        for name in names:
            has = select(calls.c.import_id).where(
                calls.c.import_id.in_(import_ids), calls.c.info.has_key(name)).limit(1)
            if (await self.session.execute(has)).first() is not None:
                found.add(name)
        return found

    async def present_consequences(self, import_ids: list[int]) -> set[str]:
        """Every consequence term of these imports' variants, as the files wrote them."""
        term = func.unnest(calls.c.consequences).label("term")
        found = select(term).where(calls.c.import_id.in_(import_ids)).subquery()
        return set((await self.session.execute(select(found.c.term).distinct())).scalars())

    async def gene_counts(
        self, query: vf.VariantQuery, placements: dict[int, Placement], limit: int
    ) -> list[tuple[str, int]]:
        compiler = _Compiler(placements)
        where = compiler.compile(query.filter)
        await self.session.execute(text(f"SET LOCAL statement_timeout = {int(QUERY_TIMEOUT_MS)}"))
        if len(compiler.imports) > 1:
            await self.session.execute(text("SET LOCAL enable_nestloop = off"))
        if compiler.pairs is not None:
            kept = compiler.from_clause(select(compiler.locus.c.vkey)).where(where)
            pairs = compiler.pairs.subquery("p")
            rows = select(pairs.c.gene).where(pairs.c.vkey.in_(kept)).subquery("g")
        else:
            gene = func.unnest(compiler.record_column("genes")).label("gene")
            rows = compiler.from_clause(select(gene)).where(where).subquery("g")
        stmt = (
            select(rows.c.gene, func.count().label("n"))
            .group_by(rows.c.gene)
            .order_by(func.count().desc(), rows.c.gene)
            .limit(limit)
        )
        try:
            result = await self.session.execute(stmt)
        except DBAPIError as exc:
            if type(exc.orig).__name__ == "QueryCanceledError" or "canceling statement" in str(exc):
                raise QueryTimeout(QUERY_TIMEOUT_MS) from exc
            raise
        return [(g, int(n)) for g, n in result.all()]

    async def _page(
        self,
        compiler: _Compiler,
        where: ColumnElement[bool],
        query: vf.VariantQuery,
        placements: dict[int, Placement],
    ) -> tuple[list[VariantRowData], int]:
        if query.limit > 0:
            # One pass: the filtered set is computed once for both the page and the total.
            columns = [*_columns(compiler, query.sample_ids), func.count().over().label("total")]
            stmt = compiler.from_clause(select(*columns)).where(where)
            stmt = stmt.order_by(*_order(compiler, query.sort))
            stmt = stmt.offset(query.offset).limit(query.limit)
            result = (await self.session.execute(stmt)).all()
            if result:
                total = int(result[0]._mapping["total"])
                return [_row(r._mapping, query.sample_ids) for r in result], total
            if query.offset == 0:
                return [], 0
        count_compiler = _Compiler(placements)
        count_where = count_compiler.compile(query.filter)
        count_stmt = count_compiler.from_clause(select(func.count())).where(count_where)
        return [], int(await self.session.scalar(count_stmt) or 0)


def _columns(c: _Compiler, sample_ids: Sequence[int]) -> list[ColumnElement[Any]]:
    v = c.locus
    cols: list[ColumnElement[Any]] = [
        v.c.vkey,
        v.c.chrom,
        v.c.pos,
        v.c.end_pos,
        v.c.ref,
        v.c.alt,
        c.record_column("qual").label("qual"),
        c.record_column("filters").label("filters"),
        c.info_column().label("info"),
        c.record_column("ac").label("ac"),
        c.record_column("an").label("an"),
        *(c.record_column(name).label(name) for name in
          ("genes", "consequences", "worst_consequence", "worst_impact")),
    ]  # fmt: skip
    for sid in sample_ids:
        cols.extend(c.sample_value(sid, col).label(f"s{sid}_{col}") for col in SAMPLE_COLUMNS)
        # which ALT of its file's record this row is, for the sample's GT (1/2 on the row of 2)
        cols.append(c.aliases[c.placements[sid].import_id].c.alt_index.label(f"s{sid}_alt_index"))
    return cols


def _order(c: _Compiler, sort: Sequence[vf.SortKey]) -> list[Any]:
    v = c.locus
    clauses: list[Any] = []
    for key in sort:
        if key.key == "position":
            exprs: list[Any] = [v.c.chrom_rank, v.c.chrom, v.c.pos]
        elif key.key == "qual":
            exprs = [c.record_column("qual")]
        elif key.key == "gene":
            exprs = [c.record_column("genes")[1]]
        elif key.key == "impact":
            exprs = [c.record_column("worst_impact")]
        elif key.key == "consequence":
            exprs = [c.record_column("worst_consequence")]
        elif key.key == "filter":
            exprs = [c.record_column("filters")]
        elif key.key in ("ref", "alt"):
            exprs = [v.c[key.key]]
        elif key.key == "ac":
            exprs = [c.record_column("ac")]
        elif key.key == "zygosity":
            if key.sample_id is None:
                raise ValueError("sorting by zygosity needs a sample")
            exprs = [c.sample_value(key.sample_id, "zyg")]
        else:
            if key.sample_id is None:
                raise ValueError(f"sorting by {key.key} needs a sample")
            exprs = [c.sample_value(key.sample_id, key.key)]
        clauses.extend(
            e.desc().nulls_last() if key.descending else e.asc().nulls_last() for e in exprs
        )
    clauses.extend([v.c.chrom_rank, v.c.chrom, v.c.pos, v.c.ref, v.c.alt])
    return clauses


def _row(m: Any, sample_ids: Sequence[int]) -> VariantRowData:
    return VariantRowData(
        variant_key=m["vkey"].hex(),
        chrom=m["chrom"],
        pos=m["pos"],
        end=m["end_pos"],
        ref=m["ref"],
        alt=m["alt"],
        qual=m["qual"],
        filters=m["filters"],
        info=m["info"],
        ac=m["ac"],
        an=m["an"],
        genes=m["genes"],
        consequences=m["consequences"],
        worst_consequence=m["worst_consequence"],
        worst_impact=m["worst_impact"],
        samples={sid: {col: m[f"s{sid}_{col}"] for col in (*SAMPLE_COLUMNS, "alt_index")}
                 for sid in sample_ids},
    )

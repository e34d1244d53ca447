"""The stable JSON form of an analysis filter (version 1), read into a filter tree.

    {"version": 1, "filter": NODE}

A NODE is one of (``SAMPLE`` is a role of the analysis, ``"proband"``, ``"mother"``,
``"father"``, or a sample id; ``ZYG`` a list of zygosity names or groups):

    {"all": [NODE, ...]}    {"any": [NODE, ...]}    {"not": NODE}
    {"inheritance": "de_novo" | "autosomal_dominant" | "autosomal_recessive" |
                    "compound_heterozygous" | "x_linked_recessive" | "x_linked_dominant" |
                    "mitochondrial"}
    {"genotype": {"sample": SAMPLE, "is": ZYG}}
    {"sample_value": {"sample": SAMPLE, "field": "dp"|"gq"|"vaf"|"ad_ref"|"ad_alt",
                      "op": OP, "value": NUMBER}}
    {"sample_filter": {"sample": SAMPLE, "pass": true, "missing_is_pass": false,
                       "any_of": [...]}}   (the call's own FILTER, FORMAT FT)
    {"affected": {"quantifier": "any"|"all", "is": ZYG}}   (and "unaffected")
    {"region": "CHROM[:START-END]"}  or  {"regions": ["1:100-200", ...]}  (any of them)
    {"bed": "chr1\t55505479\t55505737\n..."}  (the text of a BED file: any of its regions)
    {"chromosome": "autosome"|"X"|"Y"|"MT"}
    {"type": ["snv", "mnv", "indel", "sv"]}
    {"alleles": {"ref": "A", "alt": "G"}}
    {"genes": ["BRCA1", ...]}    {"consequences": ["missense_variant", ...]}
    {"impact": "LOW"|"MODERATE"|"HIGH"}          (at least this impact)
    {"qual": {"op": OP, "value": NUMBER}}
    {"filter": {"pass": true, "missing_is_pass": false, "any_of": ["LowQual"]}}
    {"info": {"name": "gnomAD_AF", "op": OP|"exists", "value": ...}}
    {"selected": true}    {"tagged": "candidate"}    {"classified": ["pathogenic", ...]}
    {"in_house": {"op": "le", "value": 2, "scope": "database"|"project"}}
                        (carriers among the database's, or the project's, other samples)
    {"hgvs": "c.512C>T"}    {"annotation": {"name": "gnomADe_AF", "op": "lt", "value": 0.01}}

OP is one of eq, ne, lt, le, gt, ge. An inheritance mode is a condition of the top level (the
filter itself or a child of its top-level ``all``): the other conditions of that ``all`` choose
the candidate variants, which matters for the compound heterozygous mode. Errors name the place
in the document, e.g. ``filter.all[2].genotype.is``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from regovar.domain import inheritance
from regovar.domain.errors import InvalidInput
from regovar.models import variant_filter as vf

VERSION = 1
ROLES = ("proband", "mother", "father")
_REGION = re.compile(r"^([^:\s]+)(?::([\d,]+)?-([\d,]+)?)?$")
_MAX_DEPTH = 32
_HGNC_ID = re.compile(r"^HGNC:\d{1,7}$", re.IGNORECASE)


class FilterError(InvalidInput):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}", field=path)


def parse(
    document: Any,
    family: inheritance.Family,
    analysis_id: int = 0,
    project_imports: tuple[int, ...] = (),
) -> tuple[vf.Node | None, str | None]:
    """The filter tree and the inheritance mode it uses (or None); ``analysis_id``: the
    analysis whose selection and tags the selected and tagged conditions read."""
    if not isinstance(document, dict):
        raise FilterError("filter", "a filter is a JSON object with 'version' and 'filter'")
    unknown = sorted(set(document) - {"version", "filter"})
    if unknown:
        raise FilterError("filter", f"unknown key {unknown[0]!r}; expected version and filter")
    version = document.get("version")
    if "version" not in document:
        raise FilterError("filter.version", "missing: a filter document says its version (1)")
    if type(version) is not int or version != VERSION:
        raise FilterError("filter.version", f"version {version!r} is not supported; use 1")
    _check_texts(document.get("filter"))
    node = document.get("filter")
    if node is None:
        return None, None
    reader = _Reader(family, analysis_id, project_imports)
    return reader.top(node, "filter"), reader.mode


class _Reader:
    def __init__(
        self, family: inheritance.Family, analysis_id: int, project_imports: tuple[int, ...]
    ) -> None:
        self.family = family
        self.analysis_id = analysis_id
        self.project_imports = project_imports
        self.mode: str | None = None
        self.by_id = {m.sample_id: m for m in family.members}

    def top(self, node: Any, path: str) -> vf.Node:
        """The top level: where an inheritance mode may stand, beside its candidates."""
        key, body = _single(node, path)
        if key == "inheritance":
            return self._mode(body, f"{path}.inheritance", None)
        if key != "all":
            return self.node(node, path, 0)
        children = _list(body, f"{path}.all")
        modes = [i for i, c in enumerate(children) if isinstance(c, dict) and "inheritance" in c]
        if len(modes) > 1:
            raise FilterError(f"{path}.all[{modes[1]}]", "only one inheritance mode per filter")
        others = tuple(
            self.node(c, f"{path}.all[{i}]", 1) for i, c in enumerate(children) if i not in modes
        )
        rest = vf.And(others) if others else None
        if not modes:
            return vf.And(others)
        i = modes[0]
        mode = self._mode(children[i].get("inheritance"), f"{path}.all[{i}].inheritance", rest)
        # The mode's genotype conditions first: the cheapest and most selective tests.
        return vf.And((mode, *others))

    def _mode(self, name: Any, path: str, rest: vf.Node | None) -> vf.Node:
        if name not in inheritance.MODES:
            raise FilterError(path, f"unknown mode {name!r}; expected one of {inheritance.MODES}")
        self.mode = name
        try:
            return inheritance.expand(name, self.family, rest)
        except InvalidInput as exc:
            raise FilterError(path, exc.message) from exc

    def node(self, node: Any, path: str, depth: int) -> vf.Node:
        if depth > _MAX_DEPTH:
            shown = path if len(path) < 80 else f"{path[:40]}...{path[-30:]}"
            raise FilterError(shown, f"nested deeper than {_MAX_DEPTH} levels")
        key, body = _single(node, path)
        here = f"{path}.{key}"
        if key in ("all", "any"):
            items = tuple(
                self.node(c, f"{here}[{i}]", depth + 1) for i, c in enumerate(_list(body, here))
            )
            return vf.And(items) if key == "all" else vf.Or(items)
        if key == "not":
            return vf.Not(self.node(body, here, depth + 1))
        if key == "inheritance":
            raise FilterError(
                here, "an inheritance mode stands at the top level of the filter, or in its "
                "top-level 'all'"
            )  # fmt: skip
        reader = self._leaves.get(key)
        if reader is None:
            raise FilterError(path, f"unknown condition {key!r}; expected one of {self.keys()}")
        return reader(self, body, here)

    def keys(self) -> list[str]:
        return ["all", "any", "not", "inheritance", *self._leaves]

    def _sample(self, value: Any, path: str) -> int:
        if value in ROLES:
            member = self.family.role(value)
            if member is None:
                raise FilterError(path, f"the analysis has no {value}")
            return member.sample_id
        if isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value)  # an id as GraphQL gives it ("3")
        if isinstance(value, int) and not isinstance(value, bool) and value in self.by_id:
            return value
        raise FilterError(
            path, f"{value!r} is not a sample of the analysis (a role among {ROLES}, or an id)"
        )

    def _zygosity(self, value: Any, path: str) -> tuple[str, ...]:
        items = tuple(_list(value, path)) if isinstance(value, list) else (value,)
        for i, z in enumerate(items):
            if z not in vf.ZYGOSITY_CODES:
                raise FilterError(
                    f"{path}[{i}]", f"unknown zygosity {z!r}; expected one of "
                    f"{sorted(vf.ZYGOSITY_CODES)}"
                )  # fmt: skip
        if not items:
            raise FilterError(path, "at least one zygosity")
        return items

    def _genotype(self, body: Any, path: str) -> vf.Node:
        obj = _object(body, path, required=("sample", "is"))
        return vf.Genotype(
            self._sample(obj["sample"], f"{path}.sample"), self._zygosity(obj["is"], f"{path}.is")
        )

    def _sample_value(self, body: Any, path: str) -> vf.Node:
        obj = _object(body, path, required=("sample", "field", "op", "value"))
        if obj["field"] not in vf.SAMPLE_FIELDS:
            raise FilterError(f"{path}.field", f"expected one of {vf.SAMPLE_FIELDS}")
        return vf.SampleValue(
            self._sample(obj["sample"], f"{path}.sample"),
            obj["field"],
            _op(obj["op"], f"{path}.op"),
            _number(obj["value"], f"{path}.value"),
        )

    def _sample_filter(self, body: Any, path: str) -> vf.Node:
        obj = _object(body, path, required=("sample",), optional=_FILTER_KEYS)
        sample = self._sample(obj["sample"], f"{path}.sample")
        return vf.SampleFilter(sample, *_filter_flags(obj, path))

    def _members(self, which: str, body: Any, path: str) -> vf.Node:
        obj = _object(body, path, required=("quantifier", "is"))
        if obj["quantifier"] not in ("any", "all"):
            raise FilterError(f"{path}.quantifier", "expected 'any' or 'all'")
        zyg = self._zygosity(obj["is"], f"{path}.is")
        try:
            return inheritance.members_condition(self.family, which, obj["quantifier"], zyg)
        except InvalidInput as exc:
            raise FilterError(path, exc.message) from exc

    def _affected(self, body: Any, path: str) -> vf.Node:
        return self._members("affected", body, path)

    def _unaffected(self, body: Any, path: str) -> vf.Node:
        return self._members("unaffected", body, path)

    def _region(self, body: Any, path: str) -> vf.Node:
        return self._named(_region(body, path))

    def _regions(self, body: Any, path: str) -> vf.Node:
        items = _list(body, path)
        if not items:
            raise FilterError(path, "at least one region")
        return vf.Or(tuple(self._named(_region(r, f"{path}[{i}]")) for i, r in enumerate(items)))

    def _named(self, region: vf.Region) -> vf.Region:
        """chr1 or 1, chrM or MT: the contig as the analysis's assembly names it."""
        name = contig_name(region.chrom, self.family.assembly)
        return region if name == region.chrom else vf.Region(name, region.start, region.end)

    def _bed(self, body: Any, path: str) -> vf.Node:
        """The regions of a BED file's text (0-based starts, half-open): any of them."""
        if not isinstance(body, str):
            raise FilterError(path, "the text of a BED file (chrom, start, end per line)")
        regions = []
        for number, line in enumerate(body.splitlines(), start=1):
            fields = line.rstrip("\r").split("\t") if "\t" in line else line.split()
            if not fields or not fields[0] or fields[0].startswith(("#", "track", "browser")):
                continue
            where = f"{path}, line {number}"
            if len(fields) < 3 or not fields[1].isdigit() or not fields[2].isdigit():
                raise FilterError(where, f"expected CHROM START END, got {line[:80]!r}")
            start, end = int(fields[1]), int(fields[2])
            if not start < end < 2**31:
                raise FilterError(where, f"start {start} is not before end {end}")
            regions.append(self._named(vf.Region(fields[0], start + 1, end)))
        if not regions:
            raise FilterError(path, "the BED text has no region")
        return vf.Or(tuple(regions))

    def _chromosome(self, body: Any, path: str) -> vf.Node:
        if body not in vf.CHROMOSOME_KINDS:
            raise FilterError(path, f"expected one of {vf.CHROMOSOME_KINDS}")
        return vf.Chromosome(body)

    def _type(self, body: Any, path: str) -> vf.Node:
        types = tuple(_strings(body, path))
        bad = [t for t in types if t not in vf.VARIANT_TYPES]
        if bad or not types:
            raise FilterError(path, f"expected some of {vf.VARIANT_TYPES}")
        return vf.VariantType(types)

    def _alleles(self, body: Any, path: str) -> vf.Node:
        obj = _object(body, path, optional=("ref", "alt"))
        values = {}
        for key in ("ref", "alt"):
            value = obj.get(key)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise FilterError(f"{path}.{key}", "a sequence of bases")
            values[key] = value.strip().upper() if value else None
        if not any(values.values()):
            raise FilterError(path, "give ref, alt or both")
        return vf.Alleles(values["ref"], values["alt"])

    def _hgvs(self, body: Any, path: str) -> vf.Node:
        if not isinstance(body, str) or not body.strip() or len(body) > 200:
            raise FilterError(path, "a text of HGVS, e.g. \"c.512C>T\" or \"p.Ala171Val\"")
        return vf.Hgvs(body.strip())

    def _annotation(self, body: Any, path: str) -> vf.Node:
        obj = _object(body, path, required=("name", "op", "value"))
        name, value = obj["name"], obj["value"]
        if not isinstance(name, str) or not vf.ANNOTATION_NAME.match(name):
            raise FilterError(f"{path}.name", f"invalid annotation field name {name!r}")
        op = _op(obj["op"], f"{path}.op")
        if isinstance(value, str):
            if op not in ("eq", "ne"):
                raise FilterError(f"{path}.op", "texts compare with eq or ne")
            return vf.AnnotationField(name, op, value)
        return vf.AnnotationField(name, op, _number(value, f"{path}.value"))

    def _in_house(self, body: Any, path: str) -> vf.Node:
        obj = _object(body, path, required=("op", "value"), optional=("scope",))
        value = obj["value"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
            raise FilterError(f"{path}.value", "a number of samples (0 or more)")
        scope = obj.get("scope", "database")
        if scope not in ("database", "project"):
            raise FilterError(f"{path}.scope", "'database' (the default) or 'project'")
        imports = self.project_imports if scope == "project" else None
        return vf.InHouse(_op(obj["op"], f"{path}.op"), value, imports)

    def _selected(self, body: Any, path: str) -> vf.Node:
        if not isinstance(body, bool):
            raise FilterError(path, "true (selected in the analysis) or false (not selected)")
        return vf.Selected(self.analysis_id, body)

    def _tagged(self, body: Any, path: str) -> vf.Node:
        if not isinstance(body, str) or not body.strip() or len(body) > 40:
            raise FilterError(path, "a tag, e.g. \"candidate\"")
        return vf.Tagged(self.analysis_id, body.strip())

    def _classified(self, body: Any, path: str) -> vf.Node:
        classes = tuple(_strings(body, path))
        bad = [c for c in classes if c not in vf.CLASSES]
        if bad or not classes:
            raise FilterError(path, f"some of {vf.CLASSES}")
        return vf.Classified(classes)

    def _genes(self, body: Any, path: str) -> vf.Node:
        """Symbols, or HGNC ids (HGNC:1100), read from the transcripts' HGNC_ID field."""
        genes = tuple(_strings(body, path))
        if not genes:
            raise FilterError(path, "at least one gene")
        ids = tuple(g.upper() for g in genes if _HGNC_ID.match(g))
        symbols = tuple(g for g in genes if not _HGNC_ID.match(g))
        parts: list[vf.Node] = [vf.Genes(symbols)] if symbols else []
        parts += [vf.AnnotationField("HGNC_ID", "eq", i) for i in ids]
        return parts[0] if len(parts) == 1 else vf.Or(tuple(parts))

    def _consequences(self, body: Any, path: str) -> vf.Node:
        terms = tuple(_strings(body, path))
        if not terms:
            raise FilterError(path, "at least one consequence term")
        return vf.Consequences(terms)

    def _impact(self, body: Any, path: str) -> vf.Node:
        if body not in vf.IMPACTS:
            raise FilterError(path, f"expected one of {vf.IMPACTS}")
        return vf.MinImpact(body)

    def _qual(self, body: Any, path: str) -> vf.Node:
        obj = _object(body, path, required=("op", "value"))
        return vf.Qual(_op(obj["op"], f"{path}.op"), _number(obj["value"], f"{path}.value"))

    def _filter(self, body: Any, path: str) -> vf.Node:
        return vf.Filters(*_filter_flags(_object(body, path, optional=_FILTER_KEYS), path))

    def _info(self, body: Any, path: str) -> vf.Node:
        obj = _object(body, path, required=("name", "op"), optional=("value",))
        name, op = obj["name"], obj["op"]
        if not isinstance(name, str) or not vf.INFO_NAME.match(name):
            raise FilterError(f"{path}.name", f"invalid INFO field name {name!r}")
        if isinstance(op, str) and op.lower() == "exists":
            if obj.get("value") is not None:
                raise FilterError(f"{path}.value", "exists takes no value")
            return vf.Info(name, "exists")
        op = _op(op, f"{path}.op")
        value = obj.get("value")
        if not isinstance(value, int | float | str | bool) or value is None:
            raise FilterError(f"{path}.value", "a number, a text or true/false")
        if isinstance(value, str) and op not in ("eq", "ne"):
            raise FilterError(f"{path}.op", "texts compare with eq or ne")
        return vf.Info(name, op, value)

    _leaves: ClassVar[dict[str, Callable[[_Reader, Any, str], vf.Node]]] = {}


_Reader._leaves = {
    "genotype": _Reader._genotype,
    "sample_value": _Reader._sample_value,
    "sample_filter": _Reader._sample_filter,
    "affected": _Reader._affected,
    "unaffected": _Reader._unaffected,
    "region": _Reader._region,
    "regions": _Reader._regions,
    "bed": _Reader._bed,
    "chromosome": _Reader._chromosome,
    "type": _Reader._type,
    "alleles": _Reader._alleles,
    "genes": _Reader._genes,
    "consequences": _Reader._consequences,
    "impact": _Reader._impact,
    "qual": _Reader._qual,
    "filter": _Reader._filter,
    "info": _Reader._info,
    "hgvs": _Reader._hgvs,
    "annotation": _Reader._annotation,
    "in_house": _Reader._in_house,
    "selected": _Reader._selected,
    "tagged": _Reader._tagged,
    "classified": _Reader._classified,
}


_PRIMARY = {str(i) for i in range(1, 23)} | {"X", "Y"}


def contig_name(name: str, assembly: str) -> str:
    """The store's name of a primary chromosome or the mitochondrion: GRCh37 without the chr
    prefix (MT), GRCh38 with it (chrM); other contigs as written."""
    bare = name[3:] if name[:3].lower() == "chr" else name
    upper = bare.upper()
    if upper in _PRIMARY:
        return upper if assembly == "GRCh37" else f"chr{upper}"
    if upper in ("M", "MT"):
        return "MT" if assembly == "GRCh37" else "chrM"
    return name


_FILTER_KEYS = ("pass", "missing_is_pass", "any_of")


def _filter_flags(obj: dict[str, Any], path: str) -> tuple[bool, bool, tuple[str, ...]]:
    """(PASS only, a missing FILTER counts as PASS, any of these names) of a FILTER condition,
    the record's or a sample's."""
    for key in ("pass", "missing_is_pass"):
        if key in obj and not isinstance(obj[key], bool):
            raise FilterError(f"{path}.{key}", "true or false")
    names = tuple(_strings(obj.get("any_of", []), f"{path}.any_of"))
    return obj.get("pass", True), obj.get("missing_is_pass", False), names


def _check_texts(node: Any) -> None:
    """No text of the document holds a NUL or a lone surrogate (PostgreSQL stores neither)."""
    stack: list[tuple[Any, str]] = [(node, "filter")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and _bad_text(key):
                    raise FilterError(path, "a key holds a NUL or an invalid character")
                stack.append((item, f"{path}.{key}" if len(path) < 200 else path))
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]" if len(path) < 200 else path)
                         for i, item in enumerate(value))  # fmt: skip
        elif isinstance(value, str) and _bad_text(value):
            raise FilterError(path, "the text holds a NUL or an invalid character")


def _bad_text(text: str) -> bool:
    if "\0" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _single(node: Any, path: str) -> tuple[str, Any]:
    if not isinstance(node, dict) or len(node) != 1:
        raise FilterError(path, "a condition is an object with exactly one key; combine "
                          'conditions with {"all": [...]} or {"any": [...]}')
    ((key, body),) = node.items()
    return key, body


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise FilterError(path, "expected a list")
    return value


def _strings(value: Any, path: str) -> list[str]:
    items = _list(value, path)
    for i, v in enumerate(items):
        if not isinstance(v, str) or not v.strip() or len(v) > 200:
            raise FilterError(f"{path}[{i}]", "a non-empty text of at most 200 characters")
    return [v.strip() for v in items]


def _object(
    value: Any, path: str, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FilterError(path, "expected an object")
    missing = [k for k in required if k not in value]
    if missing:
        raise FilterError(f"{path}.{missing[0]}", "missing")
    unknown = sorted(set(value) - set(required) - set(optional))
    if unknown:
        raise FilterError(
            f"{path}.{unknown[0]}", f"unknown key; expected {', '.join((*required, *optional))}"
        )
    return value


def _op(value: Any, path: str) -> str:
    """An operator in any case ('GE', as GraphQL's enum writes it, is 'ge')."""
    op = value.lower() if isinstance(value, str) else value
    if op not in vf.OPERATORS:
        raise FilterError(path, f"unknown operator {value!r}; expected one of "
                          f"{', '.join(vf.OPERATORS)}")  # fmt: skip
    return str(op)


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FilterError(path, "expected a number")
    if value != value or value in (float("inf"), float("-inf")):
        raise FilterError(path, "expected a finite number")
    return float(value)


def _region(value: Any, path: str) -> vf.Region:
    if not isinstance(value, str):
        raise FilterError(path, "expected 'CHROM' or 'CHROM:START-END'")
    match = _REGION.match(value.strip())
    if not match:
        raise FilterError(path, f"{value!r} is not 'CHROM' or 'CHROM:START-END'")
    chrom, start, end = match.groups()
    first = int(start.replace(",", "")) if start else None
    last = int(end.replace(",", "")) if end else None
    for bound in (first, last):
        if bound is not None and not 0 < bound < 2**31:
            raise FilterError(path, f"positions are between 1 and {2**31 - 1}")
    if first is not None and last is not None and first > last:
        raise FilterError(path, f"start {first} is after end {last}")
    return vf.Region(chrom, first, last)

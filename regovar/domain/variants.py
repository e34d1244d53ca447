"""Variant exploration: one or several samples, per-sample conditions and variant filters."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable
from typing import Any

from regovar.adapters.vcf.annotations import stored_key
from regovar.adapters.vcf.consequences import CONSEQUENCE_RANK, stored_spellings
from regovar.adapters.vcf.header import ANNOTATION_KEYS
from regovar.domain import variant_filter as vf
from regovar.domain.access import readable, require_role, require_user, visible_projects
from regovar.domain.common import Page, check_page
from regovar.domain.errors import InvalidInput, NotFound, QueryTooLong
from regovar.domain.principal import Principal
from regovar.models import Sample
from regovar.repositories.uow import UnitOfWork, UnitOfWorkFactory
from regovar.repositories.variant_query import Placement, QueryTimeout, VariantRowData

VariantRow = VariantRowData


def check_query(query: vf.VariantQuery, max_page_size: int) -> None:
    check_page(query.offset, query.limit, max_page_size)
    if not query.sample_ids:
        raise InvalidInput("name at least one sample", field="samples")
    if len(set(query.sample_ids)) != len(query.sample_ids):
        raise InvalidInput("a sample is listed twice", field="samples")
    vf.validate(query.filter, query.sample_ids)
    for key in query.sort:
        if key.key not in vf.SORT_KEYS:
            raise InvalidInput(f"unknown sort key {key.key}; expected one of {vf.SORT_KEYS}")
        if key.key in vf.PER_SAMPLE_SORT_KEYS and key.sample_id not in query.sample_ids:
            raise InvalidInput(f"sorting by {key.key} needs one of the queried samples")


async def run_query(
    uow: UnitOfWork,
    query: vf.VariantQuery,
    placements: dict[int, Placement],
    *,
    page: bool = True,
    genes: int = 0,
) -> tuple[Page[VariantRow], list[tuple[str, int]]]:
    """A checked query on placed samples: its page and/or its counts per gene (the ``genes``
    most frequent), in the caller's unit of work."""
    imports = sorted({p.import_id for p in placements.values()})
    query = await resolve_terms(uow, query, imports)
    query = await resolve_info(uow, query, imports)
    query = await resolve_annotation_names(uow, query, imports)
    try:
        rows, total = await uow.variant_query.page(query, placements) if page else ([], 0)
        counts = await uow.variant_query.gene_counts(query, placements, genes) if genes else []
    except QueryTimeout as exc:
        raise QueryTooLong(f"{exc}; narrow it (genotypes, region, genes)") from exc
    return Page(rows, total, query.offset, query.limit), counts


async def resolve_terms(
    uow: UnitOfWork, query: vf.VariantQuery, imports: list[int]
) -> vf.VariantQuery:
    """The query with its consequences as stored: an SO term in any case or an annotator's
    short name ('missense') matches what the files wrote for it. A term the table does not
    know is kept only if some variant of these imports has it: otherwise it is refused, as a
    silent empty result would read as a real negative."""
    if query.filter is None:
        return query
    unknown = [t for t in _terms(query.filter) if stored_spellings(t) is None]
    present: dict[str, list[str]] = {}  # lower-cased -> the spellings the files have
    if unknown:
        found = await uow.variant_query.present_consequences(imports)
        for stored in sorted(found):
            present.setdefault(stored.lower(), []).append(stored)
        for term in unknown:
            if term.lower() not in present:
                hint = _did_you_mean(term, [*found, *CONSEQUENCE_RANK])
                raise InvalidInput(
                    f"unknown consequence term {term!r}: not a Sequence Ontology term that "
                    f"Regovar knows (such as missense_variant), and no variant of these samples "
                    f"has it{hint}", field="consequences",
                )  # fmt: skip

    def resolve(node: vf.Node) -> vf.Node:
        if isinstance(node, vf.Consequences):
            stored: dict[str, None] = {}
            for term in node.terms:  # (an unknown term: as the files wrote it, in any case)
                stored |= dict.fromkeys(stored_spellings(term) or present[term.lower()])
            return vf.Consequences(tuple(stored))
        return node

    return dataclasses.replace(query, filter=_map_leaves(query.filter, resolve))


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    """'; did you mean X or Y?': the known names closest to a misspelt one, in any case."""
    lowered = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(lowered[c] for c in close)}?" if close else ""


def _map_leaves(node: vf.Node, change: Any) -> vf.Node:
    """The filter with ``change`` applied to each of its leaves."""
    if isinstance(node, vf.And | vf.Or):
        return dataclasses.replace(node, children=tuple(_map_leaves(c, change)
                                                        for c in node.children))  # fmt: skip
    if isinstance(node, vf.Not):
        return vf.Not(_map_leaves(node.child, change))
    if isinstance(node, vf.CompoundHet) and node.candidates is not None:
        return dataclasses.replace(node, candidates=_map_leaves(node.candidates, change))
    return change(node)


async def resolve_info(
    uow: UnitOfWork, query: vf.VariantQuery, imports: list[int]
) -> vf.VariantQuery:
    """The query with its INFO conditions read by the fields' declared types, or refused where
    they would match nothing, silently: a name no file of these samples declares nor has
    ('dp' for DP); an annotation key (CSQ, ANN: not stored as INFO); a flag compared with a
    number; true/false asked of a field that is no flag (the CLI's 'DB=true' is a flag's true
    only on a flag); a text that is no number asked of a number field ('DP=22336' as text is
    the number)."""
    nodes = _nodes(query.filter, vf.Info, lambda n: [n])
    names = list(dict.fromkeys(n.name for n in nodes))
    if not names or query.filter is None:
        return query
    declared = await uow.imports.info_declared(imports)
    for name in names:
        if name in ANNOTATION_KEYS:
            raise InvalidInput(f"INFO {name} holds annotations, stored per transcript: ask "
                               "with gene, consequence, impact or annotation conditions",
                               field="info")  # fmt: skip
    missing = [n for n in names if n not in declared]
    if missing:
        present = await uow.variant_query.present_info_keys(imports, missing)
        for name in missing:
            if name not in present:
                raise InvalidInput(f"INFO field {name!r}: no file of these samples declares it "
                                   f"nor has it (names are case-sensitive)"
                                   f"{_did_you_mean(name, declared)}", field="info")  # fmt: skip

    def typed(node: vf.Node) -> vf.Node:
        if not isinstance(node, vf.Info) or node.op == "exists" or node.name not in declared:
            return node
        kinds, value = declared[node.name], node.value
        what = f"INFO {node.name} ({'/'.join(sorted(k or '?' for k in kinds))})"
        if kinds == {"Flag"}:
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return dataclasses.replace(node, value=value.lower() == "true")
            if not isinstance(value, bool):  # 'DB >= 1' compared a number with true
                raise InvalidInput(f"INFO {node.name} is a flag: ask whether it is there "
                                   "(exists), or compare it with true or false", field="info")
            return node
        if isinstance(value, bool) and "Flag" not in kinds:
            raise InvalidInput(f"{what} is no flag: true or false match nothing in it",
                               field="info")  # fmt: skip
        if isinstance(value, str) and kinds <= {"Integer", "Float"}:
            try:
                number = float(value)
            except ValueError:
                raise InvalidInput(f"{what} holds numbers: {value!r} is not one",
                                   field="info") from None  # fmt: skip
            as_number = dataclasses.replace(node, value=number)
            vf.validate(as_number, ())  # '1e400' as text: not finite, said as such
            return as_number
        return node

    return dataclasses.replace(query, filter=_map_leaves(query.filter, typed))


# The keys Regovar gives every transcript annotation (the others are the file's sub-fields)
TRANSCRIPT_KEYS = ("source", "gene", "gene_id", "feature", "biotype", "consequences", "impact",
                   "hgvsc", "hgvsp", "warnings")  # fmt: skip


async def resolve_annotation_names(
    uow: UnitOfWork, query: vf.VariantQuery, imports: list[int]
) -> vf.VariantQuery:
    """The query with its annotation fields as stored: a column the annotator declares and
    Regovar keeps under its own key ('SYMBOL', 'IMPACT', 'Gene_Name') is asked by that key
    ('gene', 'impact'). A field no file of these samples declares is refused: 'Sift' for
    'SIFT' matched nothing, silently."""
    names = list(dict.fromkeys(_nodes(query.filter, vf.AnnotationField, lambda n: [n.name])))
    if not names or query.filter is None:
        return query
    known = set(TRANSCRIPT_KEYS) | await uow.imports.annotation_fields_declared(imports)
    for name in names:
        if name not in known:
            raise InvalidInput(f"annotation field {name!r}: none of the annotations of these "
                               f"samples has it (names are case-sensitive)"
                               f"{_did_you_mean(name, known)}", field="annotation")  # fmt: skip

    def rename(node: vf.Node) -> vf.Node:
        if not isinstance(node, vf.AnnotationField):
            return node
        key = node.name if node.name in TRANSCRIPT_KEYS else stored_key(node.name)
        node = dataclasses.replace(node, name=key) if key else node
        if node.name == "consequences" and isinstance(node.value, str):
            # a term as the query names it ('missense', any case): what the files wrote for it
            terms = stored_spellings(node.value) or (node.value, node.value.lower())
            found: vf.Node = vf.Or(tuple(dataclasses.replace(node, op="eq", value=t)
                                         for t in dict.fromkeys(terms)))  # fmt: skip
            return vf.Not(found) if node.op == "ne" else found
        return node

    return dataclasses.replace(query, filter=_map_leaves(query.filter, rename))


def _nodes(node: vf.Node | None, kind: type, take: Any) -> list[Any]:
    """What ``take`` gives for every node of ``kind`` in a filter."""
    if node is None:
        return []
    if isinstance(node, vf.And | vf.Or):
        return [t for c in node.children for t in _nodes(c, kind, take)]
    if isinstance(node, vf.Not):
        return _nodes(node.child, kind, take)
    if isinstance(node, vf.CompoundHet) and node.candidates is not None:
        return _nodes(node.candidates, kind, take)
    return list(take(node)) if isinstance(node, kind) else []


def _terms(node: vf.Node) -> list[str]:
    """Every consequence term a filter names."""
    return _nodes(node, vf.Consequences, lambda n: n.terms)


class VariantManager:
    def __init__(self, uow: UnitOfWorkFactory, max_page_size: int) -> None:
        self.uow = uow
        self.max_page_size = max_page_size

    async def query(self, principal: Principal, query: vf.VariantQuery) -> Page[VariantRow]:
        require_user(principal)
        check_query(query, self.max_page_size)
        async with self.uow() as uow:
            placements = await self._placements(uow, principal, query.sample_ids)
            page, _ = await run_query(uow, query, placements)
            return page

    async def gene_counts(
        self, principal: Principal, query: vf.VariantQuery, limit: int = 100
    ) -> list[tuple[str, int]]:
        """How many of the query's variants fall in each gene, most first (at most ``limit``)."""
        require_user(principal)
        check_query(query, self.max_page_size)
        async with self.uow() as uow:
            placements = await self._placements(uow, principal, query.sample_ids)
            _, genes = await run_query(uow, query, placements, page=False, genes=limit)
            return genes

    async def _placements(
        self, uow: UnitOfWork, principal: Principal, sample_ids: tuple[int, ...]
    ) -> dict[int, Placement]:
        # A sample of another project does not exist for the caller.
        samples = await readable(uow, principal, await uow.samples.get_many(list(sample_ids)))
        missing = [s for s in sample_ids if s not in samples]
        if missing:
            raise NotFound(f"sample {missing[0]} not found", id=missing[0])
        imports = await uow.imports.get_many(sorted({s.import_id for s in samples.values()}))
        if any(i.state != "done" for i in imports.values()):
            raise InvalidInput("a sample's import is not finished yet")
        if len({i.assembly for i in imports.values()}) > 1:
            raise InvalidInput("the samples come from different genome assemblies")
        if len({s.project_id for s in samples.values()}) > 1:
            raise InvalidInput("the samples belong to different projects")
        return {sid: Placement(samples[sid].import_id, samples[sid].column) for sid in sample_ids}

    async def samples(
        self,
        principal: Principal,
        project_id: int | None = None,
        import_id: int | None = None,
        name: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> Page[Sample]:
        check_page(offset, limit, self.max_page_size)
        async with self.uow() as uow:
            if project_id is not None:
                await require_role(uow, principal, project_id, "viewer")
            visible = await visible_projects(uow, principal)
            items, total = await uow.samples.page(
                project_id, import_id, name, offset, limit, visible
            )
            return Page(items, total, offset, limit)

    async def samples_by_id(self, principal: Principal, ids: list[int]) -> dict[int, Sample]:
        async with self.uow() as uow:
            return await readable(uow, principal, await uow.samples.get_many(ids))

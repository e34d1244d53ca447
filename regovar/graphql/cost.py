"""A bound on what one query may ask for, checked before any other validation.

Depth, aliases and tokens are bounded by Strawberry's limiters; a shallow query can still ask
for a million items (a page of 1,000 projects, each with a page of 1,000 samples), and a short
one can spread a fragment that spreads the next one twice, twenty times over: 2^20 fields in
under 1 KB, which the other validation rules (and the executor) would walk one by one. So the
query is priced first, in time linear in its text (each fragment priced once), and refused
before anything else looks at it.

Each field counts 1, times the page size of every paginated field above it: its ``limit``
argument (or a ``limit`` inside an input object, such as ``variants(query: {limit: ...})``),
from the request's variables when given there, or the argument's default.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension

MAX_COST = 100_000


class QueryCost(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None and ctx.pre_execution_errors is None:
            pricing = _Pricing(ctx.schema._schema, document.definitions, ctx.variables or {})
            for node in document.definitions:
                if isinstance(node, OperationDefinitionNode):
                    cost = pricing.operation(node)
                    if cost > MAX_COST:
                        ctx.pre_execution_errors = [_too_costly(cost, node)]
                        break
        yield


def _too_costly(cost: int, node: OperationDefinitionNode) -> GraphQLError:
    return GraphQLError(
        f"this query could return about {cost:,} items (at most {MAX_COST:,}): "
        "ask for smaller pages or fewer nested lists",
        node,
        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "maxCost": MAX_COST},
    )


class _Pricing:
    def __init__(self, schema: Any, definitions: Any, variables: dict[str, Any]) -> None:
        self.schema, self.variables = schema, variables
        self.fragments = {
            d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.priced: dict[str, int] = {}

    def operation(self, node: OperationDefinitionNode) -> int:
        root = {
            "query": self.schema.query_type,
            "mutation": self.schema.mutation_type,
            "subscription": self.schema.subscription_type,
        }[node.operation.value]
        return self._cost(node.selection_set, root, frozenset())

    def _cost(self, selections: SelectionSetNode | None, parent: Any, seen: frozenset[str]) -> int:
        if selections is None:
            return 0
        total = 0
        fields = parent.fields if isinstance(parent, GraphQLObjectType) else {}
        for sel in selections.selections:
            if isinstance(sel, FieldNode):
                definition = fields.get(sel.name.value)
                if definition is None:  # __typename, or an unknown field another rule reports
                    total += 1
                    continue
                inner = self._cost(sel.selection_set, get_named_type(definition.type), seen)
                total += 1 + self._page_size(sel, definition) * inner
            elif isinstance(sel, InlineFragmentNode):
                target = parent
                if sel.type_condition is not None:
                    target = self.schema.get_type(sel.type_condition.name.value)
                total += self._cost(sel.selection_set, target, seen)
            elif isinstance(sel, FragmentSpreadNode):
                total += self._spread(sel.name.value, seen)
            if total > MAX_COST:
                return total  # enough to refuse; stop pricing
        return total

    def _spread(self, name: str, seen: frozenset[str]) -> int:
        """A fragment costs the same wherever it is spread: priced once. A cycle (refused by
        validation later) counts nothing."""
        fragment = self.fragments.get(name)
        if fragment is None or name in seen:
            return 0
        if name not in self.priced:
            target = self.schema.get_type(fragment.type_condition.name.value)
            self.priced[name] = self._cost(fragment.selection_set, target, seen | {name})
        return self.priced[name]

    def _page_size(self, field: FieldNode, definition: Any) -> int:
        """The page size a field asks for; 1 for a field that is not paginated."""
        for arg in field.arguments or ():
            if arg.name.value == "limit":
                return self._limit(arg.value)
            if isinstance(arg.value, ObjectValueNode):
                for inner in arg.value.fields:
                    if inner.name.value == "limit":
                        return self._limit(inner.value)
            if isinstance(arg.value, VariableNode):  # a whole input object given as a variable
                given = self.variables.get(arg.value.name.value)
                if isinstance(given, dict) and "limit" in given:
                    return _positive(given["limit"])
        declared = definition.args.get("limit")
        if declared is not None and isinstance(declared.default_value, int):
            return max(declared.default_value, 1)
        for argument in definition.args.values():  # an input object with a limit field
            named = get_named_type(argument.type)
            limit = getattr(named, "fields", {}).get("limit")
            if limit is not None and isinstance(limit.default_value, int):
                return max(limit.default_value, 1)
        return 1

    def _limit(self, value: Any) -> int:
        if isinstance(value, IntValueNode):
            return _positive(value.value)
        if isinstance(value, VariableNode):
            return _positive(self.variables.get(value.name.value))
        return 1


def _positive(value: Any) -> int:
    try:
        return max(int(value), 1)
    except (TypeError, ValueError):
        return 1  # not an integer: the argument's validation refuses it

"""A bound on what one query may ask for: the number of items it could return.

Depth, aliases and tokens are bounded by Strawberry's limiters; a shallow query can still ask
for a million items (a page of 1,000 projects, each with a page of 1,000 samples). Each field
counts 1, times the page size of every paginated field above it: its ``limit`` argument (or a
``limit`` inside an input object, such as ``variants(query: {limit: ...})``), the argument's
default when absent, and the largest page the server allows when the limit is a variable.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
)

MAX_COST = 100_000
MAX_PAGE = 1000  # REGOVAR_MAX_PAGE_SIZE's default; a variable limit is assumed this large


class QueryCost(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        schema = self.context.schema
        root = {
            "query": schema.query_type,
            "mutation": schema.mutation_type,
            "subscription": schema.subscription_type,
        }[node.operation.value]
        if root is None:
            return
        cost = self._cost(node.selection_set, root, set())
        if cost > MAX_COST:
            self.report_error(
                GraphQLError(
                    f"this query could return about {cost:,} items (at most {MAX_COST:,}): "
                    "ask for smaller pages or fewer nested lists",
                    node,
                    extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "maxCost": MAX_COST},
                )
            )

    def _cost(self, selections: SelectionSetNode | None, parent: Any, seen: set[str]) -> int:
        if selections is None or not isinstance(parent, GraphQLObjectType):
            return 0
        total = 0
        for sel in selections.selections:
            if isinstance(sel, FieldNode):
                definition = parent.fields.get(sel.name.value)
                if definition is None:
                    continue  # __typename, or an unknown field another rule reports
                inner = self._cost(sel.selection_set, get_named_type(definition.type), seen)
                total += 1 + _page_size(sel, definition) * inner
            elif isinstance(sel, InlineFragmentNode):
                target: Any = parent
                if sel.type_condition is not None:
                    target = self.context.schema.get_type(sel.type_condition.name.value)
                total += self._cost(sel.selection_set, target, seen)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
                fragment = self.context.get_fragment(sel.name.value)
                if fragment is not None:
                    spread = self.context.schema.get_type(fragment.type_condition.name.value)
                    total += self._cost(fragment.selection_set, spread, seen | {sel.name.value})
        return total


def _page_size(field: FieldNode, definition: Any) -> int:
    """The page size a field asks for; 1 for a field that is not paginated."""
    for arg in field.arguments or ():
        if arg.name.value == "limit":
            return _limit(arg.value)
        if isinstance(arg.value, ObjectValueNode):
            for inner in arg.value.fields:
                if inner.name.value == "limit":
                    return _limit(inner.value)
    declared = definition.args.get("limit")
    if declared is not None and isinstance(declared.default_value, int):
        return max(declared.default_value, 1)
    for argument in definition.args.values():  # an input object with a limit field
        named = get_named_type(argument.type)
        limit = getattr(named, "fields", {}).get("limit")
        if limit is not None and isinstance(limit.default_value, int):
            return max(limit.default_value, 1)
    return 1


def _limit(value: Any) -> int:
    if isinstance(value, IntValueNode):
        return max(int(value.value), 1)
    if isinstance(value, VariableNode):
        return MAX_PAGE
    return 1

"""The schema, composed from the per-area modules."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)

from regovar.graphql.analyses.mutations import AnalysisMutations
from regovar.graphql.analyses.queries import AnalysisQueries
from regovar.graphql.cost import QueryCost
from regovar.graphql.errors import DomainErrors
from regovar.graphql.imports.mutations import ImportMutations
from regovar.graphql.imports.queries import ImportQueries
from regovar.graphql.interpretation.schema import InterpretationMutations, InterpretationQueries
from regovar.graphql.monitoring.batches import BatchMutations, BatchQueries
from regovar.graphql.monitoring.schema import MonitoringQueries
from regovar.graphql.projects.mutations import ProjectMutations
from regovar.graphql.projects.queries import ProjectQueries
from regovar.graphql.samples.queries import SampleQueries
from regovar.graphql.users.mutations import UserMutations
from regovar.graphql.users.queries import UserQueries
from regovar.graphql.variants.queries import VariantQueries

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 5000


@strawberry.type
class Query(
    UserQueries,
    ProjectQueries,
    ImportQueries,
    SampleQueries,
    VariantQueries,
    AnalysisQueries,
    InterpretationQueries,
    MonitoringQueries,
    BatchQueries,
):
    @strawberry.field(description="Always true: the server answers (open to anyone).")
    def health(self) -> bool:
        return True


@strawberry.type
class Mutation(
    UserMutations,
    ProjectMutations,
    ImportMutations,
    AnalysisMutations,
    InterpretationMutations,
    BatchMutations,
):
    pass


class RegovarSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """User errors (domain codes, invalid queries) are answers, not server faults; the
        DomainErrors extension logs the unexpected ones with their request id."""


schema = RegovarSchema(
    query=Query,
    mutation=Mutation,
    extensions=[
        QueryCost,  # first: it prices the query before the other limiters walk it
        DomainErrors,
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    ],
)

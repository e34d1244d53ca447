"""Domain errors become ``extensions.code`` with their data; anything else is masked and logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from regovar.domain.errors import RegovarError

log = logging.getLogger("regovar.graphql")


class DomainErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        request_id = getattr(self.execution_context.context, "request_id", "-")
        result.errors = [_translate(e, request_id) for e in result.errors]


def _translate(error: GraphQLError, request_id: str) -> GraphQLError:
    original = error.original_error
    if original is None:  # a validation or syntax error: safe to show as it is
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", "GRAPHQL_VALIDATION_FAILED")
        return _with(error, error.message, extensions)
    if isinstance(original, GraphQLError):  # variables not of their declared types
        return _with(error, original.message, {"code": "GRAPHQL_VALIDATION_FAILED"})
    if isinstance(original, RegovarError):
        return _with(error, original.message, {"code": original.code, **original.data})
    if _caused_by(original, UnicodeEncodeError):  # a lone surrogate (\ud800) in some text
        return _with(error, "a text value holds characters that are not valid Unicode",
                     {"code": "INVALID_INPUT"})  # fmt: skip
    if _named_in_causes(original, _NUL_ERRORS):  # the database takes no NUL in text
        return _with(error, "a text value holds a NUL character (\\u0000)",
                     {"code": "INVALID_INPUT"})  # fmt: skip
    if _caused_by(original, ConnectionError):  # refused, reset: the database is down
        log.warning("database unavailable (request %s): %s", request_id, original)
        return _with(error, "the database does not answer; try again in a moment",
                     {"code": "DATABASE_UNAVAILABLE", "requestId": request_id})  # fmt: skip
    log.error("unexpected error (request %s)", request_id, exc_info=original)
    return _with(
        error,
        f"internal error; the administrator can find it with request id {request_id}",
        {"code": "INTERNAL", "requestId": request_id},
    )


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(e, kind) for e in _causes(error))


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and those that caused it, each once."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        yield current
        seen.add(id(current))
        current = current.__cause__ or current.__context__


_NUL_ERRORS = {"CharacterNotInRepertoireError", "UntranslatableCharacterError"}  # asyncpg's


def _named_in_causes(error: BaseException, names: set[str]) -> bool:
    """Whether an error of one of these class names caused this one (the driver's errors are
    not imported here; SQLAlchemy holds the driver's as ``orig``)."""
    return any(
        type(e).__name__ in names or type(getattr(e, "orig", None)).__name__ in names
        for e in _causes(error)
    )


def _with(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )

"""The GraphQL shown in the README and docs is valid against the schema (a renamed field or
argument would otherwise leave the documentation wrong without anyone noticing)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import DocumentNode, parse, validate

from regovar.graphql.schema import schema

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```graphql\n(.*?)```", re.S)
BLOCKS = [
    pytest.param(text, id=f"{path.name}#{i}")
    for path in DOCS
    for i, text in enumerate(BLOCK.findall(path.read_text()))
]


def test_the_documentation_shows_graphql() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("document", BLOCKS)
def test_documented_graphql_is_valid(document: str) -> None:
    # A block may show several operations, one after the other: each is checked on its own.
    # (Placeholders the reader replaces, "<printed by make demo>", are inside strings.)
    for operation in parse(document).definitions:
        errors = validate(schema._schema, DocumentNode(definitions=(operation,)))
        assert not errors, [e.message for e in errors]

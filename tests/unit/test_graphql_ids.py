"""GraphQL ids are positive integers written in ASCII digits."""

from __future__ import annotations

import pytest

from regovar.domain.errors import InvalidInput
from regovar.graphql.scalars import parse_id


def test_ids_are_ascii_digits_only():
    # ' 1' and the Arabic-Indic digit one were read as 1, while '1.0' was refused.
    assert parse_id("1") == 1 and parse_id(42) == 42
    for text in (" 1", "1 ", "\u0661", "1.0", "0", "-3", "", "2147483648"):
        with pytest.raises(InvalidInput, match="must be a positive integer id"):
            parse_id(text)

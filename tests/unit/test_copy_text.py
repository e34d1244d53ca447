"""COPY text encoding of the import's arrays: what PostgreSQL must read back."""

from __future__ import annotations

from regovar.repositories import copy_text as ct


def test_numbers_arrays_with_nulls_and_floats():
    assert ct.numbers(None) == "\\N"
    assert ct.numbers([]) == "{}"
    assert ct.numbers([10, None, 0, -3]) == "{10,NULL,0,-3}"
    assert ct.numbers([0.5, None, 1e-05, 1.0]) == "{0.5,NULL,1e-05,1.0}"
    from regovar.adapters.vcf.model import Zygosity

    assert ct.numbers([Zygosity.HET_ALT, 0, None]) == "{5,0,NULL}"


def test_int32_overflow_is_nulled_and_counted():
    assert ct.int32s([1, None, 2147483647, -2147483647]) == (
        "{1,NULL,2147483647,-2147483647}", 0,
    )  # fmt: skip
    assert ct.int32s([2147483648, 5, -99999999999]) == ("{NULL,5,NULL}", 2)
    assert ct.int32s([1234567890]) == ("{1234567890}", 0)  # ten digits, still in range


def test_text_arrays_quote_escape_and_keep_nulls():
    assert ct.texts(None) == "\\N"
    assert ct.texts([]) == "{}"
    assert ct.texts(["0/1", "1|1"]) == '{"0/1","1|1"}'
    assert ct.texts(["PASS", None]) == '{"PASS",NULL}'
    # a quote or a backslash inside an element: escaped for the array, then for COPY
    assert ct.texts(['a"b', "c\\d"]) == '{"a\\\\"b","c\\\\\\\\d"}'
    assert ct.texts(["tab\there"]) == '{"tab\\there"}'

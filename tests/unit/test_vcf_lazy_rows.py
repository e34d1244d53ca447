"""Rows parse INFO/annotations/extra FORMAT keys on first access but behave as plain CallRows."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

from regovar.adapters.vcf import CallRow
from tests.unit.test_vcf_helpers import HEADER, read, tabs, write_vcf

HDR = HEADER + '##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'


def _row(tmp_path: Path) -> CallRow:
    _, rows = read(write_vcf(tmp_path, tabs("1 5 . A G 9 PASS DP=7 GT:PL 0/1:1,0,2 0/0:0,3,9 ."),
                             header=HDR))
    return rows[0]


def test_lazy_row_is_a_call_row(tmp_path: Path) -> None:
    row = _row(tmp_path)
    assert isinstance(row, CallRow)
    as_dict = dataclasses.asdict(row)
    assert as_dict["info"] == {"DP": 7} and as_dict["annotations"] == []
    assert as_dict["format_values"] == {"PL": [[1, 0, 2], [0, 3, 9], None]}
    plain = CallRow(**{f.name: getattr(row, f.name) for f in dataclasses.fields(CallRow)})
    assert row == plain and plain == row
    assert pickle.loads(pickle.dumps(row)) == row
    assert dataclasses.replace(row, pos=6).pos == 6
    assert "info={'DP': 7}" in repr(row)


def test_lazy_fields_can_be_assigned_and_are_computed_once(tmp_path: Path) -> None:
    row = _row(tmp_path)
    first = row.info
    assert row.info is first
    row.info = {"X": 1}
    assert row.info == {"X": 1}
    fresh = _row(tmp_path)
    fresh.annotations = []
    assert fresh.annotations == []

"""PED files: what makes a pedigree impossible is refused, naming the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from regovar.adapters.ped import PedMalformed, read_ped


def _read(tmp_path: Path, text: str):
    path = tmp_path / "family.ped"
    path.write_text(text)
    return read_ped(path)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("F1\tS1\tS2\t0\t1\t2\nF1\tS2\tS1\t0\t1\t1\n", 1,
         "'S1' is their own ancestor (S1 -> S2 -> S1)"),
        ("F\tK\tD\t0\t1\t2\nF\tD\tG\t0\t1\t1\nF\tG\tK\t0\t1\t1\n", 1,
         "'K' is their own ancestor (K -> D -> G -> K)"),
        ("F1\tS1\tS2\t0\t1\t2\nF2\tS2\t0\t0\t1\t1\n", 1,
         "father 'S2' is in family 'F2' (line 2), not 'F1'"),
        ("F1\tS1\t0\tS2\t1\t2\nF1\tS2\t0\t0\t1\t1\n", 1, "mother 'S2' has sex 1 on line 2"),
        ("# nothing but a comment\n", None, "the PED file lists no individual"),
        ("F\tS3\tS1\tS1\t1\t2\nF\tS1\t0\t0\t0\t1\n", 1,
         "'S1' is both the father and the mother of 'S3'"),
        ("F\tS3\tS1\t0\t1\t2\nF\tS4\t0\tS1\t1\t2\nF\tS1\t0\t0\t0\t1\n", 2,
         "'S1' is the mother of 'S4' but the father of 'S3' (line 1)"),
        ("F\tS3\tX\t0\t1\t2\nF\tS2\tY\tX\t2\t1\n", 2,  # X has no line of its own
         "'X' is the mother of 'S2' but the father of 'S3' (line 1)"),
        ("F\t\t0\t0\t2\t1\n", 1, "the individual ID is '', which means nobody"),
        ("F 0 0 0 1 1\n", 1, "the individual ID is '0', which means nobody"),
        ("F\tS2\t0\t0\t2\t1\nF\tS1\x00\t0\t0\t1\t1\n", 2, "a NUL byte: not a text PED file"),
        ("F\tS2\t0\t0\t2\t1\n\tS1\t0\t0\t1\t1\n", 2, "the family ID is empty"),
    ],
)  # fmt: skip
def test_impossible_pedigrees_are_refused(tmp_path: Path, text: str, line, problem) -> None:
    with pytest.raises(PedMalformed) as caught:
        _read(tmp_path, text)
    assert caught.value.line == line and caught.value.message == problem
    assert str(tmp_path / "family.ped") in str(caught.value)


def test_a_three_generation_family_with_shared_grandparents_reads(tmp_path: Path) -> None:
    text = ("F\tK\tD\tM\t1\t2\nF\tD\tG1\tG2\t1\t1\nF\tM\t0\t0\t2\t1\n"
            "F\tS\tD\tM\t2\t1\nF\tG1\t0\t0\t1\t0\nF\tG2\t0\t0\t2\t0\n")  # fmt: skip
    entries = _read(tmp_path, text)
    assert [e.individual for e in entries] == ["K", "D", "M", "S", "G1", "G2"]


@pytest.mark.parametrize("missing", ["0", ".", "-9"])
def test_unknown_parents_may_be_written_as_plink_and_others_do(tmp_path: Path, missing) -> None:
    (entry,) = _read(tmp_path, f"F\tS1\t{missing}\t{missing}\t1\t1\n")
    assert (entry.father, entry.mother) == (None, None)  # not a subject called '.' or '-9'


def test_a_ped_that_is_not_utf8_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.ped"
    path.write_bytes(b"F\tS1\t0\t0\t1\t1\nF\tJos\xe9\t0\t0\t1\t1\n")
    with pytest.raises(PedMalformed) as caught:
        read_ped(path)
    assert caught.value.line == 2 and "byte 0xe9 is not UTF-8" in caught.value.message

"""Malformed input: VcfMalformed with the physical line number, raised as soon as it is seen."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from regovar.adapters.vcf import CallRow, VcfMalformed, open_vcf
from tests.unit.test_vcf_helpers import HEADER, read, tabs, write_vcf


def _error(path: Path, **kwargs: object) -> VcfMalformed:
    with pytest.raises(VcfMalformed) as err:
        read(path, **kwargs)
    return err.value


def test_no_chrom_line(tmp_path: Path) -> None:
    path = tmp_path / "x.vcf"
    path.write_text("##fileformat=VCFv4.2\n##contig=<ID=1>\n")
    err = _error(path)
    assert (err.line, err.message) == (2, "no #CHROM header line (is this a VCF file?)")
    path.write_text("##fileformat=VCFv4.2\n1\t5\t.\tA\tC\t.\t.\t.\n")
    assert _error(path).line == 2
    empty = tmp_path / "empty.vcf"
    empty.write_bytes(b"")
    assert "no #CHROM header line" in _error(empty).message


def test_wrong_fixed_columns(tmp_path: Path) -> None:
    path = tmp_path / "x.vcf"
    path.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tREF\tID\tALT\tQUAL\tFILTER\tINFO\n")
    err = _error(path)
    assert err.line == 2 and err.message.startswith("wrong fixed columns")
    path.write_text("##fileformat=VCFv4.2\n#CHROM POS ID REF ALT QUAL FILTER INFO\n")
    assert "separated by tabs" in _error(path).message
    path.write_text("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFMT\tS1\n")
    assert "FORMAT" in _error(path).message


def test_duplicate_sample_names_anywhere(tmp_path: Path) -> None:
    path = write_vcf(tmp_path, "", samples=("A", "B", "C", "B"))
    err = _error(path)
    assert (err.line, err.message) == (8, "duplicate sample name 'B' in columns 11 and 13")


def test_sample_names_that_look_the_same_are_one_patient_twice(tmp_path: Path) -> None:
    # 'HG002' and 'HG002 ', a zero-width space, an accent composed or not: two patients that
    # read the same in every list, and '-s Amélie' picked one of them silently.
    # A variation selector (U+FE0F) and a doubled inner space passed; the names were listed
    # last column first.
    # Default-ignorable characters outside category Cf passed too (U+034F, Hangul fillers,
    # U+17B4, the blank braille pattern). Names are shown escaped: 'S\xe9' and 'Se\u0301'.
    for twin in ("HG002 ", "HG002\u200b", "H\uff27002", "HG002\ufe0f", "HG\u00a0002",
                 "HG002\u034f", "HG002\u3164", "HG002\uffa0", "HG002\u17b4", "HG002\u2800"):
        path = write_vcf(tmp_path, "", samples=("HG 002" if "\u00a0" in twin else "HG002",
                                                "HG003", twin))  # fmt: skip
        err = _error(path)
        assert err.line == 8 and err.message.startswith("duplicate sample name 'HG"), err.message
        assert f"and {twin!a} look the same" in err.message and "columns 10 and 12" in err.message
    path = write_vcf(tmp_path, "", samples=("HG 002", "HG  002"))
    assert "look the same" in _error(path).message
    path = write_vcf(tmp_path, "", samples=("Am\u00e9lie", "Ame\u0301lie"))
    assert _error(path).message == (
        "duplicate sample name 'Am\\xe9lie' and 'Ame\\u0301lie' look the same (they differ "
        "only by spaces, invisible characters or the Unicode form of a letter) in columns 10 "
        "and 11")


def test_record_with_wrong_number_of_columns(tmp_path: Path) -> None:
    body = tabs("1 10 . A G 1 PASS . GT 0/1 0/1 0/1", "1 11 . A G 1 PASS . GT 0/1 0/1")
    err = _error(write_vcf(tmp_path, body))
    assert (err.line, err.message) == (
        10, "expected 12 tab-separated columns (3 samples), found 11")
    err = _error(write_vcf(tmp_path, tabs("1 12 . A G 1 PASS"), name="short.vcf"))
    assert (err.line, err.message) == (9, "expected 12 tab-separated columns, found 7")
    err = _error(write_vcf(tmp_path, tabs("1 12 . A G 1 PASS . GT 0/1 0/1 0/1 0/1"),
                           name="long.vcf"))
    assert (err.line, err.message) == (
        9, "expected 12 tab-separated columns (3 samples), found 13")
    sites = write_vcf(tmp_path, tabs("1 12 . A G 1 PASS . GT 0/1"), samples=(), name="s.vcf")
    assert _error(sites).message == "expected 8 tab-separated columns, found 10"


def test_bad_pos_ref_alt_qual(tmp_path: Path) -> None:
    cases = {
        "1 1x . A G 1 PASS . GT 0/1 0/1 0/1": "POS is not an integer: '1x'",
        "1 10 . R G 1 PASS . GT 0/1 0/1 0/1": "invalid REF allele 'R'",
        "1 10 . A Y 1 PASS . GT 0/1 0/1 0/1": "invalid ALT allele 'Y'",
        "1 10 . A G,K 1 PASS . GT 0/1 0/1 0/1": "invalid ALT allele 'K'",
        "1 10 . A G high PASS . GT 0/1 0/1 0/1": "QUAL is not a number: 'high'",
    }
    for i, (line, message) in enumerate(cases.items()):
        err = _error(write_vcf(tmp_path, tabs(line), name=f"{i}.vcf"))
        assert err.line == 9 and err.message.startswith(message), err.message


def test_star_and_n_are_valid_alleles(tmp_path: Path) -> None:
    _, rows = read(write_vcf(tmp_path, tabs("1 10 . N A,* 1 PASS . GT 0/1 0/2 1/2")))
    assert [(r.ref, r.alt) for r in rows] == [("N", "A")]


def test_gt_allele_beyond_the_alts(tmp_path: Path) -> None:
    body = tabs("1 10 . A G 1 PASS . GT 0/1 0/1 0/1", "1 20 . A G 1 PASS . GT 0/1 0/2 0/0",
                "1 30 . A G,T 1 PASS . GT 0/3 0/0 0/0")
    path = write_vcf(tmp_path, body)
    with pytest.raises(VcfMalformed) as err, open_rows(path) as rows:
        first = next(rows)  # errors are raised when the bad record is reached
        assert first.pos == 10
        next(rows)
    assert err.value.line == 10
    assert err.value.message == "GT '0/2' refers to allele 2 but the record has 1 ALT allele(s)"
    err2 = _error(write_vcf(tmp_path, tabs("1 30 . A G,T 1 PASS . GT 0/3 0/0 0/0"), name="b.vcf"))
    assert "allele 3" in err2.message


def test_invalid_gt_and_extra_sample_values(tmp_path: Path) -> None:
    err = _error(write_vcf(tmp_path, tabs("1 10 . A G 1 PASS . GT 0/1 0/x 0/1")))
    assert (err.line, err.message) == (9, "invalid GT '0/x'")
    err = _error(write_vcf(tmp_path, tabs("1 10 . A G 1 PASS . GT:DP 0/1:3:4 0/1 0/1"),
                           name="b.vcf"))
    assert "more values than FORMAT keys" in err.message


def test_require_samples(tmp_path: Path) -> None:
    path = write_vcf(tmp_path, tabs("1 10 . A G 1 PASS ."), samples=())
    err = _error(path, require_samples=True)
    assert err.line == 8 and err.message.startswith("VCF has no sample columns")
    _, rows = read(path)
    assert len(rows) == 1 and rows[0].gt == []


def test_missing_fileformat_and_undeclared_contigs_are_accepted(tmp_path: Path) -> None:
    header = HEADER.replace("##fileformat=VCFv4.2\n", "")
    path = write_vcf(tmp_path, tabs("7 10 . A G 1 PASS . GT 0/1 0/1 0/1"), header=header)
    reader, rows = read(path)
    assert reader.header.fileformat is None
    assert reader.warnings.count("no_fileformat") == 1
    assert rows[0].chrom == "7"


def test_error_message_and_str(tmp_path: Path) -> None:
    err = _error(write_vcf(tmp_path, tabs("1 1x . A G 1 PASS . GT 0/1 0/1 0/1")))
    assert str(err) == f"{tmp_path / 't.vcf'}, line 9: POS is not an integer: '1x'"
    assert err.path == str(tmp_path / "t.vcf")


@contextmanager
def open_rows(path: Path) -> Iterator[Iterator[CallRow]]:
    with open_vcf(path) as reader:
        yield reader.rows()


def test_trailing_tab_after_the_last_sample_name(tmp_path: Path) -> None:
    path = tmp_path / "t.vcf"
    path.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t"
                    "S1\tS2\t\n1\t5\t.\tA\tG\t1\tPASS\t.\tGT\t0/1\t1/1\t\n")
    reader, rows = read(path)
    assert reader.header.samples == ["S1", "S2"] and rows[0].gt == ["0/1", "1/1"]
    path.write_text("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\t\tS3\n")
    assert _error(path).message == "empty sample name in column 11"


def test_alignment_files_are_recognised(tmp_path: Path) -> None:
    import gzip

    bam = tmp_path / "x.vcf.gz"
    bam.write_bytes(gzip.compress(b"BAM\x01" + bytes(100)))
    assert _error(bam).message == "this is a BAM alignment file, not a VCF"


def test_a_kind_of_warning_says_each_of_its_problems_and_never_a_nul() -> None:
    from regovar.adapters.vcf.model import ImportWarnings

    # Sixteen odd header lines once all read "a '##' line that is not KEY=VALUE"; a NUL quoted
    # from a value made the database refuse the import's warnings (a traceback).
    warnings, other = ImportWarnings(), ImportWarnings()
    warnings.add("bad_meta_line", 3, "a '##' line that is not KEY=VALUE ignored")
    warnings.add("bad_meta_line", 4, "a '##' line that is not KEY=VALUE ignored")
    warnings.add("bad_meta_line", 5, "contig 2 declared again with another length")
    other.add("bad_meta_line", 9, "Type 'Int' read as String")
    for i in range(3):
        other.add("bad_meta_line", 10 + i, f"problem {i}")
    other.add("info_value", 12, "INFO DP value '5\x00' is not an Integer")
    warnings.merge(other)
    listed = {w["kind"]: w for w in warnings.as_list()}
    assert listed["bad_meta_line"]["count"] == 7
    assert listed["bad_meta_line"]["message"] == (
        "a '##' line that is not KEY=VALUE ignored; contig 2 declared again with another "
        "length; Type 'Int' read as String; problem 0; and other problems of this kind"
    )
    assert listed["info_value"]["message"] == "INFO DP value '5\ufffd' is not an Integer"


def test_one_sample_written_over_two_columns_is_refused(tmp_path) -> None:
    # In a one-sample file, 'GT:GQ<tab>0/1<tab>35' was read as GT 0/1 and GQ 35, silently;
    # two-sample files were refused. A stray trailing tab is still tolerated.
    from regovar.adapters.vcf import VcfMalformed, open_vcf

    head = ("##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n"
            '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
            '##FORMAT=<ID=GQ,Number=1,Type=Integer,Description="q">\n'
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n")  # fmt: skip
    bad = tmp_path / "bad.vcf"
    bad.write_text(head + "1\t900\t.\tG\tA\t50\tPASS\t.\tGT:GQ\t0/1\t35\n")
    with open_vcf(bad) as reader, pytest.raises(VcfMalformed) as caught:
        list(reader.rows())
    assert caught.value.line == 6 and "expected 10 tab-separated columns" in str(caught.value)
    fine = tmp_path / "fine.vcf"
    fine.write_text(head + "1\t900\t.\tG\tA\t50\tPASS\t.\tGT:GQ\t0/1:35\t\n")
    with open_vcf(fine) as reader:
        (row,) = list(reader.rows())
    assert row.gq == [35]


def test_a_warning_kind_says_its_shared_explanation_once() -> None:
    # 'INFO A=x: kept as written (a value of another type is text; ...)' four times in a line
    from regovar.adapters.vcf import ImportWarnings

    warnings = ImportWarnings()
    why = ": kept as written (a value of another type is text; a missing value per ALT is null)"
    for item in ("A=x is not Integer", "B=7.5 is not Integer"):
        warnings.add("info_value", 3, f"INFO {item}{why}")
    warnings.add("other", 4, "one message: said as it is, explanation and all")
    said = {w["kind"]: w["message"] for w in warnings.as_list()}
    assert said["info_value"] == f"INFO A=x is not Integer; INFO B=7.5 is not Integer{why}"
    assert said["other"] == "one message: said as it is, explanation and all"


def test_keys_given_twice_are_warned_about(tmp_path: Path) -> None:
    # GT:GT read the first GT, DP=1;DP=2 the last DP, both without a word.
    body = ("1\t10\t.\tA\tG\t1\tPASS\tDP=1;X=a;DP=2\tGT:GT\t0/1:1/1\t0/1:0/0\t0/0:0/0\n"
            "1\t20\t.\tA\tC\t1\tPASS\tDP=3\tGT\t0/1\t0/1\t0/1\n")  # fmt: skip
    reader, rows = read(write_vcf(tmp_path, body))
    assert rows[0].gt[0] == "0/1" and rows[0].info["DP"] == "2"  # undeclared: text
    said = {w["kind"]: w for w in reader.warnings.as_list()}["repeated_key"]
    assert said["lines"] == [9, 9] and said["count"] == 2  # one record: FORMAT, INFO
    assert "FORMAT GT given more than once: the first is read" in said["message"]
    assert "INFO DP given more than once: the last is read" in said["message"]

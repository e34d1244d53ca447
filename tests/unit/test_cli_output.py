"""CLI tables show values as text: a name typed by a user cannot break or fake the output."""

from __future__ import annotations

from regovar.cli.output import print_table

ROWS = [{"login": "[/bold]", "name": "[link=https://evil.example]click[/link]"},
        {"login": "a\tb\nfake\trow", "name": "back\\slash"}]  # fmt: skip


def test_square_brackets_are_shown_not_interpreted(capsys):
    print_table(ROWS, "table", total=2)
    out = capsys.readouterr().out
    assert "[/bold]" in out and "[link=https://evil.example]click[/link]" in out


def test_tsv_keeps_one_line_per_row(capsys):
    print_table(ROWS, "tsv")
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "login\tname",
        "[/bold]\t[link=https://evil.example]click[/link]",
        "a\\tb\\nfake\\trow\tback\\\\slash",
    ]


def test_a_missing_depth_reads_as_vcf_missing_in_the_variants_table():
    from regovar.cli.variants import _row

    empty = _row(None, {7: "HG002"}, full=False)
    assert empty["HG002"] == ". . dp=. gq=. vaf=."
    assert _row(None, {7: "HG002"}, full=True)["HG002.dp"] is None  # tsv/json: empty, null


def test_help_read_through_a_pipe_is_not_cut():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "TERMINAL_WIDTH")}
    out = subprocess.run(
        [sys.executable, "-c", "from regovar.cli import main; main()", "variants", "--help"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "NAME[:ZYGOSITY[,ZYG]][:dp>=N][:gq>=N]" in out.stdout and "…" not in out.stdout


def test_conditions_with_a_doubled_operator_or_a_value_that_is_not_finite_are_refused(capsys):
    import pytest
    import typer

    from regovar.cli.variants import _sample_leaves, _variant_leaves
    from regovar.domain import variant_filter as vf
    from regovar.domain.errors import InvalidInput

    for cond in ("dp>>=3", "gq=>20"):
        with pytest.raises(typer.Exit):
            _sample_leaves(1, [cond])
    with pytest.raises(typer.Exit):
        _variant_leaves([], [], [], None, None, False, False, ["AF<<0.1"])
    assert "a value cannot start with an operator" in capsys.readouterr().err
    for node in (vf.SampleValue(1, "dp", "ge", float("inf")), vf.Qual("ge", float("inf")),
                 vf.Info("AF", "lt", float("nan"))):  # fmt: skip
        with pytest.raises(InvalidInput, match="not a finite number"):
            vf.validate(node, (1,))
    vf.validate(vf.SampleValue(1, "dp", "ge", 1e300), (1,))  # large is fine


def test_an_operator_without_a_value_or_text_compared_as_a_number_is_refused(capsys):
    import pytest
    import typer

    from regovar.cli.variants import _variant_leaves
    from regovar.domain import variant_filter as vf
    from regovar.domain.errors import InvalidInput

    with pytest.raises(typer.Exit):
        _variant_leaves([], [], [], None, ">=", False, False, [])
    assert "--qual '>=': no value after the operator" in capsys.readouterr().err
    with pytest.raises(InvalidInput, match="greater or less than compares numbers"):
        vf.validate(vf.Info("DP", "ge", "abc"), (1,))
    vf.validate(vf.Info("culprit", "eq", "MQ"), (1,))  # text is compared for equality


def test_numbers_are_shown_with_every_digit_the_file_had(capsys):
    """%g cut 1234567.0 to 1.23457e+06 and a VAF of 1/3 to 0.33, which 'vaf>=0.333' then kept."""
    from regovar.cli.variants import _row
    from regovar.domain.variants import VariantRow

    print_table([{"depth": 1234567.0, "af": 0.000123, "vaf": 0.25}], "tsv")
    assert capsys.readouterr().out.splitlines()[1] == "1234567\t0.000123\t0.25"
    third = 0.3333333432674408  # 1/3 as the REAL column returns it
    r = VariantRow("00", "1", 100, 100, "A", "T", 18253.009765625, None, None, None, None,
                   None, None, None, None,
                   {7: {"gt": "0/1", "zyg": 1, "dp": 3, "gq": 9, "vaf": third}})  # fmt: skip
    assert _row(r, {7: "HG002"}, full=False)["HG002"].endswith("vaf=0.33333334")
    full = _row(r, {7: "HG002"}, full=True)
    assert (full["qual"], full["HG002.vaf"]) == (18253.01, 0.33333334)


def test_info_flags_can_be_asked_absent_or_false_from_the_command_line():
    # '!DB' was "invalid INFO field name"; 'DB=true' compared the text "true" with a flag.
    from regovar.cli.variants import _variant_leaves
    from regovar.domain import variant_filter as vf

    leaves = _variant_leaves([], [], [], None, None, False, False,
                             ["!DB", "DB=False", "1000G", "CLNSIG!=Pathogenic"])  # fmt: skip
    # 'False' stays text here: the server reads it as a flag's false only where DB is a Flag
    assert leaves == [vf.Not(vf.Info("DB", "exists")), vf.Info("DB", "eq", "False"),
                      vf.Info("1000G", "exists"),
                      vf.Info("CLNSIG", "ne", "Pathogenic")]  # fmt: skip
    for node in leaves:
        vf.validate(node, ())


def test_a_value_that_is_no_finite_number_is_named_as_typed(capsys):
    # 'AF>=1e400' said "AF ge inf: the value is not a finite number"; 'dp>=abc' said "'abc' is
    # not a number" without the condition.
    import pytest
    import typer

    from regovar.cli.variants import _sample_leaves, _variant_leaves

    with pytest.raises(typer.Exit):
        _variant_leaves([], [], [], None, None, False, False, ["AF>=1e400"])
    assert "--info 'AF>=1e400': '1e400' is not a finite number" in capsys.readouterr().err
    with pytest.raises(typer.Exit):
        _sample_leaves(1, ["dp>=abc"])
    assert "'dp>=abc': 'abc' is not a number" in capsys.readouterr().err

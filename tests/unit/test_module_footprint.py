"""What each kind of process loads: parser processes and the CLI stay light."""

from __future__ import annotations

import subprocess
import sys


def _loaded(module: str, *watched: str) -> dict[str, bool]:
    code = (
        f"import sys, {module}; "
        f"print(' '.join(str(m in sys.modules) for m in {list(watched)!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return dict(zip(watched, (v == "True" for v in out.stdout.split()), strict=True))


def test_parser_processes_load_neither_sqlalchemy_nor_polars_up_front() -> None:
    # The fork server preloads import_parse for every parser process: SQLAlchemy would add
    # about 25 MB to each; polars is loaded by a parser when it first parses a chunk.
    # asyncio (40 ms) would delay the fork server's start, so every import's first chunk.
    loaded = _loaded("regovar.domain.import_parse", "sqlalchemy", "asyncpg", "polars", "asyncio")
    assert loaded == {"sqlalchemy": False, "asyncpg": False, "polars": False, "asyncio": False}


def test_the_cli_does_not_load_polars() -> None:
    assert _loaded("regovar.cli", "polars") == {"polars": False}


def test_the_reading_process_plans_the_columnar_parser_without_polars() -> None:
    # polars threads in a worker's main process once kept Ctrl-C from reaching it.
    code = (
        "import sys; from regovar.adapters.vcf import open_vcf; "
        "from tests.helpers import DEMO_VCF; r = open_vcf(DEMO_VCF); "
        "plan = r.columnar_plan(False); import pickle; pickle.dumps(plan); "
        "print(plan is not None, 'polars' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


_SCRIPT = """\
import multiprocessing, sys
from concurrent.futures import ProcessPoolExecutor
from regovar.cli import _run_as_package, main
from regovar.domain.import_parse import PARSER_MODULES
if {named}:
    _run_as_package()
if __name__ == "__main__":
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PARSER_MODULES)
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        print(pool.submit(eval, "'regovar.cli' in __import__('sys').modules").result())
"""


def test_parser_processes_do_not_load_the_console_script_again(tmp_path) -> None:
    # The `regovar` script as pip writes it imports the whole CLI (0.7 s). Unnamed, it was
    # imported again by the fork server of every `regovar import` before a parser started.
    def child_loads_cli(named: bool) -> bool:
        script = tmp_path / f"regovar_{named}"
        script.write_text(_SCRIPT.format(named=named))
        out = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, check=True
        )
        return out.stdout.split()[-1] == "True"

    assert child_loads_cli(named=False) is True  # what multiprocessing does by default
    assert child_loads_cli(named=True) is False


def test_python_dash_m_regovar_is_the_regovar_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "regovar", "--help"], capture_output=True, text=True, check=True
    )
    assert "variant-analysis server" in out.stdout

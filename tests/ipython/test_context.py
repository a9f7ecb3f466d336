"""Notebook context in prompts, in process: ``{df}`` / ``{df:describe}`` and ``{Err}`` /
``{Err[n]}`` in the single-pass interpolation, and the failed cells kept by ``CellErrors``
(IPython's traceback as the user saw it, no colours, the key blanked, bounded)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import KEY
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from nbclaude._ipython.cell_errors import KEEP, LIMIT, CellErrors, error_text
from nbclaude._ipython.interpolate import interpolate

pd = pytest.importorskip("pandas")


def test_a_dataframe_is_described_and_describe_is_a_suffix_only_for_tables() -> None:
    df = pd.DataFrame({"a": range(20)})
    parts, warnings = interpolate("Look: {df} / {df:describe} / {df:>10} / {df.a}", {"df": df})
    [text] = parts
    assert text.startswith("Look: pandas DataFrame `df`: 20 rows, 1 column\n")
    assert text.count("pandas DataFrame `df`") == 2 and text.count("Summary statistics") == 1
    assert text.endswith(" / {df:>10} / {df.a}") and warnings == []
    assert str(df) not in text
    parts, warnings = interpolate("{n:describe}", {"n": 3})
    assert parts == ["{n:describe}"] and "not a DataFrame or Series" in warnings[0]
    parts, warnings = interpolate("{gone:describe}", {})
    assert parts == ["{gone:describe}"] and "is not defined" in warnings[0]


def test_out_n_holding_a_dataframe_is_described() -> None:
    ns = {"Out": {4: pd.DataFrame({"x": [1, 2]})}}
    [text] = interpolate("{Out[4]}", ns)[0]
    assert text.startswith("pandas DataFrame `Out[4]`: 2 rows, 1 column")


@pytest.mark.parametrize("where", ["cell", "long cell", "column", "describe"])
def test_a_dataframe_holding_the_key_is_refused_even_where_a_cell_is_cut(where: str) -> None:
    df = {
        "cell": pd.DataFrame({"s": [KEY[:30]], "t": [KEY]}),
        "long cell": pd.DataFrame({"s": ["x" * 20 + KEY]}),  # cut to 40: the key's start
        "column": pd.DataFrame({KEY: [1]}),
        "describe": pd.DataFrame({"s": ["a"] * 30 + [KEY] * 40 + ["b"] * 30}),  # top value
    }[where]
    with pytest.raises(ValueError, match=r"\{df\} contains your API key"):
        interpolate("{df:describe}", {"df": df}, secrets=[KEY])


ERRORS = {3: "NameError: name 'x' is not defined", 7: "ZeroDivisionError: division by zero"}


def test_err_is_the_last_error_and_err_n_that_of_cell_n() -> None:
    [text] = interpolate("A {Err} B {Err[3]} C {Err[-2]}", {}, errors=ERRORS)[0]
    assert text == (
        "A The error of cell In[7]:\n```text\nZeroDivisionError: division by zero\n```"
        " B The error of cell In[3]:\n```text\nNameError: name 'x' is not defined\n```"
        " C The error of cell In[3]:\n```text\nNameError: name 'x' is not defined\n```"
    )


def test_missing_errors_stay_as_written_with_a_warning() -> None:
    parts, warnings = interpolate("{Err} and {Err[5]}", {}, errors={})
    assert parts == ["{Err} and {Err[5]}"] and "no cell has failed yet" in warnings[0]
    parts, warnings = interpolate("{Err[5]} {Err[-9]}", {}, errors=ERRORS)
    assert parts == ["{Err[5]} {Err[-9]}"]
    assert len(warnings) == 2 and "the last failed cells: 3, 7" in warnings[0]


def test_the_key_is_blanked_in_any_case_and_inserted_text_is_never_expanded() -> None:
    errors = {2: f"KeyError: {KEY.upper()} {{Err}} {{secret}}"}
    [text] = interpolate("{Err}", {"secret": "S"}, secrets=[KEY], errors=errors)[0]
    assert KEY.upper() not in text and "KeyError: <redacted> {Err} {secret}" in text


def test_a_traceback_with_backticks_keeps_its_fence_closed() -> None:
    [text] = interpolate("{Err}", {}, errors={1: "x = ```\nSyntaxError"})[0]
    assert "````text\nx = ```\nSyntaxError\n````" in text


def test_without_errors_err_is_an_ordinary_name() -> None:
    assert interpolate("{Err}", {"Err": "mine"})[0] == ["mine"]
    assert interpolate("{Err[1]}", {})[0] == ["{Err[1]}"]


@pytest.fixture
def shell() -> Iterator[tuple[InteractiveShell, CellErrors]]:
    ip = InteractiveShell.instance()
    errors = CellErrors(ip, hidden=lambda: [KEY])
    errors.watch()
    yield ip, errors
    errors.unwatch()


def run(ip: InteractiveShell, code: str) -> Any:
    with capture_output():
        return ip.run_cell(code, store_history=True)


def test_failed_cells_are_kept_as_the_user_saw_them(shell: Any) -> None:
    ip, errors = shell
    failed = run(ip, "def f():\n    return 1 / 0\n\nf()")
    assert not failed.success
    text = errors[failed.execution_count]
    assert "\x1b" not in text
    assert "ZeroDivisionError" in text and "return 1 / 0" in text
    assert f"Cell In[{failed.execution_count}], line 4" in text
    ok = run(ip, "1 + 1")
    assert ok.execution_count not in errors
    broken = run(ip, "def (:")
    assert "SyntaxError" in errors[broken.execution_count]
    keyed = run(ip, f"raise ValueError('key {KEY}')")
    assert (
        KEY not in errors[keyed.execution_count] and "<redacted>" in errors[keyed.execution_count]
    )


def test_only_the_last_failed_cells_are_kept_and_long_ones_are_cut(shell: Any) -> None:
    ip, errors = shell
    numbers = [run(ip, f"raise RuntimeError('{i}')").execution_count for i in range(KEEP + 5)]
    assert list(errors)[-KEEP:] == numbers[-KEEP:] and len(errors) <= KEEP
    long = run(ip, "raise RuntimeError('start ' + 'x' * 50_000 + ' end')")
    text = errors[long.execution_count]
    assert len(text) < LIMIT + 200 and "characters of the traceback left out" in text
    assert "RuntimeError" in text[:400] and text.endswith(" end")  # its start and its end


def test_the_error_from_before_load_ext_is_kept_too() -> None:
    ip = InteractiveShell.instance()
    with capture_output():
        failed = ip.run_cell("undefined_name_here", store_history=True)
    errors = CellErrors(ip)
    errors.watch()
    try:
        assert "NameError" in errors[failed.execution_count]
    finally:
        errors.unwatch()


def test_error_text_uses_the_errors_own_one_line_rendering() -> None:
    class CleanError(Exception):
        def _render_traceback_(self) -> list[str]:
            return ["\x1b[0;31mRateLimitError\x1b[0m: slow down"]

    assert error_text(None, CleanError()) == "RateLimitError: slow down"


def test_load_ext_stays_light_no_table_library_or_image_stack() -> None:
    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "heavy = ('pandas', 'polars', 'numpy', 'PIL', 'matplotlib', 'nbclient')\n"
        "before = {m for m in heavy if m in sys.modules}\n"
        "ip.run_line_magic('load_ext', 'nbclaude')\n"
        "assert 'claude' in ip.magics_manager.magics['cell']\n"
        "print(sorted(m for m in heavy if m in sys.modules and m not in before))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"

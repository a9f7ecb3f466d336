"""Notebook context in a real kernel, against the loopback fake: ``{df}`` sends a
pandas or polars table's description (not ``str(df)``), ``{df:describe}`` adds ``describe()``,
``{Err}`` / ``{Err[n]}`` send the error and traceback of the last / of cell n as plain text
with the key blanked (also in ``%xmode Verbose``, and for a magic's one-line error), and the
prompt form of ``%claude fix`` works. Every iopub message is checked for the key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import KEY
from ipython.kernel_support import (
    everything,
    final_markdown,
    loaded_kernel,
    loopback_env,
    readable,
    run,
    served_fake,
)

from nbclaude.testing import FakeAnthropic, Text

pytestmark = pytest.mark.kernel
pytest.importorskip("pandas")
pytest.importorskip("polars")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with served_fake() as fake:
        yield fake


@pytest.fixture(scope="module")
def kc(fake: FakeAnthropic) -> Iterator[Any]:
    with loaded_kernel(loopback_env(fake.url)) as (_km, kc):  # type: ignore[attr-defined]
        yield kc


def sent(fake: FakeAnthropic) -> str:
    """The text of the last user message the fake received."""
    body = fake.requests[-1].json
    assert body is not None
    content = body["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") for b in content if b.get("type") == "text")


def ask(kc: Any, fake: FakeAnthropic, prompt: str) -> tuple[str, str, list[dict[str, Any]]]:
    """Run a ``%%claude --once`` cell; what was sent, what the cell kept, every message."""
    fake.add(Text("Noted."))
    reply, outputs = run(kc, f"%%claude --once\n{prompt}")
    assert reply["status"] == "ok", reply
    assert KEY not in everything(outputs)
    return sent(fake), readable(final_markdown(outputs)), outputs


def test_a_dataframe_is_described_not_printed(kc: Any, fake: FakeAnthropic) -> None:
    code = (
        "import pandas as pd, polars as pl\n"
        "df = pd.DataFrame({'city': [f'City {i}' for i in range(1000)],\n"
        "                   'units': range(1000), 'price': [i / 4 for i in range(1000)]})\n"
        "pdf = pl.DataFrame({c: list(df[c]) for c in df.columns})\n"
        "prices = df['price']"
    )
    assert run(kc, code)[0]["status"] == "ok"
    text, shown, _ = ask(kc, fake, "Summarise {df}, then {pdf:describe}; and {prices}.")
    assert text.startswith("Summarise pandas DataFrame `df`: 1,000 rows, 3 columns\n")
    assert "Columns (dtype): city (str), units (int64), price (float64)" in text
    assert "|  | city | units | price |" in text and "| 999 | City 999 | 999 | 249.75 |" in text
    assert "Left out: 990 of 1,000 rows (all but the first and last 5)." in text
    assert "polars DataFrame `pdf`: 1,000 rows, 3 columns" in text
    assert "| city | units | price |" in text and "Summary statistics (describe()):" in text
    assert "| statistic | city | units | price |" in text
    assert "pandas Series `prices` (name 'price'): 1,000 values, dtype float64" in text
    assert "[1000 rows x 3 columns]" not in text  # no str(df)
    assert len(text) < 3 * 4000 + 200
    assert "Noted." in shown


def test_describe_on_something_else_stays_as_written_with_a_warning(
    kc: Any, fake: FakeAnthropic
) -> None:
    assert run(kc, "n = 3")[0]["status"] == "ok"
    text, shown, _ = ask(kc, fake, "What is {n:describe} and {n}?")
    assert text == "What is {n:describe} and 3?"
    assert "{n:describe}: n is a int, not a DataFrame or Series" in shown


def test_err_sends_the_last_error_and_err_n_that_of_cell_n(kc: Any, fake: FakeAnthropic) -> None:
    key_cell, _ = run(
        kc, "import os\nraise ValueError('refused: ' + os.environ['ANTHROPIC_API_KEY'])"
    )
    assert key_cell["status"] == "error"
    n = key_cell["execution_count"]
    zero, _ = run(kc, "def average(xs):\n    return sum(xs) / len(xs)\n\naverage([])")
    assert zero["status"] == "error"
    m = zero["execution_count"]
    text, _, _ = ask(kc, fake, "Why does this fail? {Err}")
    assert text.startswith(f"Why does this fail? The error of cell In[{m}]:\n```text\n")
    assert "ZeroDivisionError" in text and "division by zero" in text
    assert f"Cell In[{m}], line 4" in text and "return sum(xs) / len(xs)" in text  # the traceback
    assert "\x1b" not in text  # no colours
    text, _, _ = ask(kc, fake, "And this one? {Err[" + str(n) + "]}")
    assert f"The error of cell In[{n}]:" in text
    assert "ValueError: refused: <redacted>" in text and KEY not in text
    text, _, _ = ask(kc, fake, "The one before the last: {Err[-2]}")
    assert f"The error of cell In[{n}]:" in text


def test_a_verbose_traceback_blanks_the_key_in_its_locals(kc: Any, fake: FakeAnthropic) -> None:
    assert run(kc, "%xmode Verbose")[0]["status"] == "ok"
    try:
        failed, _ = run(
            kc, "def call(key):\n    return 1 / 0\n\ncall(os.environ['ANTHROPIC_API_KEY'])"
        )
        assert failed["status"] == "error"
        text, _, outputs = ask(kc, fake, "Why? {Err}")
    finally:
        run(kc, "%xmode Context")
    assert "ZeroDivisionError" in text and "key=" in text  # Verbose shows the argument ...
    assert "<redacted>" in text and KEY not in text  # ... blanked
    assert KEY not in everything(outputs)


def test_a_magics_one_line_error_is_the_error_sent(kc: Any, fake: FakeAnthropic) -> None:
    failed, _ = run(kc, "%%claude --max-steps -1\nHello")
    assert failed["status"] == "error"
    text, _, _ = ask(kc, fake, "What went wrong? {Err}")
    assert "UsageError" in text and "--max-steps needs a whole number" in text


def test_an_unknown_cell_stays_as_written_with_a_warning(kc: Any, fake: FakeAnthropic) -> None:
    text, shown, _ = ask(kc, fake, "See {Err[9999]}.")
    assert text == "See {Err[9999]}."
    assert "{Err[9999]}: that cell raised no error nbclaude kept" in shown

"""A table as a prompt carries it (README, "%%claude: a cell is a prompt"): pandas and polars
DataFrames and Series become their shape, columns and dtypes, and first and last rows as a
Markdown table, within the cap, saying what was left out; ``describe()`` on request; never
``str(df)``; and recognising one imports neither library."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from markdown_it import MarkdownIt

from nbclaude._content import describe_frame, is_frame
from nbclaude._content.dataframe import FRAME_LIMIT

pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")
np = pytest.importorskip("numpy")


def tables(markdown: str) -> list[list[list[str]]]:
    """The GFM tables in ``markdown``, as rows of cell texts (header first), as a renderer
    reads them."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    found: list[list[list[str]]] = []
    row: list[str] | None = None
    for token in tokens:
        if token.type == "table_open":
            found.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            row.append(token.content)
        elif token.type == "tr_close" and row is not None:
            found[-1].append(row)
            row = None
    return found


def sales(rows: int = 1000) -> Any:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "city": [f"City {i}" for i in range(rows)],
            "units": np.arange(rows, dtype="int64"),
            "price": rng.uniform(1, 10, rows).round(2),
            "when": pd.date_range("2026-01-01", periods=rows, freq="h"),
        }
    )


def test_a_pandas_frame_gives_shape_dtypes_and_first_and_last_rows() -> None:
    df = sales()
    text = describe_frame(df, name="sales")
    assert text.startswith("pandas DataFrame `sales`: 1,000 rows, 4 columns\n")
    assert "city (str)" in text or "city (object)" in text
    assert "units (int64)" in text and "price (float64)" in text and "when (datetime64" in text
    [table] = tables(text)
    assert table[0] == ["", "city", "units", "price", "when"]
    body = table[1:]
    assert [r[0] for r in body] == ["0", "1", "2", "3", "4", "…", "995", "996", "997", "998", "999"]
    assert body[0][1:3] == ["City 0", "0"] and body[-1][1:3] == ["City 999", "999"]
    assert body[0][4] == "2026-01-01 00:00:00"
    assert "Left out: 990 of 1,000 rows (all but the first and last 5)." in text
    assert str(df) not in text and "..." not in text


def test_a_small_frame_is_shown_whole_and_says_nothing_is_left_out() -> None:
    df = pd.DataFrame({"name": ["Ada", "Grace"], "born": [1815, 1906]})
    text = describe_frame(df)
    [table] = tables(text)
    assert table == [["", "name", "born"], ["0", "Ada", "1815"], ["1", "Grace", "1906"]]
    assert "Left out" not in text


def test_polars_frames_and_series_too() -> None:
    df = pl.DataFrame({"x": list(range(30)), "label": [f"l{i}" for i in range(30)]})
    text = describe_frame(df, name="pdf")
    assert text.startswith("polars DataFrame `pdf`: 30 rows, 2 columns\n")
    assert "x (Int64)" in text and "label (String)" in text
    [table] = tables(text)
    assert table[0] == ["x", "label"]
    assert [r[0] for r in table[1:]] == ["0", "1", "2", "3", "4", "…", "25", "26", "27", "28", "29"]
    assert "Left out: 20 of 30 rows" in text
    s = pl.Series("score", [1.5, None, 3.25])
    text = describe_frame(s, name="score")
    assert text.startswith("polars Series `score` (name 'score'): 3 values, dtype Float64")
    assert [r[0] for r in tables(text)[0]] == ["score", "1.5", "null", "3.25"]


def test_a_pandas_series_and_a_named_index() -> None:
    s = pd.Series([3.0, None], index=pd.Index(["a", "b"], name="key"), name="price")
    text = describe_frame(s, name="s")
    assert text.startswith("pandas Series `s` (name 'price'): 2 values, dtype float64")
    assert "Index `key`" in text
    assert tables(text)[0] == [["", "price"], ["a", "3"], ["b", "nan"]]


@pytest.mark.parametrize(
    "make",
    [
        lambda: pd.DataFrame(np.arange(200_000.0).reshape(2000, 100)),  # wide and long
        lambda: pd.DataFrame(
            {f"column number {i} with a long name": ["x" * 500] * 50 for i in range(300)}
        ),
        lambda: pl.DataFrame({f"c{i}": ["y|" * 300] * 100 for i in range(40)}),
        lambda: pd.DataFrame({"one": ["z" * 100_000]}),
    ],
)
def test_it_stays_within_the_cap_and_says_what_was_left_out(make: Any) -> None:
    df = make()
    text = describe_frame(df)
    assert len(text) <= FRAME_LIMIT
    assert "Left out:" in text
    [table] = tables(text)
    widths = {len(row) for row in table}
    assert len(widths) == 1, "every row of the table has the header's cells"
    if df.shape[1] > len(table[0]):
        assert "columns from the table" in text and "…" in table[0]


def test_a_very_wide_frame_lists_as_many_columns_as_fit_and_counts_the_rest() -> None:
    df = pd.DataFrame({f"feature_{i:04d}": [i] for i in range(2000)})
    text = describe_frame(df)
    assert len(text) <= FRAME_LIMIT
    assert "feature_0000 (int64)" in text
    assert "more columns" in text and "feature_1999 (int64)" not in text.split("\n\n")[0]


def test_cells_are_cut_escaped_and_on_one_line() -> None:
    df = pd.DataFrame({"a|b": ["x|y\nz", "q" * 80]})
    text = describe_frame(df)
    [table] = tables(text)
    assert table[0] == ["", "a|b"]  # an escaped pipe stays in its cell
    assert table[1] == ["0", "x|y z"]
    assert table[2][1] == "q" * 39 + "…"
    assert "the end of 1 cell(s) longer than 40 characters" in text


def test_describe_is_added_on_request() -> None:
    df = sales(50)
    text = describe_frame(df, describe=True)
    assert "Summary statistics (describe()):" in text
    _first, stats = tables(text)
    assert {"count", "mean", "std", "min", "max"} <= {r[0] for r in stats[1:]}
    assert stats[0][:3] == ["", "units", "price"]
    assert len(text) <= 2 * FRAME_LIMIT + 2
    polars = describe_frame(pl.from_pandas(df[["units", "price"]]), describe=True)
    assert tables(polars)[1][0] == ["statistic", "units", "price"]


def test_describe_that_cannot_summarise_says_so() -> None:
    text = describe_frame(pd.DataFrame(), describe=True)
    assert text.startswith("pandas DataFrame: 0 rows, 0 columns")
    assert "describe() gave no summary: ValueError" in text


def test_empty_tables() -> None:
    text = describe_frame(pd.DataFrame({"a": []}))
    assert tables(text) == [[["", "a"]]] and "(No rows.)" in text


def test_only_tables_are_tables() -> None:
    assert is_frame(pd.DataFrame()) and is_frame(pd.Series(dtype=float))
    assert is_frame(pl.DataFrame()) and is_frame(pl.Series([1]))
    for other in ([1, 2], {"a": [1]}, "df", np.zeros((2, 2)), pl.LazyFrame({"a": [1]})):
        assert not is_frame(other)
    with pytest.raises(TypeError, match="DataFrame or Series"):
        describe_frame([1, 2])


def test_recognising_a_table_imports_neither_library() -> None:
    code = (
        "import sys, nbclaude\n"
        "from nbclaude._content import is_frame\n"
        "from nbclaude._ipython.interpolate import interpolate\n"
        "assert not is_frame([1]) and interpolate('{x}', {'x': [1]})[0] == ['[1]']\n"
        "print('pandas' in sys.modules, 'polars' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]

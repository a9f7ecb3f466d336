"""A table as a prompt can carry it: :func:`describe_frame` for pandas and polars values.

``str(df)`` is a poor thing to send a model: columns wrap, dtypes are missing and nothing says
what was left out. :func:`describe_frame` writes what a reader needs instead, within a size cap:

- what it is and its shape (``pandas DataFrame `sales`: 1,000 rows, 4 columns``), and for
  pandas a named or non-default index;
- every column's name and dtype (a very wide table: as many as fit, then how many more);
- the first and the last rows as a Markdown table (fewer rows, then fewer and narrower columns
  until it fits), long cells cut;
- one line saying what was left out: rows, columns of the table, cut cells;
- on request, ``describe()`` as a second table.

:func:`is_frame` recognises the values by class name and module only (like
:func:`~nbclaude._content.images.is_image_like`), so neither pandas nor polars is ever
imported here: a value of a library that is not loaded cannot be one of its objects.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FRAME_LIMIT", "describe_frame", "frame_kind", "is_frame"]

#: The most characters :func:`describe_frame` writes (its ``describe()`` table has as many).
FRAME_LIMIT = 4000

_COLUMNS_SHARE = 1200  # of the limit, at most this much for the list of columns and dtypes
#: (columns in the table, characters per cell), tried in order until the table fits ...
_SHAPES = ((12, 40), (8, 30), (6, 20), (4, 16), (2, 12), (1, 12))
#: ... and for each, the first and last rows shown (head and tail), fewest last.
_ROWS = (5, 3, 2, 1)


def frame_kind(value: Any) -> tuple[str, str] | None:
    """``("pandas" | "polars", "DataFrame" | "Series")`` for a table, else ``None``.

    Cheap: it looks at class names and modules only (a polars ``LazyFrame`` is not a table:
    describing it would run the query).

    Examples
    --------
    >>> frame_kind({"a": [1, 2]}) is None
    True
    """
    for cls in type(value).__mro__:
        library = cls.__module__.split(".", 1)[0]
        if library in ("pandas", "polars") and cls.__name__ in ("DataFrame", "Series"):
            return library, cls.__name__
    return None


def is_frame(value: Any) -> bool:
    """Whether ``value`` is a pandas or polars DataFrame or Series (imports nothing).

    Examples
    --------
    >>> is_frame([[1, 2], [3, 4]])
    False
    """
    return frame_kind(value) is not None


def describe_frame(
    value: Any,
    *,
    name: str | None = None,
    describe: bool = False,
    limit: int = FRAME_LIMIT,
    screen: Callable[[str], None] | None = None,
) -> str:
    """A description of a pandas or polars DataFrame or Series, for a prompt.

    Parameters
    ----------
    value : pandas or polars DataFrame or Series
        The table (:func:`is_frame`).
    name : str, optional
        The variable's name, to say which table it is.
    describe : bool
        Add ``value.describe()`` (summary statistics) as a second table.
    limit : int
        The most characters of the description (and as many again for ``describe()``).
    screen : callable, optional
        Called with the whole text of every cell and name the description shows, before a
        long one is cut; it raises to refuse (interpolation refuses the API key: a cut cell
        must not carry the start of one either).

    Returns
    -------
    str
        Markdown: the kind and shape, the columns with their dtypes, the first and last rows
        as a table, and what was left out.

    Raises
    ------
    TypeError
        When ``value`` is not a DataFrame or Series.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"name": ["Ada", "Alan", "Grace"], "born": [1815, 1912, 1906]})
    >>> print(describe_frame(df, name="df"))
    pandas DataFrame `df`: 3 rows, 2 columns
    Columns (dtype): name (str), born (int64)
    <BLANKLINE>
    |  | name | born |
    |---|---|---|
    | 0 | Ada | 1815 |
    | 1 | Alan | 1912 |
    | 2 | Grace | 1906 |
    """
    kind = frame_kind(value)
    if kind is None:
        raise TypeError(f"describe_frame: a DataFrame or Series, not {type(value).__name__}")
    table = _Table.of(value, *kind)
    table.screen = screen or _nothing
    what = f"{kind[0]} {kind[1]}" + (f" `{name}`" if name else "")
    if kind[1] == "Series":
        label = "" if table.series_name is None else f" (name {table.series_name!r})"
        head = [f"{what}{label}: {_n(table.rows, 'value')}, dtype {table.dtypes[0]}"]
    else:
        head = [f"{what}: {_n(table.rows, 'row')}, {_n(table.width, 'column')}"]
        if table.width:
            head.append(_columns_line(table))
    if table.index_note:
        head.append(table.index_note)
    text = _fit("\n".join(head), table, limit)
    if describe:
        text += "\n\n" + _describe(value, kind, limit, table.screen)
    return text


def _nothing(text: str) -> None:
    return None


# -- the table, whichever library it comes from --------------------------------------------------


@dataclass
class _Table:
    """What :func:`describe_frame` reads from a frame: sizes, names, dtypes, and cells."""

    frame: Any
    library: str
    rows: int
    width: int
    columns: list[str]
    dtypes: list[str]
    series_name: Any = None
    index_note: str = ""
    has_index: bool = False
    missing: str = "None"
    screen: Callable[[str], None] = field(default=lambda text: None)

    @classmethod
    def of(cls, value: Any, library: str, kind: str) -> _Table:
        series_name = getattr(value, "name", None) if kind == "Series" else None
        if library == "pandas":
            frame = value
            if kind == "Series":
                frame = value.to_frame() if series_name is not None else value.to_frame("value")
            rows, width = (int(n) for n in frame.shape)
            table = cls(frame, library, rows, width, [_label(c) for c in frame.columns],
                        [str(d) for d in frame.dtypes], series_name, has_index=True)  # fmt: skip
            table.index_note = _index_note(frame.index)
            return table
        frame = value.to_frame() if kind == "Series" else value
        rows, width = (int(n) for n in frame.shape)
        series_name = series_name or None  # a polars Series always has a name, often ""
        return cls(frame, library, rows, width, [str(c) for c in frame.columns],
                   [str(d) for d in frame.dtypes], series_name, missing="null")  # fmt: skip

    def cells(self, rows: list[int], columns: list[int]) -> list[list[Any]]:
        """The values at these row and column positions (row labels first, for pandas)."""
        if self.library == "pandas":
            sub = self.frame.iloc[rows, columns]
            return [
                [_label(sub.index[i]), *(sub.iat[i, j] for j in range(len(columns)))]
                for i in range(len(rows))
            ]
        names = [self.columns[j] for j in columns]
        out: list[list[Any]] = []
        for start, stop in _runs(rows):
            out += [list(r) for r in self.frame.slice(start, stop - start).select(names).rows()]
        return out


def _runs(positions: list[int]) -> Iterator[tuple[int, int]]:
    """Consecutive runs of ``positions`` as ``(start, stop)``."""
    start = prev = None
    for p in positions:
        if start is None or prev is None or p != prev + 1:
            if start is not None and prev is not None:
                yield start, prev + 1
            start = p
        prev = p
    if start is not None and prev is not None:
        yield start, prev + 1


def _label(value: Any) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


def _index_note(index: Any) -> str:
    """A line about a pandas index worth knowing (named, or not 0, 1, 2, ...)."""
    kind = type(index).__name__
    if kind == "RangeIndex" and index.name is None and index.start == 0 and index.step == 1:
        return ""
    names = [n for n in getattr(index, "names", [index.name]) if n is not None]
    named = f" `{', '.join(str(n) for n in names)}`" if names else ""
    return f"Index{named}: {kind} ({index.dtype})"


def _columns_line(table: _Table) -> str:
    items: list[str] = []
    used = 0
    for n, (column, dtype) in enumerate(zip(table.columns, table.dtypes, strict=True)):
        table.screen(column)
        item = f"{_short(column, 60)} ({dtype})"
        if used + len(item) > _COLUMNS_SHARE and n < table.width - 1:
            items.append(f"… and {table.width - n:,} more columns")
            break
        items.append(item)
        used += len(item) + 2
    return "Columns (dtype): " + ", ".join(items)


# -- the Markdown table, fitted -----------------------------------------------------------------


def _fit(head: str, table: _Table, limit: int) -> str:
    """``head`` and the largest table (rows first, then columns) that fit in ``limit``."""
    if not table.width:
        return head
    text = head
    for max_columns, cell in _SHAPES:
        for each in _ROWS:
            text = head + "\n\n" + _markdown_table(table, each, max_columns, cell)
            if len(text) <= limit:
                return text
    return text[: max(limit - 40, 0)].rstrip() + f"\n[cut at {limit:,} characters]"


def _markdown_table(table: _Table, each: int, max_columns: int, width: int) -> str:
    rows = list(range(table.rows))
    if table.rows > 2 * each:
        rows = rows[:each] + rows[-each:]
    columns = list(range(table.width))
    if table.width > max_columns:
        first = max_columns - max_columns // 2
        columns = columns[:first] + columns[table.width - max_columns // 2 :]
    cut = 0

    def cell(value: Any) -> str:
        nonlocal cut
        text = _cell_text(value, table.missing)
        table.screen(text)
        if len(text) > width:
            cut += 1
            text = text[: width - 1] + "…"
        return text.replace("\\", "\\\\").replace("|", "\\|")

    values = table.cells(rows, columns)
    header = [table.columns[j] for j in columns]
    gap = table.width > len(columns)
    if gap:
        header.insert(len(header) - max_columns // 2, "…")
    if table.has_index:
        header.insert(0, "")
    lines = ["| " + " | ".join(cell(h) for h in header) + " |"]
    lines.append("|" + "---|" * len(header))
    for n, row in enumerate(values):
        if n == each and table.rows > 2 * each:
            lines.append("| " + " | ".join("…" for _ in header) + " |")
        shown = [cell(v) for v in row]
        if gap:
            shown.insert(len(shown) - max_columns // 2, "…")
        lines.append("| " + " | ".join(shown) + " |")
    left = _left_out(table, len(rows), len(columns), cut, width) if rows else "(No rows.)"
    return "\n".join(lines) + (f"\n\n{left}" if left else "")


def _cell_text(value: Any, missing: str) -> str:
    if value is None:
        return missing
    if isinstance(value, float) or (
        type(value).__module__ == "numpy" and "float" in type(value).__name__
    ):
        number = float(value)
        return str(value) if math.isnan(number) or math.isinf(number) else f"{number:.6g}"
    return " ".join(str(value).replace("\r\n", "\n").split("\n"))


def _left_out(table: _Table, rows: int, columns: int, cut: int, width: int) -> str:
    gone = []
    if rows < table.rows:
        each = rows // 2
        gone.append(f"{table.rows - rows:,} of {table.rows:,} rows (all but the first and last "
                    f"{each:,})")  # fmt: skip
    if columns < table.width:
        gone.append(f"{table.width - columns:,} of {table.width:,} columns from the table "
                    "(the middle ones)")  # fmt: skip
    if cut:
        gone.append(f"the end of {cut:,} cell(s) longer than {width} characters (marked …)")
    return "Left out: " + "; ".join(gone) + "." if gone else ""


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _describe(value: Any, kind: tuple[str, str], limit: int, screen: Callable[[str], None]) -> str:
    """``value.describe()`` as a Markdown table (or why there is none)."""
    try:
        summary = value.describe()
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}"
        screen(why)
        return f"describe() gave no summary: {_short(why, 200)}"
    if kind[0] == "pandas" and frame_kind(summary) == ("pandas", "Series"):
        summary = summary.to_frame()
    found = frame_kind(summary)
    if found is None:
        screen(str(summary))
        return f"Summary statistics (describe()):\n\n{_short(str(summary), limit)}"
    table = _Table.of(summary, *found)
    table.screen = screen
    return _fit("Summary statistics (describe()):", table, limit)

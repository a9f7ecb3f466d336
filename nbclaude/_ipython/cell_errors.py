"""The errors of the cells that failed, for ``{Err[n]}`` / ``{Err}`` and ``%claude fix``.

IPython keeps only the last error (``sys.last_value``), and the traceback a user saw is gone
once it is shown. :class:`CellErrors` listens to IPython's ``post_run_cell`` event (registered
at ``%load_ext nbclaude``) and keeps, for each cell that failed, the error as the user saw it:
IPython's own traceback (the current ``%xmode``; a magic's one clean line), ANSI colours
stripped, the key and token blanked in any letter case, long ones cut in the middle. Only text
is kept (no exception or frame stays alive), for the last :data:`KEEP` failed cells.
"""

from __future__ import annotations

import contextlib
import re
import sys
import traceback
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from nbclaude._client.credentials import redact, secrets
from nbclaude._exceptions import InvalidRequestError
from nbclaude._session.session import get_session

__all__ = ["KEEP", "LIMIT", "CellErrors", "error_text", "fix"]

#: How many failed cells are kept.
KEEP = 50
#: The most characters kept of one error (its start and its end; the middle is cut).
LIMIT = 6000

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")


def error_text(
    shell: Any, exc: BaseException, *, hidden: Collection[str] = (), limit: int = LIMIT
) -> str:
    """``exc`` as IPython shows it, as plain text: no colours, ``hidden`` strings blanked.

    Examples
    --------
    >>> try:
    ...     1 / 0
    ... except ZeroDivisionError as exc:
    ...     print(error_text(None, exc).splitlines()[-1])
    ZeroDivisionError: division by zero
    """
    text = redact(_ANSI.sub("", "\n".join(_lines(shell, exc))), hidden, any_case=True)
    text = "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")
    if len(text) > limit:
        head, tail = limit // 3, limit - limit // 3
        cut = len(text) - head - tail
        text = f"{text[:head]}\n[… {cut:,} characters of the traceback left out …]\n{text[-tail:]}"
    return text


def _lines(shell: Any, exc: BaseException) -> list[str]:
    """The traceback's lines: the error's own one-line rendering (a magic's clean error),
    else IPython's formatter, else Python's."""
    render = getattr(exc, "_render_traceback_", None)
    if callable(render):
        try:
            lines = render()
        except Exception:
            lines = None
        if isinstance(lines, list):
            return [str(line) for line in lines]
    formatter = getattr(
        shell, "SyntaxTB" if isinstance(exc, SyntaxError) else "InteractiveTB", None
    )
    if formatter is not None:
        try:
            found = formatter.structured_traceback(type(exc), exc, exc.__traceback__)
        except Exception:
            found = None
        if isinstance(found, list) and found:
            return [str(line) for line in found]
    return traceback.format_exception(type(exc), exc, exc.__traceback__)


class CellErrors(Mapping[int, str]):
    """Cell number -> the error that cell raised, as plain text (the key blanked).

    Parameters
    ----------
    shell : IPython shell
        Whose cells are watched (:meth:`watch`).
    hidden : callable
        ``hidden()`` -> the strings to blank (the API key and token of the moment).
    keep : int
        How many failed cells to keep (the oldest go first).

    Examples
    --------
    >>> errors = CellErrors(None, hidden=lambda: ["sk-ant-example-123"])
    >>> errors.add(3, ValueError("bad key sk-ant-example-123"))
    >>> errors[3].splitlines()[-1], list(errors)
    ('ValueError: bad key <redacted>', [3])
    """

    def __init__(
        self, shell: Any, *, hidden: Callable[[], Collection[str]] = tuple, keep: int = KEEP
    ) -> None:
        self.shell = shell
        self._hidden = hidden
        self._keep = keep
        self._errors: OrderedDict[int, str] = OrderedDict()

    def __getitem__(self, number: int) -> str:
        return self._errors[number]

    def __iter__(self) -> Iterator[int]:
        return iter(self._errors)

    def __len__(self) -> int:
        return len(self._errors)

    def __repr__(self) -> str:
        return f"CellErrors(cells={list(self._errors)})"

    def add(self, number: int, exc: BaseException) -> None:
        """Keep ``exc`` as the error of cell ``number``."""
        text = error_text(self.shell, exc, hidden=self._hidden())
        self._errors.pop(number, None)
        self._errors[number] = text
        while len(self._errors) > self._keep:
            self._errors.popitem(last=False)

    def record(self, result: Any) -> None:
        """IPython's ``post_run_cell`` hook: keep the error of a cell that failed."""
        exc = getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)
        number = getattr(result, "execution_count", None)
        if isinstance(exc, BaseException) and isinstance(number, int):
            try:
                self.add(number, exc)
            except Exception:  # never break the user's next cell over a traceback
                return

    def watch(self) -> None:
        """Listen to the shell's cells; the last error from before (``sys.last_value``) is
        kept too, under its cell's number when its traceback names one."""
        exc = getattr(sys, "last_value", None)
        if isinstance(exc, BaseException):
            number = _cell_of(self.shell, exc)
            if number is not None:
                self.add(number, exc)
        self.shell.events.register("post_run_cell", self.record)

    def unwatch(self) -> None:
        """Stop listening (``%unload_ext``)."""
        with contextlib.suppress(ValueError):
            self.shell.events.unregister("post_run_cell", self.record)


def _cell_of(shell: Any, exc: BaseException) -> int | None:
    """The number of the cell whose code raised ``exc``, from its traceback's frames."""
    filename_map = getattr(getattr(shell, "compile", None), "_filename_map", {}) or {}
    tb = exc.__traceback__
    found: int | None = None
    while tb is not None:
        number = filename_map.get(tb.tb_frame.f_code.co_filename)
        if isinstance(number, int):
            found = number
        tb = tb.tb_next
    return found


def fix(where: Any, args: list[str]) -> None:
    """Ask Claude to explain the last error, with its traceback and that cell's source (the key
    and token blanked out, in any letter case).

    The error is the one of the last cell that failed, as the notebook showed it
    (``where.errors``, a :class:`CellErrors`: IPython's traceback, no colours); without one
    kept, Python's own traceback of ``sys.last_value``.
    """
    shell = where.shell
    errors: Mapping[int, str] | None = getattr(where, "errors", None)
    if errors:
        number = max(errors)
        tb = errors[number]
        cells = shell.user_ns.get("In") or []
        source = str(cells[number]) if 0 <= number < len(cells) else ""
    else:
        exc = getattr(sys, "last_value", None)
        if exc is None:
            raise InvalidRequestError(
                "There is no error to explain yet: run the failing cell first."
            )
        source = _failing_cell_source(shell, exc)
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    prompt = (
        "This cell in my Jupyter notebook raised an error. Explain in plain words what went "
        "wrong and how to fix it, with corrected code.\n\n"
        f"The cell:\n```python\n{source.rstrip()}\n```\n\n"
        f"The error:\n{_fenced(tb.rstrip())}"
    )
    # In any letter case (the request would be refused for the key in another case).
    prompt = redact(prompt, secrets(get_session().client), any_case=True)
    shell.run_cell_magic("claude", "--no-interpolate", prompt)


def _fenced(text: str) -> str:
    """``text`` in a code fence longer than any run of backticks in it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


def _failing_cell_source(shell: Any, exc: BaseException) -> str:
    """The source of the cell that raised ``exc``: found from the traceback's frames (the
    cell's code object file name), else the cell before this one."""
    cells = shell.user_ns.get("In") or []
    found = _cell_of(shell, exc)
    if found is not None and 0 <= found < len(cells):
        return str(cells[found])
    return str(cells[-2]) if len(cells) >= 2 else ""

"""Expected failures in a magic as one clean line, not a traceback.

A ``%%claude`` cell that fails for an expected reason (no key, a rate limit, a bad request, a
bad image) raises :class:`CleanError`: IPython shows its ``_render_traceback_`` (one red line,
named after the original error) and the cell still fails, so "Run all" stops there. The
original error is its ``__cause__``.
"""

from __future__ import annotations

__all__ = ["CleanError", "Interrupted", "clean"]

_CLEAN: dict[type[BaseException], type[Exception]] = {}


class CleanError(Exception):
    """Raised by the magics for expected failures: IPython shows one line, no traceback.

    It still fails the cell (so "Run all" stops there). The original error is ``__cause__``.
    """

    def _render_traceback_(self) -> list[str]:
        cause = self.__cause__
        name = type(cause).__name__ if cause is not None else type(self).__name__
        return [f"\x1b[0;31m{name}\x1b[0m: {self}"]


class Interrupted(KeyboardInterrupt):
    """A reply was interrupted: the partial reply is kept and marked; the cell stops."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31mInterrupted\x1b[0m: {self}"]


def clean(exc: BaseException) -> Exception:
    """Wrap an expected error so IPython shows it as one line (named after the original)."""
    cls = _CLEAN.get(type(exc))
    if cls is None:
        cls = type(type(exc).__name__, (CleanError,), {"__module__": "nbclaude"})
        _CLEAN[type(exc)] = cls
    err = cls(_one_line(exc))
    err.__cause__ = exc
    return err


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())

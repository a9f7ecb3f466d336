"""IPython's magic machinery, typed, and shell-like splitting of a magic's option line.

IPython's decorators are untyped (or typed so that mypy rejects methods): these shims keep the
type checks of the magics module strict, at the boundary.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from typing import Any, TypeVar, cast

from IPython.core import magic as _magic
from IPython.core import magic_arguments as _magic_arguments
from IPython.core.error import UsageError

__all__ = [
    "argument",
    "cell_magic",
    "line_magic",
    "magic_arguments",
    "magics_class",
    "no_var_expand",
    "parse_options",
    "split_line",
]

_F = TypeVar("_F", bound=Callable[..., Any])
_C = TypeVar("_C", bound=type)


def magics_class(cls: _C) -> _C:
    return _magic.magics_class(cls)


def cell_magic(name: str) -> Callable[[_F], _F]:
    return cast(Callable[[_F], _F], _magic.cell_magic(name))


def line_magic(name: str) -> Callable[[_F], _F]:
    return cast(Callable[[_F], _F], _magic.line_magic(name))


def no_var_expand(func: _F) -> _F:
    return _magic.no_var_expand(func)


def magic_arguments() -> Callable[[_F], _F]:
    return cast(Callable[[_F], _F], _magic_arguments.magic_arguments())  # type: ignore[no-untyped-call]


def argument(*args: Any, **kwargs: Any) -> Callable[[_F], _F]:
    return cast(Callable[[_F], _F], _magic_arguments.argument(*args, **kwargs))  # type: ignore[no-untyped-call]


def split_line(line: str) -> list[str]:
    """Split a magic's option line like a shell does: quotes group words and are removed.

    (IPython's own ``parse_argstring`` keeps the quotes.) On Windows backslashes are kept,
    so ``-i C:\\pics\\cat.png`` works.

    Examples
    --------
    >>> split_line("-s 'Be terse.' --prefill 'The answer is ('")
    ['-s', 'Be terse.', '--prefill', 'The answer is (']
    """
    try:
        if os.name != "nt":
            return shlex.split(line)
        words = shlex.split(line, posix=False)
    except ValueError as exc:
        raise UsageError(f"%%claude options: {exc}") from None
    return [w[1:-1] if len(w) >= 2 and w[0] == w[-1] and w[0] in "\"'" else w for w in words]


def parse_options(magic: Any, line: str) -> Any:
    """Parse ``line`` with the argparse parser built by ``@magic_arguments``."""
    return magic.parser.parse_args(split_line(line))

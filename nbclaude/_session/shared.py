"""The shared session: the one conversation of the process that ``%%claude`` and
``ChatWidget()`` use (``nbclaude.get_session()`` makes it on first use).

It lives here, below the ``Session`` class, so that code which only needs to *find* it (a batch
attached by id, :meth:`nbclaude.BatchJob.attach`) does not depend on the module that defines
``Session``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["current", "get_or_make"]

T = TypeVar("T")

_default: Any = None
_lock = threading.Lock()


def get_or_make(make: Callable[[], T]) -> T:
    """The shared session, made with ``make()`` the first time (``get_session`` passes the
    ``Session`` class)."""
    global _default
    with _lock:
        if _default is None:
            _default = make()
        return _default  # type: ignore[no-any-return]


def current() -> Any:
    """The shared session if one was made, else ``None``.

    Examples
    --------
    >>> import nbclaude
    >>> current() is None or current() is nbclaude.get_session()
    True
    """
    return _default

"""Pagination of the fake's list endpoints (``after_id`` / ``before_id`` / ``limit``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

__all__ = ["page_of"]


T = TypeVar("T")


def page_of(
    items: Sequence[T],
    ids: Sequence[str],
    limit: int,
    *,
    after_id: str | None = None,
    before_id: str | None = None,
) -> tuple[list[T], bool]:
    """One page of a list endpoint (``/v1/models``, ``/v1/messages/batches``), newest first:
    the items and ``has_more``. An unknown ``after_id`` / ``before_id`` gives an empty page.

    Examples
    --------
    >>> page_of("abcde", "abcde", 2, after_id="a")
    (['b', 'c'], True)
    """
    if after_id is not None:
        start = ids.index(after_id) + 1 if after_id in ids else len(ids)
        return list(items[start : start + limit]), start + limit < len(ids)
    if before_id is not None:
        stop = ids.index(before_id) if before_id in ids else 0
        start = max(0, stop - limit)
        return list(items[start:stop]), start > 0
    return list(items[:limit]), limit < len(ids)

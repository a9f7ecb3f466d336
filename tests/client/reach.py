"""Everything reachable from an exception that a user (or a traceback printer) could look at:
its ``str``, ``repr``, attributes (recursively), ``.request``, ``__cause__`` and
``__context__``. Frames are not walked: they hold the client itself, which holds the key."""

from __future__ import annotations

from typing import Any

__all__ = ["assert_unreachable", "texts_of"]


def _walk(value: Any, out: list[str], seen: set[int], depth: int) -> None:
    if id(value) in seen or depth > 6:
        return
    seen.add(id(value))
    if isinstance(value, (str, bytes)):
        out.append(value.decode("latin-1") if isinstance(value, bytes) else value)
        return
    if isinstance(value, (int, float, bool, type(None))):
        return
    try:
        out.append(repr(value))
    except Exception as exc:  # a repr that fails says nothing
        out.append(f"<repr failed: {exc!r}>")
    if isinstance(value, dict):
        for k, v in value.items():
            _walk(k, out, seen, depth + 1)
            _walk(v, out, seen, depth + 1)
        return
    if isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _walk(item, out, seen, depth + 1)
        return
    if isinstance(value, BaseException):
        out.append(str(value))
        for item in value.args:
            _walk(item, out, seen, depth + 1)
        _walk(value.__cause__, out, seen, depth + 1)
        _walk(value.__context__, out, seen, depth + 1)
        for name in ("request", "response"):
            try:
                attr = getattr(value, name, None)
            except Exception:
                attr = None
            if attr is not None:
                _walk(attr, out, seen, depth + 1)
                headers = getattr(attr, "headers", None)
                if headers is not None:
                    _walk(dict(headers), out, seen, depth + 1)
    attrs = getattr(value, "__dict__", None)
    if isinstance(attrs, dict):
        for v in attrs.values():
            _walk(v, out, seen, depth + 1)


def texts_of(exc: BaseException) -> list[str]:
    """Every string reachable from ``exc`` (see the module docstring)."""
    out: list[str] = []
    _walk(exc, out, set(), 0)
    return out


def assert_unreachable(exc: BaseException, *secrets: str) -> None:
    """No secret, nor any 12-character piece of one, is reachable from ``exc``; it chains to
    no httpx exception."""
    import httpx

    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and len(chain) < 20:
        chain.append(link)
        link = link.__cause__ or link.__context__
    for link in chain:
        assert not isinstance(link, (httpx.HTTPError, httpx.InvalidURL)), repr(link)
        assert getattr(link, "request", None) is None or not isinstance(
            link.request, httpx.Request
        ), repr(link)
    texts = "\n".join(texts_of(exc))
    for secret in secrets:
        pieces = {secret[i : i + 12] for i in range(max(len(secret) - 11, 1))}
        leaked = [p for p in pieces if p in texts]
        assert not leaked, (secret[:4], leaked[:3])

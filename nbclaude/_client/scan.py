"""The last check before a request leaves: does its body hold the API key or the auth token?

A prompt can hold the key (pasted by mistake, an f-string, a traceback sent by ``%claude fix``),
so can a tool's result or a text document sent as base64. :func:`find_secret` looks for each
secret in the serialised body as it is, in other letter case, and in base64 (standard and
URL-safe, at each of the three alignments a string can have inside a longer base64 text), and
says where in the body it is, as a dotted path (``messages.2.content.0.text``, as the API's own
error paths read).

The patterns live in a :class:`Patterns` object whose ``repr`` is redacted (so is the list
that holds them), and the frame that compares them clears its locals if anything (a kernel
interrupt) cuts it short, so no traceback shows the key, its lower case or its base64: the
caller gets only the place and the kind of the match, and raises from there.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any, NamedTuple

from .secret import MIN_SECRET_LENGTH

__all__ = ["Found", "Patterns", "find_secret"]


class Found(NamedTuple):
    """Where a secret was found, and as what (never the secret itself)."""

    #: ``"the API key"`` or ``"the auth token"``.
    what: str
    #: ``"as it is"``, ``"in other letter case"`` or ``"in base64"``.
    how: str
    #: The dotted path in the body (``""`` when it cannot be told, e.g. split across values).
    where: str


def _b64_forms(secret: bytes) -> list[bytes]:
    forms: list[bytes] = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + secret)
        start = -(-4 * offset // 3)  # the characters that also hold bits of what comes before
        end = 4 * (offset + len(secret)) // 3  # ... and after
        core = encoded[start:end]
        forms += [core, core.translate(bytes.maketrans(b"+/", b"-_"))]
    return list(dict.fromkeys(forms))


class _Hidden(list[tuple[str, bytes, bytes, list[bytes]]]):
    """The forms of the secrets; its ``repr`` shows none."""

    def __repr__(self) -> str:
        return "<redacted>"


class Patterns:
    """What to look for: each secret as bytes, lower-cased, and in base64.

    Examples
    --------
    >>> p = Patterns([("the API key", "sk-ant-example-123")])
    >>> p
    Patterns(<1 secret>)
    >>> find_secret({"messages": [{"content": "key: SK-ANT-EXAMPLE-123"}]}, b"...", p) is None
    True
    """

    __slots__ = ("_items",)

    def __init__(self, secrets: Iterable[tuple[str, str]]) -> None:
        items = _Hidden()
        secret, raw = "", b""
        try:
            for what, secret in secrets:
                if len(secret) >= MIN_SECRET_LENGTH:
                    raw = secret.encode()
                    items.append((what, raw, raw.lower(), _b64_forms(raw)))
        finally:  # nothing of them stays in this frame, even if an interrupt came
            secret, raw = "", b""
        self._items = items

    def __repr__(self) -> str:
        return f"Patterns(<{len(self._items)} secret{'s' * (len(self._items) != 1)}>)"

    def __bool__(self) -> bool:
        return bool(self._items)

    def match(self, content: bytes) -> tuple[str, str] | None:
        """``(what, how)`` for the first secret ``content`` holds, else ``None``."""
        lowered: bytes | None = None
        raw = low = b""
        forms: list[bytes] = []
        try:
            for what, raw, low, forms in self._items:
                if raw in content:
                    return what, "as it is"
                if lowered is None:
                    lowered = content.lower()
                if low in lowered:
                    return what, "in other letter case"
                for form in forms:
                    if form in content:
                        return what, "in base64"
            return None
        finally:  # also when an interrupt cuts it short: nothing of the secrets stays here
            raw = low = form = b""
            forms = []

    def where(self, value: Any, path: str = "") -> str | None:
        """The dotted path of the first string in ``value`` that holds a secret."""
        if isinstance(value, str):
            return path if self.match(value.encode("utf-8", "surrogatepass")) else None
        if isinstance(value, dict):
            for key, item in value.items():
                found = self.where(item, f"{path}.{key}" if path else str(key))
                if found is not None:
                    return found
            if self.match(",".join(str(k) for k in value).encode()):
                return path or "(a key)"
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                found = self.where(item, f"{path}.{i}" if path else str(i))
                if found is not None:
                    return found
        return None


def find_secret(body: Any, content: bytes, patterns: Patterns) -> Found | None:
    """Whether ``content`` (the serialised ``body``) holds one of the secrets, and where.

    Examples
    --------
    >>> import base64, json
    >>> p = Patterns([("the API key", "sk-ant-example-123")])
    >>> doc = base64.b64encode(b"notes: sk-ant-example-123").decode()
    >>> body = {"messages": [{"role": "user", "content": [{"type": "document",
    ...         "source": {"type": "base64", "data": doc}}]}]}
    >>> find_secret(body, json.dumps(body).encode(), p)
    Found(what='the API key', how='in base64', where='messages.0.content.0.source.data')
    """
    if not patterns:
        return None
    hit = patterns.match(content)
    if hit is None:
        return None
    return Found(hit[0], hit[1], patterns.where(body) or "")

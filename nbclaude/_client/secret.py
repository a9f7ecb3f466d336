"""Secrets that never show: :class:`Secret` (one string), :class:`Secrets` (a list of them),
:func:`redact` (remove them from a text) and :func:`found_in` (is one in a text?).

Strings shorter than :data:`MIN_SECRET_LENGTH` are never looked for nor redacted: they would
match ordinary words. The functions that go through the secrets clear their locals on the way
out, so even a kernel interrupt in the middle leaves no secret in a frame a traceback shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MIN_SECRET_LENGTH", "REDACTED", "Secret", "Secrets", "found_in", "redact"]

#: What a secret is replaced with.
REDACTED = "<redacted>"
#: Shorter strings are never looked for nor redacted: they would match ordinary text (the
#: offline client's key is ``"offline"``; a one-letter key would turn "tokens" into
#: "to<redacted>ens"). Real keys and tokens are far longer.
MIN_SECRET_LENGTH = 8


class Secret:
    """A string that never shows: ``repr`` and ``str`` are ``<redacted>``; :meth:`reveal`
    gives it. It cannot be pickled.

    Examples
    --------
    >>> s = Secret("sk-ant-example")
    >>> s, str(s), s.reveal()
    (<redacted>, '<redacted>', 'sk-ant-example')
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The string itself (never show it)."""
        return self._value

    def __repr__(self) -> str:
        return REDACTED

    __str__ = __repr__

    def __reduce__(self) -> str:
        raise TypeError("a secret cannot be pickled")


class Secrets(list[str]):
    """The strings never to show or send, as a list whose ``repr`` does not show them.

    Examples
    --------
    >>> s = Secrets(["sk-ant-example"])
    >>> s, s.found_in("my key is sk-ant-example"), s == ["sk-ant-example"]
    (Secrets(<1 redacted>), True, True)
    """

    def __repr__(self) -> str:
        return f"Secrets(<{len(self)} redacted>)"

    __str__ = __repr__

    def found_in(self, text: str) -> bool:
        """Whether ``text`` contains one of them."""
        return found_in(text, self)


def found_in(text: str, secrets: Iterable[str | None]) -> bool:
    """Whether ``text`` contains one of ``secrets`` (empty ones skipped).

    Examples
    --------
    >>> found_in("my key is sk-ant-example", ["sk-ant-example"]), found_in("hello", [None])
    (True, False)
    """
    secret: str | None = None
    try:
        for secret in secrets:  # noqa: SIM110 (a loop, not a generator: its local is cleared)
            if secret and secret in text:
                return True
        return False
    finally:
        secret = None


def redact(text: str, secrets: Iterable[str | None], *, any_case: bool = False) -> str:
    """``text`` with every one of ``secrets`` replaced by ``<redacted>`` (empty ones, and those
    shorter than :data:`MIN_SECRET_LENGTH`, are skipped); in any letter case with ``any_case``.

    Examples
    --------
    >>> redact("key=sk-ant-example, again sk-ant-example", ["sk-ant-example"])
    'key=<redacted>, again <redacted>'
    >>> redact("tokens", ["k"])  # a one-letter "key" is not looked for
    'tokens'
    >>> redact("SK-ANT-EXAMPLE", ["sk-ant-example"], any_case=True)
    '<redacted>'
    """
    secret: str | None = None
    try:
        for secret in secrets:
            if not secret or len(secret) < MIN_SECRET_LENGTH:
                continue
            if secret in text:
                text = text.replace(secret, REDACTED)
            if any_case:
                text = re.sub(re.escape(secret), REDACTED, text, flags=re.IGNORECASE)
        return text
    finally:
        secret = None

"""Secrets that never show: :class:`Secret` (one string), :class:`Secrets` (a list of them) and
:func:`redact` (remove them from a text).

Strings shorter than :data:`MIN_SECRET_LENGTH` are never looked for nor redacted: they would
match ordinary words.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["MIN_SECRET_LENGTH", "REDACTED", "Secret", "Secrets", "redact"]

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
        return any(secret in text for secret in self)


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every one of ``secrets`` replaced by ``<redacted>`` (empty ones, and those
    shorter than :data:`MIN_SECRET_LENGTH`, are skipped).

    Examples
    --------
    >>> redact("key=sk-ant-example, again sk-ant-example", ["sk-ant-example"])
    'key=<redacted>, again <redacted>'
    >>> redact("tokens", ["k"])  # a one-letter "key" is not looked for
    'tokens'
    """
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_LENGTH and secret in text:
            text = text.replace(secret, REDACTED)
    return text

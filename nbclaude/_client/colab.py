"""Colab Secrets: where the API key comes from in Google Colab when no variable is set.

Colab keeps secrets in its Secrets panel (the key icon); a notebook reads one with
``google.colab.userdata.get(name)`` once the user grants it access. nbclaude does that only when
it needs the key (at the first request, never when a client is built, so building a session
asks nothing), only when ``google.colab`` can be imported, and only when neither
``ANTHROPIC_API_KEY`` nor ``ANTHROPIC_AUTH_TOKEN`` is set. The value goes straight into a
:class:`~nbclaude._client.credentials.Secret`; it is never printed.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util

from .secret import Secret

__all__ = ["HINT", "available", "read_secret"]

#: What to do when Colab Secrets did not give the key.
HINT = (
    "In Colab, open Secrets (the key icon on the left), add ANTHROPIC_API_KEY and turn on "
    "'Notebook access'; or use the offline fake: %claude offline."
)


@functools.cache
def available() -> bool:
    """Whether ``google.colab`` can be imported (found, not imported).

    Examples
    --------
    >>> isinstance(available(), bool)
    True
    """
    try:
        return importlib.util.find_spec("google.colab") is not None
    except (ImportError, ValueError):
        return False


def read_secret(name: str) -> tuple[Secret | None, str]:
    """``(secret, "")``, or ``(None, why)`` when Colab Secrets does not give ``name``.

    Colab raises ``SecretNotFoundError`` for a missing secret and ``NotebookAccessError`` when
    the notebook may not read it; anything else it raises is reported by its class name.
    """
    value: object = None
    try:
        userdata = importlib.import_module("google.colab.userdata")
        value = userdata.get(name)
        if not isinstance(value, str) or not value.strip():
            return None, f"the secret {name} is empty"
        return Secret(value), ""
    except Exception as exc:  # Colab's own errors: described, never re-raised
        kind = type(exc).__name__
        if kind == "SecretNotFoundError":
            return None, f"there is no secret named {name}"
        if kind == "NotebookAccessError":
            return None, f"this notebook may not read {name}: turn on its 'Notebook access'"
        return None, f"reading it failed with {kind}"
    finally:  # only the Secret holds it, even if an interrupt came
        value = None

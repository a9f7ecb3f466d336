"""nbclaude: Claude's Messages API in Jupyter notebooks.

``%load_ext nbclaude`` registers the ``%%claude`` cell magic and the ``%claude`` line magic;
``nbclaude.ChatWidget()`` opens a chat UI; both share ``nbclaude.get_session()``.

Importing this package is cheap: httpx, PIL, anywidget and friends load only when used.

Examples
--------
>>> import nbclaude
>>> s = nbclaude.Session(model="claude-haiku-4-5")
>>> s.messages
[]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BudgetExceededError,
    ImageError,
    InternalServerError,
    InvalidRequestError,
    MissingAPIKeyError,
    NbClaudeError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    PolicyError,
    RateLimitError,
    RedirectError,
    RequestTooLargeError,
    SaveError,
    SchemaError,
    SecretInRequestError,
    StreamError,
    UnexpectedResponseError,
)
from ._legacy import install as _install_legacy_finder
from ._version import __version__

_install_legacy_finder()  # v1 pickles name modules that moved: nbclaude._legacy maps them

if TYPE_CHECKING:
    from ._client.client import Client
    from ._client.stream import MessageStream
    from ._content.documents import document
    from ._content.images.image import image
    from ._schema import StructuredOutputError
    from ._session.batches.job import BatchJob
    from ._session.batches.results import BatchReply, BatchResults, NotProcessed
    from ._session.reply import Reply
    from ._session.session import Session, SessionStream, get_session
    from ._tools.define import Tool
    from ._widget.widget import ChatWidget

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BatchJob",
    "BatchReply",
    "BatchResults",
    "BudgetExceededError",
    "ChatWidget",
    "Client",
    "ImageError",
    "InternalServerError",
    "InvalidRequestError",
    "MessageStream",
    "MissingAPIKeyError",
    "NbClaudeError",
    "NotFoundError",
    "NotProcessed",
    "OverloadedError",
    "PermissionDeniedError",
    "PolicyError",
    "RateLimitError",
    "RedirectError",
    "Reply",
    "RequestTooLargeError",
    "SaveError",
    "SchemaError",
    "SecretInRequestError",
    "Session",
    "SessionStream",
    "StreamError",
    "StructuredOutputError",
    "Tool",
    "UnexpectedResponseError",
    "__version__",
    "document",
    "get_session",
    "image",
    "load_ipython_extension",
    "unload_ipython_extension",
]

# Public name -> private module that defines it, imported on first use (PEP 562).
_LAZY = {
    "BatchJob": "_session.batches.job",
    "BatchReply": "_session.batches.results",
    "BatchResults": "_session.batches.results",
    "NotProcessed": "_session.batches.results",
    "ChatWidget": "_widget.widget",
    "Client": "_client.client",
    "MessageStream": "_client.stream",
    "Reply": "_session.reply",
    "Session": "_session.session",
    "SessionStream": "_session.session",
    "StructuredOutputError": "_schema",
    "Tool": "_tools.define",
    "document": "_content.documents",
    "get_session": "_session.session",
    "image": "_content.images.image",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nbclaude' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%%claude`` and ``%claude`` (called by ``%load_ext nbclaude``).

    A course policy (``$NBCLAUDE_POLICY``) or budget (``$NBCLAUDE_BUDGET``) that cannot be
    used stops it with one clean line saying what is wrong, not a traceback.
    """
    from ._ipython.errors import clean
    from ._ipython.magics import load_ipython_extension as load

    try:
        load(ipython, open_widget=_open_widget)
    except PolicyError as exc:
        raise clean(exc) from None


def _open_widget(session: Any) -> Any:
    """``%claude widget``: the magics and the widget never import each other; they meet here,
    where both are known."""
    from ._widget.widget import ChatWidget

    return ChatWidget(session=session)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove what :func:`load_ipython_extension` registered (``%unload_ext nbclaude``)."""
    from ._ipython.magics import unload_ipython_extension as unload

    unload(ipython)

"""``BaseSession``: a conversation's settings and state, without sending anything.

:class:`~nbclaude.Session` adds the turns (``send``, ``stream``, ``count_tokens``, ``batch``)
to it, the way httpx's ``Client`` builds on ``BaseClient``. The state lives in small parts,
each with one job, and turns are handed those parts (never the session):

- :class:`~nbclaude._session.builder.Settings` and the
  :class:`~nbclaude._session.builder.RequestBuilder` (settings -> request body),
- :class:`~nbclaude._session.history.History` (the messages, their lock, reply facts),
- :class:`~nbclaude._session.usage.Usage` (tokens and cost),
- :class:`~nbclaude._session.events.Events` (the typed events its observers hear),
- :class:`~nbclaude._session.gate.TurnGate` (one turn at a time).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any, TypeVar

from nbclaude._api.models import default_model
from nbclaude._client.credentials import secrets
from nbclaude._types import MessageParam, ModelInfo

from .backend import default_client, is_offline
from .builder import RESERVED, RequestBuilder, Settings, check_max_tokens
from .events import CHANGE, RESET, UNDO, Callback, Events
from .gate import TurnGate
from .history import History
from .notebook import read_notebook
from .persist import SaveError, dump, read, write
from .rules import content_markdown
from .tool_round import Approver
from .usage import Usage
from .validate import Invalid

if TYPE_CHECKING:
    from nbclaude._client.client import Client

__all__ = ["BaseSession"]

S = TypeVar("S", bound="BaseSession")


class BaseSession:
    """A conversation's settings, history, usage and observers (see :class:`~nbclaude.Session`,
    which is what you make)."""

    def __init__(
        self,
        *,
        model: str | None = None,
        system: str | list[dict[str, Any]] | None = None,
        max_tokens: int = 1024,
        client: Client | None = None,
        cache: bool = False,
        **params: Any,
    ) -> None:
        for key in params:
            if key in RESERVED:
                raise TypeError(f"Session() got {key!r} in **params; it is not a request field")
        self._settings = Settings(
            model=model or default_model(),
            system=system,
            max_tokens=check_max_tokens(max_tokens),
            params=dict(params),
            cache=cache,
        )
        self._client = client
        self._models: list[ModelInfo] | None = None
        self._history = History()
        self._usage = Usage()
        self._events = Events()
        self._gate = TurnGate()
        self._builder = RequestBuilder(self._settings, lambda: self._models)
        self._id = os.urandom(6).hex()
        #: Tools every turn may use: Python functions (their schema comes from the signature,
        #: type hints and docstring), :class:`nbclaude.Tool` objects or tool definition dicts.
        self.tools: list[Any] = []
        #: Asked ``approver(name, input) -> bool`` before a tool runs; ``None`` asks in the
        #: cell with ``input()``. ``send(..., auto_approve=True)`` skips asking.
        self.approver: Approver | None = None

    # -- settings -----------------------------------------------------------------------------

    @property
    def model(self) -> str:
        """The model for the next turns."""
        return self._settings.model

    @model.setter
    def model(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("model must be a model id such as 'claude-haiku-4-5'")
        self._settings.model = value.strip()
        self._events.emit({"type": CHANGE})

    @property
    def system(self) -> str | list[dict[str, Any]] | None:
        """The system prompt (``None`` for none)."""
        return self._settings.system

    @system.setter
    def system(self, value: str | list[dict[str, Any]] | None) -> None:
        self._settings.system = value or None
        self._events.emit({"type": CHANGE})

    @property
    def max_tokens(self) -> int:
        """The most tokens a reply may have."""
        return self._settings.max_tokens

    @max_tokens.setter
    def max_tokens(self, value: int) -> None:
        self._settings.max_tokens = check_max_tokens(value)
        self._events.emit({"type": CHANGE})

    @property
    def params(self) -> dict[str, Any]:
        """Other request fields sent on every turn (only the ones the user set)."""
        return self._settings.params

    @params.setter
    def params(self, value: dict[str, Any]) -> None:
        self._settings.params = value

    @property
    def cache(self) -> bool:
        """Prompt caching: put ``cache_control`` breakpoints on the system prompt, the tools
        and the latest turns (at most 4 in all), so repeated prefixes are read from cache."""
        return self._settings.cache

    @cache.setter
    def cache(self, value: bool) -> None:
        self._settings.cache = bool(value)

    @property
    def client(self) -> Client:
        """The :class:`Client` this session talks through (built on first use)."""
        with self._history.lock:
            if self._client is None:
                self._client = default_client()
            return self._client

    @client.setter
    def client(self, value: Client) -> None:
        with self._history.lock:
            self._client = value
            self._models = None
        self._events.emit({"type": CHANGE})

    @property
    def backend(self) -> str:
        """Where requests go: ``"offline fake"`` or the API's base URL."""
        client = self.client
        return "offline fake" if is_offline(client) else client.base_url

    # -- state --------------------------------------------------------------------------------

    @property
    def messages(self) -> list[MessageParam]:
        """The conversation, exactly as sent in the request's ``messages``."""
        return self._history.messages

    @messages.setter
    def messages(self, value: list[MessageParam]) -> None:
        self._history.replace(value)

    @property
    def history(self) -> History:
        """The conversation's :class:`~nbclaude._session.history.History`: consistent
        snapshots while a turn runs, and what is known about each recorded reply (the widget
        and the magic read the conversation through it)."""
        return self._history

    @property
    def busy(self) -> bool:
        """Whether a reply is streaming right now."""
        return self._gate.active is not None

    @property
    def usage(self) -> dict[str, int]:
        """Token totals over the session: input, output, cache writes, cache reads."""
        return self._usage.totals

    @property
    def cost(self) -> float | None:
        """The session's price in USD so far; ``None`` if a turn used a model without a known
        price."""
        return self._usage.cost

    def models(self, *, refresh: bool = False) -> list[ModelInfo]:
        """The models your key can use (``GET /v1/models``), cached on the session."""
        cached = self._models
        if cached is None or refresh:
            cached = self.client.models()
            with self._history.lock:
                self._models = cached
        return cached

    @property
    def id(self) -> str:
        """A random id for this session object (what a notebook's saved turns name, so that
        the turns of different sessions are told apart)."""
        return self._id

    def __repr__(self) -> str:
        turns = sum(1 for m in self.messages if m.get("role") == "user")
        return f"Session(model={self.model!r}, turns={turns}, busy={self.busy})"

    # -- observers ----------------------------------------------------------------------------

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call ``callback(event)`` for every event; returns a function that unsubscribes.

        Events are dicts with a ``"type"``: ``turn_start``, ``delta``, ``tool_call``,
        ``tool_result``, ``turn_end``, ``error``, ``stop``, ``undo``, ``reset``, ``change``
        (their keys: :mod:`nbclaude._session.events`). Callbacks run in the thread that runs
        the turn and should be quick; one that raises is logged and never breaks the turn.

        Examples
        --------
        >>> from nbclaude import Session
        >>> s = Session()
        >>> seen = []
        >>> unsubscribe = s.subscribe(lambda e: seen.append(e["type"]))
        >>> s.reset(); unsubscribe(); s.reset()
        >>> seen
        ['reset']
        """
        return self._events.subscribe(callback)

    # -- history ------------------------------------------------------------------------------

    def undo(self) -> None:
        """Remove the last exchange (the last user turn and the reply to it); token usage is
        not given back (those tokens were spent).

        Right after :meth:`reset` or :meth:`replace` (``%claude load`` and ``resume``), it
        brings back what they took instead: the conversation, its usage totals and, after a
        replace, the settings. Once the history has changed since, that is gone.

        Examples
        --------
        >>> from nbclaude import Session
        >>> s = Session()
        >>> s.messages += [{"role": "user", "content": "Hi"},
        ...                {"role": "assistant", "content": "Hello!"}]
        >>> s.reset(); s.undo(); len(s.messages)
        2
        """
        self._gate.check_idle("undo")
        with self._history.lock:
            back = self._history.undo()
            if back is not None:
                totals, cost, settings = back.keep
                self._usage.restore(totals, cost)
                if settings is not None:
                    self._put_settings(settings)
        self._events.emit({"type": UNDO})
        if back is not None and back.keep[2] is not None:
            self._events.emit({"type": CHANGE})

    def reset(self) -> None:
        """Forget the conversation and the usage totals (settings stay); :meth:`undo` right
        after brings both back."""
        self._gate.check_idle("reset")
        with self._history.lock:
            self._history.clear(keep=(self._usage.totals, self._usage.cost, None))
            self._usage.reset()
        self._events.emit({"type": RESET})

    def _put_settings(self, settings: Settings) -> None:
        for name in (f.name for f in fields(Settings)):  # the builder holds this object
            setattr(self._settings, name, getattr(settings, name))

    def save(self, path: str | os.PathLike[str], *, if_idle: bool = False) -> bool:
        """Save the settings, history and usage as versioned JSON (never the API key).

        The write is atomic: a crash, a full disk or a kill at any moment leaves the old file
        or the new one, whole. What is written is checked first, so a file that could not be
        loaded back never replaces a good one. ``if_idle=True`` saves nothing while a turn is
        running (a half turn is never written; autosave uses it). Returns whether it saved.

        Raises
        ------
        SaveError
            (an ``OSError``) one line naming the file and the problem (a read-only folder, a
            full disk, a message that is not JSON); the file is untouched.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from nbclaude import Session
        >>> s = Session(model="claude-haiku-4-5", system="Be brief.")
        >>> s.messages.append({"role": "user", "content": "Hi"})
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "chat.json"
        >>> s.save(p)
        True
        >>> Session.load(p).messages
        [{'role': 'user', 'content': 'Hi'}]
        """
        with self._history.lock:
            if if_idle and self.busy:
                return False
            settings = replace(self._settings, params=dict(self._settings.params))
            messages = self._history.snapshot()
            totals, cost = self._usage.totals, self._usage.cost
        try:
            text = dump(settings, messages, totals, cost, secrets=secrets(self._client))
        except Invalid as exc:
            raise SaveError(f"Cannot save the session to {path}: {exc}") from None
        write(path, text)
        return True

    @classmethod
    def load(cls: type[S], path: str | os.PathLike[str], *, client: Client | None = None) -> S:
        """Load a session saved with :meth:`save` (``client`` as for a new session), after
        checking everything: the format and its version, every message and block, the type
        of every setting.

        Raises
        ------
        InvalidRequestError
            One line naming the file and the first problem found.

        Examples
        --------
        >>> from nbclaude import Session
        >>> Session.load("/no/such/file.json")
        Traceback (most recent call last):
        ...
        nbclaude._exceptions.InvalidRequestError: Cannot load /no/such/file.json: no such file
        """
        saved = read(path)
        return cls._made(saved.settings, saved.messages, client, (saved.usage, saved.cost))

    @classmethod
    def from_notebook(
        cls: type[S], path: str | os.PathLike[str], *, client: Client | None = None
    ) -> S:
        """The conversation a saved notebook holds, rebuilt in cell order from the turns its
        ``%%claude`` outputs and chat widgets keep (``%claude resume NOTEBOOK.ipynb``).

        The last, longest consistent view wins (a widget holds its whole conversation), and a
        turn at the start of the conversation (``--new``, after a reset) starts afresh: the
        rules are in :mod:`nbclaude._session.notebook`. Images come back as their thumbnails
        (a warning says so); the model and system prompt are the last ones saved.

        Raises
        ------
        InvalidRequestError
            One line naming the file, if it holds no conversation that can be read.

        Examples
        --------
        >>> from nbclaude import Session
        >>> Session.from_notebook("lesson.ipynb")  # doctest: +SKIP
        Session(model='claude-haiku-4-5', turns=12, busy=False)
        """
        rebuilt = read_notebook(path)
        settings = Settings(model=rebuilt.model or default_model(), system=rebuilt.system)
        session = cls._made(settings, rebuilt.messages, client)
        if rebuilt.thumbnails or rebuilt.omitted or rebuilt.skipped:
            warnings.warn(f"{path}: {rebuilt.note()}", UserWarning, stacklevel=2)
        return session

    @classmethod
    def _made(
        cls: type[S], s: Settings, messages: list[MessageParam], client: Any, usage: Any = None
    ) -> S:
        session = cls(model=s.model, system=s.system, max_tokens=s.max_tokens, client=client,
                      cache=s.cache, **s.params)  # fmt: skip
        session.messages = messages
        if usage is not None:
            session._usage.restore(*usage)
        return session

    def replace(self, other: BaseSession) -> None:
        """Take over another session's settings and history (``%claude load``), keeping this
        object, its client and its subscribers; :meth:`undo` right after puts back what was
        there."""
        self._gate.check_idle("load a session")
        with self._history.lock:
            before = replace(self._settings, params=dict(self._settings.params))
            keep = (self._usage.totals, self._usage.cost, before)
            self._put_settings(Settings(other.model, other.system, other.max_tokens,
                                        dict(other.params), other.cache))  # fmt: skip
            self._history.replace(list(other.messages), keep=keep)
            self._usage.restore(other.usage, other.cost)
        self._events.emit({"type": CHANGE})

    def to_markdown(self) -> str:
        """The conversation as Markdown (a transcript for reading or exporting).

        Examples
        --------
        >>> from nbclaude import Session
        >>> s = Session()
        >>> s.messages += [{"role": "user", "content": "Hi"},
        ...                {"role": "assistant", "content": "Hello!"}]
        >>> print(s.to_markdown())
        **You:** Hi
        <BLANKLINE>
        **Claude:** Hello!
        """
        out = []
        for message in self._history.snapshot():
            who = "You" if message.get("role") == "user" else "Claude"
            out.append(f"**{who}:** {content_markdown(message.get('content'))}")
        return "\n\n".join(out)

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
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any, TypeVar

from nbclaude._api.models import default_model
from nbclaude._client.credentials import secrets
from nbclaude._types import MessageParam, ModelInfo

from .backend import default_client, is_offline
from .builder import RESERVED, RequestBuilder, Settings, check_max_tokens
from .events import CHANGE, RESET, UNDO, Callback, Events
from .gate import TurnGate
from .history import Cleared, History
from .persist import SaveError, dump, read, write
from .rules import content_markdown
from .tool_round import Approver
from .usage import Usage
from .validate import Invalid

if TYPE_CHECKING:
    from nbclaude._client.client import Client

__all__ = ["BaseSession"]

S = TypeVar("S", bound="BaseSession")


@dataclass(frozen=True)
class _Taken:
    """What a reset or a replace took away, for :meth:`BaseSession.undo`."""

    history: Cleared
    totals: dict[str, int]
    cost: float | None
    settings: Settings | None = None


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
        self._taken: _Taken | None = None  # what the last reset or replace took, for undo()
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

        Events are dicts with a ``"type"``: ``turn_start`` (``index``, ``message``,
        ``prefill``, ``model``), ``delta`` (``kind`` ``"text"``/``"thinking"``, ``text``),
        ``tool_call`` (``id``, ``name``, ``input``: before a call is approved and run),
        ``tool_result`` (``result``: the ``tool_result`` block, a ``ToolResult``),
        ``turn_end`` (``reply``, ``recorded``), ``error`` (``error``), ``stop`` (someone
        called :meth:`stop`), ``undo``, ``reset`` and ``change``. Callbacks run in the thread
        that runs the turn; they should be quick. An exception in a callback is logged and
        never breaks the turn.

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
        """Remove the last exchange (the last user turn and the reply to it).

        Right after :meth:`reset` (or :meth:`replace`, which ``%claude load`` and ``resume``
        use), ``undo()`` brings back what they took instead: the conversation, its usage
        totals (and, after a replace, the settings). Once the history has changed since,
        that is gone and ``undo()`` is an ordinary one again.

        An ordinary undo does not give token usage back: those tokens were spent.

        Examples
        --------
        >>> from nbclaude import Session
        >>> s = Session()
        >>> s.messages += [{"role": "user", "content": "Hi"},
        ...                {"role": "assistant", "content": "Hello!"}]
        >>> s.reset(); s.undo()
        >>> len(s.messages)
        2
        >>> s.undo()
        >>> s.messages
        []
        """
        self._gate.check_idle("undo")
        settings_back = False
        with self._history.lock:
            taken, self._taken = self._taken, None
            if taken is None or not self._history.restore(taken.history):
                self._history.undo()
            else:
                self._usage.restore(taken.totals, taken.cost)
                if taken.settings is not None:  # the builder holds this object: update it
                    for name in (f.name for f in fields(Settings)):
                        setattr(self._settings, name, getattr(taken.settings, name))
                    settings_back = True
        self._events.emit({"type": UNDO})
        if settings_back:
            self._events.emit({"type": CHANGE})

    def reset(self) -> None:
        """Forget the conversation and the usage totals (settings stay).

        :meth:`undo` right after brings both back.
        """
        self._gate.check_idle("reset")
        with self._history.lock:
            totals, cost = self._usage.totals, self._usage.cost
            cleared = self._history.clear()
            if cleared is not None:  # resetting an empty conversation keeps the first one's
                self._taken = _Taken(cleared, totals, cost)
            self._usage.reset()
        self._events.emit({"type": RESET})

    def save(self, path: str | os.PathLike[str], *, if_idle: bool = False) -> bool:
        """Save the settings, history and usage as versioned JSON (the API key never is).

        The write is atomic: a crash, a full disk or a kill at any moment leaves the old file
        or the new one, whole, never a broken one. What is written is checked first, so a file
        that could not be loaded back never replaces a good one. Returns whether it saved.

        Parameters
        ----------
        path : str or path-like
            The file (its folder must exist).
        if_idle : bool
            Save nothing while a turn is running (returns ``False``): a half turn is never
            written. Autosave uses it; the turn's end saves again.

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
        client = self._client
        try:
            text = dump(settings, messages, totals, cost, secrets=secrets(client))
        except Invalid as exc:
            raise SaveError(f"Cannot save the session to {path}: {exc}") from None
        write(path, text)
        return True

    @classmethod
    def load(cls: type[S], path: str | os.PathLike[str], *, client: Client | None = None) -> S:
        """Load a session saved with :meth:`save` (``client`` as for a new session).

        Everything is checked before the session is made: the format and its version, every
        message and block, the type of every setting.

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
        s = saved.settings
        session = cls(
            model=s.model,
            system=s.system,
            max_tokens=s.max_tokens,
            client=client,
            cache=s.cache,
            **s.params,
        )
        session.messages = saved.messages
        session._usage.restore(saved.usage, saved.cost)
        return session

    def replace(self, other: BaseSession) -> None:
        """Take over another session's settings and history (``%claude load``), keeping this
        object, its client and its subscribers. :meth:`undo` right after puts back what was
        there."""
        self._gate.check_idle("load a session")
        with self._history.lock:
            totals, cost = self._usage.totals, self._usage.cost
            settings = replace(self._settings, params=dict(self._settings.params))
            self._settings.model, self._settings.system = other.model, other.system
            self._settings.max_tokens, self._settings.params = other.max_tokens, dict(other.params)
            self._settings.cache = other.cache
            taken = self._history.replace(list(other.messages))
            self._taken = _Taken(taken, totals, cost, settings)
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

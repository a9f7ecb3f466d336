"""``Session``: one conversation, shared by ``%%claude``, ``ChatWidget`` and your own code.

A session owns its state through small parts, each with one job, and hands those parts (never
itself) to the turns it runs:

- :class:`~nbclaude._session.builder.Settings` and the
  :class:`~nbclaude._session.builder.RequestBuilder` (settings -> request body),
- :class:`~nbclaude._session.history.History` (the messages, their lock, reply facts),
- :class:`~nbclaude._session.usage.Usage` (tokens and cost),
- :class:`~nbclaude._session.events.Events` (the typed events its observers hear),
- :class:`~nbclaude._session.gate.TurnGate` (one turn at a time).

The history rules every turn follows are in docs/architecture.md ("History rules"); each is
tested.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from nbclaude._api.models import default_model
from nbclaude._exceptions import InvalidRequestError
from nbclaude._types import MessageParam, ModelInfo

from . import shared
from .backend import default_client, is_offline
from .builder import RESERVED, RequestBuilder, Settings, check_max_tokens
from .events import CHANGE, RESET, STOP, UNDO, Callback, Events
from .gate import TurnGate
from .history import History
from .options import TurnContext, TurnOptions
from .persist import dump, read
from .reply import Reply
from .rules import content_markdown
from .tool_round import Approver
from .turn import SessionStream
from .usage import Usage

if TYPE_CHECKING:
    from nbclaude._client.client import Client

    from .batches.job import BatchJob
    from .batches.results import BatchResults

__all__ = ["Session", "SessionStream", "get_session"]


class Session:
    """A conversation with Claude: settings, history, usage, and live observers.

    Parameters
    ----------
    model : str, optional
        Defaults to ``$NBCLAUDE_MODEL`` or ``claude-sonnet-5-5``.
    system : str or list of dict, optional
        The system prompt.
    max_tokens : int
        The most tokens a reply may have.
    client : Client, optional
        Defaults to a :class:`Client` built on first use (the offline fake when
        ``NBCLAUDE_OFFLINE=1``).
    cache : bool
        Prompt caching: mark the system prompt, the tools and the latest turns with
        ``cache_control`` (at most 4 breakpoints), so the growing conversation is read from the
        cache (0.1x the input price) instead of being paid in full every turn.
    **params
        Other request fields to send on every turn (``temperature``, ``stop_sequences``,
        ``thinking``, ...). Only fields you set are sent.

    Examples
    --------
    >>> from nbclaude import Client, Session
    >>> from nbclaude.testing import FakeAnthropic, Text
    >>> fake = FakeAnthropic([Text("Hello! How can I help?")])
    >>> s = Session(model="claude-haiku-4-5", client=Client(api_key="sk-ant-x", transport=fake))
    >>> s.send("Hello, Claude").text
    'Hello! How can I help?'
    >>> s.messages[-1]
    {'role': 'assistant', 'content': 'Hello! How can I help?'}
    """

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
        >>> s = Session()
        >>> seen = []
        >>> unsubscribe = s.subscribe(lambda e: seen.append(e["type"]))
        >>> s.reset(); unsubscribe(); s.reset()
        >>> seen
        ['reset']
        """
        return self._events.subscribe(callback)

    # -- turns --------------------------------------------------------------------------------

    def send(
        self,
        *parts: Any,
        prefill: str | None = None,
        record: bool = True,
        tools: Sequence[Any] | None = None,
        auto_approve: bool = False,
        approve: Approver | None = None,
        max_steps: int = 10,
        schema: Any = None,
        use_tools: bool = True,
        **params: Any,
    ) -> Reply:
        """Send a user turn and return Claude's reply (streamed under the hood).

        Parameters
        ----------
        *parts
            The user turn: ``str`` (always text), images (``nbclaude.image(...)``, PIL,
            numpy, matplotlib figures, ``pathlib.Path``, bytes), documents or content-block
            dicts, in order.
        prefill : str, optional
            Words to put in Claude's mouth: sent as the final assistant message. Refused, with
            an explanation, on models that do not accept it (the 4.6 generation and later).
        record : bool
            ``False`` sends the history plus this turn but records nothing.
        tools : list, optional
            Functions Claude may call in this turn (in addition to :attr:`tools`). The loop
            runs each call, sends the results back and continues until Claude answers without
            a tool call, or ``max_steps`` rounds.
        auto_approve : bool
            Run tool calls without asking (by default each call is asked about first).
        approve : callable, optional
            ``approve(name, input) -> bool`` asked before each tool call.
        max_steps : int
            The most rounds of tool calls in this turn.
        schema : dict or type, optional
            Ask for structured output (``output_config.format``): a JSON Schema dict, a
            dataclass, a ``TypedDict`` or a type; ``Reply.data`` is then the parsed, validated
            value.
        use_tools : bool
            ``False``: no tools this turn (not :attr:`tools` either). If the history already
            holds tool calls, the API needs the definitions, so they are sent with
            ``tool_choice: none`` (Claude cannot call them).
        **params
            Request fields for this turn only (``model``, ``system``, ``max_tokens``,
            ``temperature``, ``thinking`` — an int is a thinking budget —, ...).

        Examples
        --------
        >>> from nbclaude import Client, Session
        >>> from nbclaude.testing import FakeAnthropic, Text
        >>> fake = FakeAnthropic([Text("C")])
        >>> s = Session(model="claude-haiku-4-5",
        ...             client=Client(api_key="sk-ant-x", transport=fake))
        >>> r = s.send("What is latin for Ant? (A) Apoidea, (B) Rhopalocera, (C) Formicidae",
        ...            prefill="The answer is (", max_tokens=1)
        >>> r.text, s.messages[-1]["content"]
        ('C', 'The answer is (C')
        """
        options = TurnOptions(prefill, record, tuple(tools or ()), auto_approve, approve,
                              max_steps, schema, use_tools, params)  # fmt: skip
        with self._turn(parts, options) as st:
            for _ in st:
                pass
        assert st.reply is not None  # set by every path that does not raise
        return st.reply

    def stream(
        self,
        *parts: Any,
        prefill: str | None = None,
        record: bool = True,
        tools: Sequence[Any] | None = None,
        auto_approve: bool = False,
        approve: Approver | None = None,
        max_steps: int = 10,
        schema: Any = None,
        use_tools: bool = True,
        **params: Any,
    ) -> SessionStream:
        """Like :meth:`send`, but streaming: a context manager you iterate for text.

        Examples
        --------
        >>> from nbclaude import Client, Session
        >>> from nbclaude.testing import FakeAnthropic, Text
        >>> s = Session(client=Client(api_key="sk-ant-x",
        ...                           transport=FakeAnthropic([Text("Once upon a time")])))
        >>> with s.stream("Tell me a story") as st:
        ...     pieces = list(st)
        >>> "".join(pieces) == st.reply.text == "Once upon a time"
        True
        """
        options = TurnOptions(prefill, record, tuple(tools or ()), auto_approve, approve,
                              max_steps, schema, use_tools, params)  # fmt: skip
        return self._turn(parts, options)

    def _turn(self, parts: Sequence[Any], options: TurnOptions) -> SessionStream:
        context = TurnContext(
            history=self._history,
            usage=self._usage,
            events=self._events,
            builder=self._builder,
            gate=self._gate,
            client=lambda: self.client,
            tools=lambda: list(self.tools),
            approver=lambda: self.approver,
        )
        return SessionStream(context, parts, options)

    def stop(self) -> None:
        """Stop the reply that is streaming now, if any (safe from any thread)."""
        active = self._gate.active
        if active is not None:
            active.close()
        self._events.emit({"type": STOP})

    def count_tokens(self, *parts: Any, prefill: str | None = None, **params: Any) -> int:
        """How many input tokens the next request would use (``/v1/messages/count_tokens``).

        With no ``parts``, counts the conversation as it is; with parts, the conversation plus
        that user turn. Nothing is recorded and nothing is generated (counting is free).

        Examples
        --------
        >>> from nbclaude import Client, Session
        >>> from nbclaude.testing import FakeAnthropic
        >>> s = Session(client=Client(api_key="sk-ant-x", transport=FakeAnthropic()))
        >>> s.count_tokens("How many tokens is this?") > 0
        True
        """
        history = self._history.sendable()
        if parts or prefill:
            messages = self._builder.turn(parts, prefill=prefill, params=params, history=history)
            return self.client.count_tokens(**self._builder.count_body(messages.messages, params))
        if not history:
            raise InvalidRequestError("Nothing to count: the conversation is empty.")
        return self.client.count_tokens(**self._builder.count_body(history, params))

    @overload
    def batch(
        self,
        prompts: Iterable[Any],
        *,
        wait: Literal[True] = ...,
        prefill: str | None = ...,
        poll_interval: float | None = ...,
        progress: bool | None = ...,
        **params: Any,
    ) -> BatchResults: ...

    @overload
    def batch(
        self,
        prompts: Iterable[Any],
        *,
        wait: Literal[False],
        prefill: str | None = ...,
        poll_interval: float | None = ...,
        progress: bool | None = ...,
        **params: Any,
    ) -> BatchJob: ...

    def batch(
        self,
        prompts: Iterable[Any],
        *,
        wait: bool = True,
        prefill: str | None = None,
        poll_interval: float | None = None,
        progress: bool | None = None,
        **params: Any,
    ) -> BatchResults | BatchJob:
        """Send many independent prompts through the Message Batches API (half price).

        Each prompt is one user turn (a str, or a list of parts) with this session's settings
        but without its history; results come back in input order. See
        :func:`nbclaude._session.batches.submit.submit`.

        Examples
        --------
        >>> from nbclaude import Client, Session
        >>> from nbclaude.testing import FakeAnthropic, Text
        >>> s = Session(client=Client(api_key="k", transport=FakeAnthropic([Text("4")])))
        >>> s.batch(["2+2?"], poll_interval=0).texts
        ['4']
        """
        from .batches.submit import submit

        return submit(
            self._builder,
            self.client,
            prompts,
            owner=self,
            wait=wait,
            prefill=prefill,
            poll_interval=poll_interval,
            progress=progress,
            params=params,
        )

    def add_batch_usage(self, batch_id: str, usage: dict[str, int], cost: float | None) -> None:
        """Add a Message Batch's tokens and (batch-price) cost to the totals, once per batch
        id (what a :class:`~nbclaude.BatchJob` calls when its results arrive)."""
        if self._usage.add_once(batch_id, usage, cost):
            self._events.emit({"type": CHANGE})

    # -- history ------------------------------------------------------------------------------

    def undo(self) -> None:
        """Remove the last exchange (the last user turn and the reply to it).

        Token usage is not given back: those tokens were spent.
        """
        self._gate.check_idle("undo")
        self._history.undo()
        self._events.emit({"type": UNDO})

    def reset(self) -> None:
        """Forget the conversation and the usage totals (settings stay)."""
        self._gate.check_idle("reset")
        with self._history.lock:
            self._history.clear()
            self._usage.reset()
        self._events.emit({"type": RESET})

    def save(self, path: str | os.PathLike[str]) -> None:
        """Save the settings, history and usage as versioned JSON (the API key never is).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> s = Session(model="claude-haiku-4-5", system="Be brief.")
        >>> s.messages.append({"role": "user", "content": "Hi"})
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "chat.json"
        >>> s.save(p)
        >>> Session.load(p).messages
        [{'role': 'user', 'content': 'Hi'}]
        """
        text = dump(self._settings, self._history.snapshot(), self.usage, self.cost)
        Path(path).write_text(text, encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, client: Client | None = None) -> Session:
        """Load a session saved with :meth:`save` (``client`` as for a new session)."""
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

    def replace(self, other: Session) -> None:
        """Take over another session's settings and history (``%claude load``), keeping this
        object, its client and its subscribers."""
        self._gate.check_idle("load a session")
        with self._history.lock:
            self._settings.model, self._settings.system = other.model, other.system
            self._settings.max_tokens, self._settings.params = other.max_tokens, dict(other.params)
            self._settings.cache = other.cache
            self._history.replace(list(other.messages))
            self._usage.restore(other.usage, other.cost)
        self._events.emit({"type": CHANGE})

    def to_markdown(self) -> str:
        """The conversation as Markdown (a transcript for reading or exporting).

        Examples
        --------
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


def get_session() -> Session:
    """The process-wide session shared by ``%%claude`` and ``ChatWidget()``.

    Examples
    --------
    >>> import nbclaude
    >>> nbclaude.get_session() is nbclaude.get_session()
    True
    """
    return shared.get_or_make(Session)

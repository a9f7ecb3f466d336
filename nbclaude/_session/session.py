"""``Session``: one conversation, shared by ``%%claude``, ``ChatWidget`` and your own code.

History rules (DESIGN.md §3; each is tested):

- ``messages`` is exactly what the API receives as ``messages``.
- A request that fails (an HTTP error, a stream that breaks, bad input) leaves ``messages``
  exactly as it was before the turn: no dangling user turn.
- A reply that is *stopped* (``stop()``, the widget's Stop button, a kernel interrupt, leaving
  a ``stream()`` early) is kept with what it had produced, and marked ``interrupted``: the user
  turn and the partial assistant text stay in the history, so the next turn can say "go on".
  Only complete text is kept from a stopped reply (tool calls and thinking that the API could
  not accept without the rest are dropped); if nothing is left, the turn is rolled back.
- Empty or whitespace-only text blocks returned by the API are never sent back (the API rejects
  them). A reply with no content at all (an empty refusal, ``max_tokens=0``) is returned but not
  recorded, because the API rejects an empty assistant turn.
- Thinking and redacted-thinking blocks are kept verbatim, signatures included.
- Prefill is sent as the final assistant message (trailing whitespace stripped); the generated
  text is joined to it in history; ``Reply.text`` is only the generated part.
- Turns are serialised: a second ``send`` from another thread waits until the first ends.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from nbclaude._api.models import cost, default_model
from nbclaude._exceptions import InvalidRequestError
from nbclaude._types import MessageParam, ModelInfo

from .backend import default_client, is_offline, offline_client
from .history import content_markdown, sendable
from .persist import dump, restore
from .reply import Reply
from .request import COUNT_TOKENS_FIELDS, build_turn, request_body
from .turn import Approver, SessionStream, Turn

if TYPE_CHECKING:
    from nbclaude._client.client import Client

    from .batches.submit import BatchJob, BatchResults

__all__ = ["Session", "SessionStream", "default_client", "get_session", "offline_client"]

log = logging.getLogger("nbclaude")

_RESERVED = ("model", "max_tokens", "system", "messages", "stream")
USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)

Event = dict[str, Any]
Callback = Callable[[Event], None]


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
            if key in _RESERVED:
                raise TypeError(f"Session() got {key!r} in **params; it is not a request field")
        self._model = model or default_model()
        self._system = system
        self._max_tokens = self._check_max_tokens(max_tokens)
        #: Other request fields sent on every turn (only the ones the user set).
        self.params: dict[str, Any] = dict(params)
        #: Prompt caching: put ``cache_control`` breakpoints on the system prompt, the tools
        #: and the latest turns (at most 4 in all), so repeated prefixes are read from cache.
        self.cache = cache
        #: Tools every turn may use: Python functions (their schema comes from the signature,
        #: type hints and docstring), ``nbclaude._tools.Tool`` objects or tool definition dicts.
        self.tools: list[Any] = []
        #: Asked ``approver(name, input) -> bool`` before a tool runs; ``None`` asks in the
        #: cell with ``input()``. ``send(..., auto_approve=True)`` skips asking.
        self.approver: Approver | None = None
        #: The conversation, exactly as sent in the request's ``messages``.
        self.messages: list[MessageParam] = []
        self._client = client
        self._usage: dict[str, int] = dict.fromkeys(USAGE_KEYS, 0)
        self._cost: float | None = 0.0
        self._turn_lock = threading.Lock()
        self._turn_owner: int | None = None
        self._state = threading.RLock()
        self._subscribers: list[Callback] = []
        self._active: SessionStream | None = None
        self._models: list[ModelInfo] | None = None

    # -- settings -----------------------------------------------------------------------------

    @staticmethod
    def _check_max_tokens(value: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"max_tokens must be a whole number >= 0, not {value!r}")
        return value

    @property
    def model(self) -> str:
        """The model for the next turns."""
        return self._model

    @model.setter
    def model(self, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("model must be a model id such as 'claude-haiku-4-5'")
        self._model = value.strip()
        self._emit({"type": "change"})

    @property
    def system(self) -> str | list[dict[str, Any]] | None:
        """The system prompt (``None`` for none)."""
        return self._system

    @system.setter
    def system(self, value: str | list[dict[str, Any]] | None) -> None:
        self._system = value or None
        self._emit({"type": "change"})

    @property
    def max_tokens(self) -> int:
        """The most tokens a reply may have."""
        return self._max_tokens

    @max_tokens.setter
    def max_tokens(self, value: int) -> None:
        self._max_tokens = self._check_max_tokens(value)
        self._emit({"type": "change"})

    @property
    def client(self) -> Client:
        """The :class:`Client` this session talks through (built on first use)."""
        with self._state:
            if self._client is None:
                self._client = default_client()
            return self._client

    @client.setter
    def client(self, value: Client) -> None:
        with self._state:
            self._client = value
            self._models = None
        self._emit({"type": "change"})

    @property
    def backend(self) -> str:
        """Where requests go: ``"offline fake"`` or the API's base URL."""
        client = self.client
        return "offline fake" if is_offline(client) else client.base_url

    @property
    def busy(self) -> bool:
        """Whether a reply is streaming right now."""
        return self._active is not None

    @property
    def usage(self) -> dict[str, int]:
        """Token totals over the session: input, output, cache writes, cache reads."""
        with self._state:
            return dict(self._usage)

    @property
    def cost(self) -> float | None:
        """The session's price in USD so far; ``None`` if a turn used a model without a known
        price."""
        with self._state:
            return None if self._cost is None else round(self._cost, 10)

    def models(self, *, refresh: bool = False) -> list[ModelInfo]:
        """The models your key can use (``GET /v1/models``), cached on the session."""
        with self._state:
            cached = self._models
        if cached is None or refresh:
            cached = self.client.models()
            with self._state:
                self._models = cached
        return cached

    def __repr__(self) -> str:
        turns = sum(1 for m in self.messages if m.get("role") == "user")
        return f"Session(model={self._model!r}, turns={turns}, busy={self.busy})"

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
        with self._state:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._state:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def _emit(self, event: Event) -> None:
        with self._state:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                log.exception("nbclaude: a session subscriber failed on %r", event.get("type"))

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
        with self.stream(
            *parts,
            prefill=prefill,
            record=record,
            tools=tools,
            auto_approve=auto_approve,
            approve=approve,
            max_steps=max_steps,
            schema=schema,
            use_tools=use_tools,
            **params,
        ) as st:
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
        for key in ("messages", "stream"):
            if key in params:
                raise TypeError(f"{key!r} cannot be set per turn")
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 0:
            raise ValueError(f"max_steps must be a whole number >= 0, not {max_steps!r}")
        return SessionStream(
            self,
            parts,
            prefill=prefill,
            record=record,
            params=params,
            tools=tools,
            approve=approve,
            auto_approve=auto_approve,
            max_steps=max_steps,
            schema=schema,
            use_tools=use_tools,
        )

    def stop(self) -> None:
        """Stop the reply that is streaming now, if any (safe from any thread)."""
        active = self._active
        if active is not None:
            active.close()
        self._emit({"type": "stop"})

    def _request_body(
        self, messages: list[MessageParam], params: Mapping[str, Any]
    ) -> dict[str, Any]:
        return request_body(self, messages, params)

    def _add_usage(self, model: str, usage: Mapping[str, Any]) -> None:
        with self._state:
            for key in USAGE_KEYS:
                value = usage.get(key)
                if isinstance(value, int):
                    self._usage[key] += value
            turn_cost = cost(model, usage)
            if turn_cost is None or self._cost is None:
                self._cost = None
            else:
                self._cost += turn_cost

    def _build_turn(
        self,
        parts: Sequence[Any],
        *,
        prefill: str | None,
        params: Mapping[str, Any],
        keep_fitted: bool,
    ) -> Turn:
        return build_turn(self, parts, prefill=prefill, params=params, keep_fitted=keep_fitted)

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
        if parts or prefill:
            body = self._build_turn(parts, prefill=prefill, params=params, keep_fitted=False).body
        else:
            with self._state:
                history = [sendable(m) for m in self.messages]
            if not history:
                raise InvalidRequestError("Nothing to count: the conversation is empty.")
            body = self._request_body(history, params)
        counted = {k: v for k, v in body.items() if k in COUNT_TOKENS_FIELDS}
        return self.client.count_tokens(**counted)

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
            self,
            prompts,
            wait=wait,
            prefill=prefill,
            poll_interval=poll_interval,
            progress=progress,
            params=params,
        )

    # -- history ------------------------------------------------------------------------------

    def _not_busy(self, action: str) -> None:
        if self._active is not None:
            raise InvalidRequestError(
                f"Cannot {action} while a reply is streaming; stop it first (session.stop())."
            )

    def undo(self) -> None:
        """Remove the last exchange (the last user turn and the reply to it).

        Token usage is not given back: those tokens were spent.
        """
        self._not_busy("undo")
        with self._state:
            if self.messages and self.messages[-1].get("role") == "assistant":
                self.messages.pop()
            if self.messages and self.messages[-1].get("role") == "user":
                self.messages.pop()
        self._emit({"type": "undo"})

    def reset(self) -> None:
        """Forget the conversation and the usage totals (settings stay)."""
        self._not_busy("reset")
        with self._state:
            self.messages.clear()
            self._usage = dict.fromkeys(USAGE_KEYS, 0)
            self._cost = 0.0
        self._emit({"type": "reset"})

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
        Path(path).write_text(dump(self), encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, client: Client | None = None) -> Session:
        """Load a session saved with :meth:`save` (``client`` as for a new session)."""
        return restore(cls, path, client=client)

    def replace(self, other: Session) -> None:
        """Take over another session's settings and history (``%claude load``), keeping this
        object, its client and its subscribers."""
        self._not_busy("load a session")
        with self._state:
            self._model, self._system = other._model, other._system
            self._max_tokens, self.params = other._max_tokens, dict(other.params)
            self.cache = other.cache
            self.messages = list(other.messages)
            self._usage, self._cost = dict(other._usage), other._cost
        self._emit({"type": "change"})

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
        with self._state:
            messages = list(self.messages)
        for message in messages:
            who = "You" if message.get("role") == "user" else "Claude"
            out.append(f"**{who}:** {content_markdown(message.get('content'))}")
        return "\n\n".join(out)


_default: Session | None = None
_default_lock = threading.Lock()


def get_session() -> Session:
    """The process-wide session shared by ``%%claude`` and ``ChatWidget()``.

    Examples
    --------
    >>> import nbclaude
    >>> nbclaude.get_session() is nbclaude.get_session()
    True
    """
    global _default
    with _default_lock:
        if _default is None:
            _default = Session()
        return _default

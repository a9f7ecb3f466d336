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

import copy
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from ._exceptions import APIError, InvalidRequestError, NbClaudeError
from ._models_info import (
    PREFILL_EXAMPLE_MODEL,
    cost,
    default_model,
    supports_prefill,
    thinking_mode,
)
from ._reply import Reply
from ._types import Message, MessageParam, ModelInfo

if TYPE_CHECKING:
    from ._batches import BatchJob, BatchResults
    from ._client import Client, MessageStream
    from ._tools import ToolBox

__all__ = ["Session", "SessionStream", "default_client", "get_session", "offline_client"]

log = logging.getLogger("nbclaude")

SAVE_FORMAT = "nbclaude.session"
SAVE_VERSION = 1
_RESERVED = ("model", "max_tokens", "system", "messages", "stream")
_USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)

Event = dict[str, Any]
Callback = Callable[[Event], None]


def _offline_requested() -> bool:
    return os.environ.get("NBCLAUDE_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def offline_client() -> Client:
    """A client on the in-process offline fake (no network, no key needed).

    Examples
    --------
    >>> c = offline_client()
    >>> c.create(model="claude-haiku-4-5", max_tokens=50,
    ...          messages=[{"role": "user", "content": "Hi"}])["content"][0]["text"][:9]
    '*(offline'
    """
    from ._client import Client
    from .testing import FakeAnthropic

    return Client(
        api_key="offline",
        base_url="http://offline.nbclaude.invalid",
        transport=FakeAnthropic(),
        max_retries=0,
    )


def default_client() -> Client:
    """The client a session uses when none is given.

    With ``NBCLAUDE_OFFLINE=1`` it is the offline fake; otherwise a real :class:`Client`
    (which raises :class:`~nbclaude.MissingAPIKeyError` at the first request if there is no
    key: nbclaude never falls back to the fake silently).
    """
    if _offline_requested():
        return offline_client()
    from ._client import Client

    return Client()


def _is_offline(client: Client) -> bool:
    from .testing import FakeAnthropic

    return isinstance(client.transport, FakeAnthropic) and client.base_url.endswith(
        "offline.nbclaude.invalid"
    )


def _text_only(content: Any) -> str | None:
    """The text when ``content`` is a string or a single plain text block, else ``None``."""
    if isinstance(content, str):
        return content
    if (
        isinstance(content, list)
        and len(content) == 1
        and isinstance(content[0], Mapping)
        and content[0].get("type") == "text"
        and set(content[0]) == {"type", "text"}
    ):
        return str(content[0]["text"])
    return None


def _is_blank_text(block: Mapping[str, Any]) -> bool:
    return block.get("type") == "text" and not str(block.get("text") or "").strip()


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
        self._usage: dict[str, int] = dict.fromkeys(_USAGE_KEYS, 0)
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
        return "offline fake" if _is_offline(client) else client.base_url

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
        body: dict[str, Any] = {
            "model": params.get("model") or self._model,
            "max_tokens": params.get("max_tokens", self._max_tokens),
            "messages": messages,
        }
        system = params.get("system", self._system)
        if system:
            body["system"] = system
        for key, value in {**self.params, **params}.items():
            if key not in ("model", "max_tokens", "system"):
                body[key] = value
        thinking = body.get("thinking")
        if isinstance(thinking, int) and not isinstance(thinking, bool):
            # thinking=BUDGET: adaptive on models that want it, else enabled with the budget
            # (max_tokens must exceed the budget, so the reply keeps its own allowance).
            if thinking_mode(body["model"]) == "adaptive":
                body["thinking"] = {"type": "adaptive"}
            else:
                body["thinking"] = {"type": "enabled", "budget_tokens": thinking}
                if body["max_tokens"] <= thinking:
                    body["max_tokens"] = thinking + body["max_tokens"]
        if self.cache:
            _add_cache_breakpoints(body)
        return body

    def _record(self, user: MessageParam, assistant: MessageParam | None) -> None:
        with self._state:
            self.messages.append(user)
            if assistant is not None:
                self.messages.append(assistant)

    def _add_usage(self, model: str, usage: Mapping[str, Any]) -> None:
        with self._state:
            for key in _USAGE_KEYS:
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
    ) -> _Turn:
        """Everything a turn sends: the user message, the checked prefill and the body."""
        from ._content import fit_messages, to_blocks

        blocks = to_blocks(*parts)
        prefill = prefill.rstrip() if prefill else None
        if not blocks:
            raise InvalidRequestError("Nothing to send: the message is empty.")
        model = params.get("model") or self._model
        if prefill:
            with self._state:
                known = self._models
            if supports_prefill(model, known) is False:
                raise InvalidRequestError(
                    f"{model} does not accept prefill (a final assistant message): models of "
                    "the 4.6 generation and later reject it. Instead, say what you want in "
                    "the system prompt (e.g. 'Answer with the letter only'), ask for "
                    "structured output (schema=...), or use a model that accepts prefill, "
                    f"such as {PREFILL_EXAMPLE_MODEL}."
                )
        text = _text_only(blocks)
        user: MessageParam = {"role": "user", "content": text if text is not None else blocks}
        with self._state:
            history = [_sendable(m) for m in self.messages]
        outgoing = [*history, user]
        if prefill:
            outgoing.append({"role": "assistant", "content": prefill})
        system = params.get("system", self._system)
        overhead = len(json.dumps(system, ensure_ascii=False)) if system else 0
        fitted = cast("list[MessageParam]", fit_messages(outgoing, overhead=overhead))
        if any(new is not old for new, old in zip(fitted, outgoing, strict=True)):
            # Images were downscaled to fit the request limits: keep the fitted copies in the
            # history too, so the same error cannot come back on every later turn.
            user = fitted[len(history)]
            if keep_fitted:
                with self._state:
                    for i in range(min(len(history), len(self.messages))):
                        if fitted[i] is not outgoing[i]:
                            self.messages[i] = fitted[i]
        images = [b for b in blocks if b.get("type") == "image"]
        return _Turn(user, prefill, self._request_body(fitted, params), images, fitted)

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
                history = [_sendable(m) for m in self.messages]
            if not history:
                raise InvalidRequestError("Nothing to count: the conversation is empty.")
            body = self._request_body(history, params)
        counted = {k: v for k, v in body.items() if k in _COUNT_TOKENS_FIELDS}
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
        :func:`nbclaude._batches.submit`.

        Examples
        --------
        >>> from nbclaude import Client, Session
        >>> from nbclaude.testing import FakeAnthropic, Text
        >>> s = Session(client=Client(api_key="k", transport=FakeAnthropic([Text("4")])))
        >>> s.batch(["2+2?"], poll_interval=0).texts
        ['4']
        """
        from ._batches import submit

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
            self._usage = dict.fromkeys(_USAGE_KEYS, 0)
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
        with self._state:
            data = {
                "format": SAVE_FORMAT,
                "version": SAVE_VERSION,
                "model": self._model,
                "system": self._system,
                "max_tokens": self._max_tokens,
                "params": self.params,
                "cache": self.cache,
                "messages": self.messages,
                "usage": self._usage,
                "cost": self._cost,
            }
            text = json.dumps(data, ensure_ascii=False, indent=1)
        Path(path).write_text(text, encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, client: Client | None = None) -> Session:
        """Load a session saved with :meth:`save`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidRequestError(f"Cannot load a session from {path}: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != SAVE_FORMAT:
            raise InvalidRequestError(f"{path} is not a saved nbclaude session.")
        if data.get("version") != SAVE_VERSION:
            raise InvalidRequestError(
                f"{path} was saved by a newer nbclaude (format version {data.get('version')}); "
                "upgrade nbclaude to load it."
            )
        session = cls(
            model=data.get("model"),
            system=data.get("system"),
            max_tokens=int(data.get("max_tokens", 1024)),
            client=client,
            cache=bool(data.get("cache", False)),
            **(data.get("params") or {}),
        )
        session.messages = list(data.get("messages") or [])
        usage = data.get("usage") or {}
        session._usage = {k: int(usage.get(k) or 0) for k in _USAGE_KEYS}
        saved_cost = data.get("cost", 0.0)
        session._cost = float(saved_cost) if isinstance(saved_cost, (int, float)) else None
        return session

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
            out.append(f"**{who}:** {_content_markdown(message.get('content'))}")
        return "\n\n".join(out)


def _content_markdown(content: Any) -> str:
    if isinstance(content, str):
        return content
    pieces: list[str] = []
    for block in content or []:
        btype = block.get("type")
        if btype == "text":
            pieces.append(str(block.get("text") or ""))
        elif btype == "image":
            source = block.get("source") or {}
            if source.get("type") == "url":
                pieces.append(f"*[image: {source.get('url')}]*")
            else:
                pieces.append(f"*[image: {source.get('media_type', 'image')}]*")
        elif btype == "document":
            title = block.get("title") or (block.get("source") or {}).get("media_type", "")
            pieces.append(f"*[document: {title}]*")
        elif btype == "thinking":
            pieces.append("*[thinking]*")
        elif btype == "tool_use":
            args = json.dumps(block.get("input"), ensure_ascii=False)
            pieces.append(f"*[tool call: {block.get('name')}({args})]*")
        elif btype == "tool_result":
            pieces.append("*[tool result]*")
        else:
            pieces.append(f"*[{btype}]*")
    return "\n\n".join(pieces)


class SessionStream:
    """A turn in progress. Iterate it for the text; :attr:`reply` is set when it ends.

    Created by :meth:`Session.stream`. The request is sent when the ``with`` block is entered
    (or iteration starts). :meth:`close` stops it from any thread. With tools, one turn may
    take several requests (the tool loop); the text of every step streams through.
    """

    def __init__(
        self,
        session: Session,
        parts: Sequence[Any],
        *,
        prefill: str | None,
        record: bool,
        params: Mapping[str, Any],
        tools: Sequence[Any] | None = None,
        approve: Approver | None = None,
        auto_approve: bool = False,
        max_steps: int = 10,
        schema: Any = None,
        use_tools: bool = True,
    ) -> None:
        self._session = session
        self._use_tools = use_tools
        self._parts = parts
        self._prefill = prefill
        self._record = record
        self._params = dict(params)
        self._tools = list(tools or [])
        self._approve_arg = approve
        self._auto_approve = auto_approve
        self._max_steps = max_steps
        self._schema = schema
        self._toolbox: ToolBox | None = None
        self._stream: MessageStream | None = None
        self._started = False
        self._done = threading.Event()
        self._finish_lock = threading.Lock()
        self._iterating = False
        self._closed = False
        self._locked = False
        self._user: MessageParam | None = None
        self._start_index = 0
        self._outgoing: list[MessageParam] = []
        self._steps: list[Reply] = []
        self._results: list[dict[str, Any]] = []
        self._current_recorded = False
        self._images: list[dict[str, Any]] = []
        self._gen: Iterator[str] | None = None
        #: The finished :class:`Reply` (``None`` until the turn ends).
        self.reply: Reply | None = None

    def __repr__(self) -> str:
        state = "done" if self._done.is_set() else ("open" if self._started else "new")
        return f"<SessionStream {state}>"

    # -- start --------------------------------------------------------------------------------

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        session = self._session
        me = threading.get_ident()
        if session._turn_owner == me:
            raise InvalidRequestError(
                "A turn is already running in this thread (an event callback cannot send)."
            )
        session._turn_lock.acquire()
        session._turn_owner = me
        self._locked = True
        try:
            self._prepare_and_send()
        except BaseException:
            self._unlock()
            self._done.set()
            raise

    def _unlock(self) -> None:
        if self._locked:
            self._locked = False
            self._session._turn_owner = None
            self._session._turn_lock.release()

    def _prepare_and_send(self) -> None:
        session = self._session
        self._setup_tools_and_schema()
        turn = session._build_turn(
            self._parts, prefill=self._prefill, params=self._params, keep_fitted=True
        )
        user, prefill, body = turn.user, turn.prefill, turn.body
        self._images = turn.images
        # Later requests of a tool loop continue from here (without the prefill message).
        self._outgoing = list(turn.messages[:-1] if prefill else turn.messages)
        client = session.client
        self._user = user
        self._prefill = prefill
        with session._state:
            session._active = self
            self._start_index = len(session.messages)
            if self._record:
                session.messages.append(user)
        session._emit(
            {
                "type": "turn_start",
                "index": self._start_index,
                "message": user,
                "prefill": prefill,
                "model": body["model"],
            }
        )
        try:
            self._open(client.stream(**body))
        except BaseException as exc:
            if self._closed and isinstance(exc, Exception):
                return  # stopped while waiting: the turn is already over; ignore a late error
            self._fail(exc)
            raise

    def _setup_tools_and_schema(self) -> None:
        from ._tools import ToolBox

        session = self._session
        runnable: list[Any] = []
        server: list[dict[str, Any]] = []
        for tool in [*session.tools, *self._tools]:
            if isinstance(tool, Mapping) and tool.get("type") not in (None, "custom"):
                server.append(dict(tool))  # a server tool (web search, ...): the API runs it
            else:
                runnable.append(tool)
        if (runnable or server) and self._use_tools:
            self._toolbox = ToolBox(runnable)
            self._params["tools"] = [*self._toolbox.specs(), *server]
        elif (runnable or server) and _has_tool_blocks(session.messages):
            # No tools this turn, but the history holds tool calls: the API wants their
            # definitions, so send them and forbid calling any.
            self._params["tools"] = [*ToolBox(runnable).specs(), *server]
            self._params["tool_choice"] = {"type": "none"}
        if self._schema is not None:
            from ._schema import output_format

            config = dict(
                self._params.get("output_config") or session.params.get("output_config") or {}
            )
            config["format"] = output_format(self._schema)
            self._params["output_config"] = config

    def _open(self, stream: MessageStream) -> None:
        self._stream = stream
        self._current_recorded = False
        stream.__enter__()
        if self._closed:
            stream.close()

    def _approver(self) -> Approver | None:
        if self._auto_approve:
            return None
        return self._approve_arg or self._session.approver or ask_before_running

    # -- iteration ----------------------------------------------------------------------------

    def __enter__(self) -> SessionStream:
        self._start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._done.is_set():
            return
        if self._stream is not None:
            self._stream.close()
        self._finish(interrupted=True)

    def __iter__(self) -> Iterator[str]:
        if self._gen is None:
            self._start()
            self._gen = self._texts()
        return self._gen

    def _texts(self) -> Iterator[str]:
        if self._stream is None or self._done.is_set():
            return
        self._iterating = True
        try:
            while True:
                stream = self._stream
                yield from self._step_texts(stream)
                if stream.closed:
                    self._finish(interrupted=True)
                    return
                message = stream.get_final_message()
                calls = [b for b in message["content"] if b.get("type") == "tool_use"]
                if not (
                    calls and self._toolbox is not None and message.get("stop_reason") == "tool_use"
                ):
                    self._finish(interrupted=False)
                    return
                if not self._run_tools(stream, message, calls):
                    self._finish(interrupted=False)  # the step limit was reached
                    return
                if self._closed:  # stopped while the tools ran: no further request
                    self._finish(interrupted=True)
                    return
                body = self._session._request_body(self._outgoing, self._params)
                self._open(self._session.client.stream(**body))
        except APIError as exc:
            self._fail(exc)
            raise
        except BaseException:
            # KeyboardInterrupt, GeneratorExit (the loop was left early), an error in the
            # caller's loop body: the reply was stopped, not failed.
            if self._stream is not None:
                self._stream.close()
            self._finish(interrupted=True)
            raise
        finally:
            self._iterating = False

    def _step_texts(self, stream: MessageStream) -> Iterator[str]:
        emit = self._session._emit
        for event in stream:
            if event.get("type") != "content_block_delta":
                continue
            delta = event.get("delta") or {}
            dtype = delta.get("type")
            if dtype == "text_delta":
                text = delta.get("text") or ""
                emit({"type": "delta", "kind": "text", "text": text})
                yield text
            elif dtype == "thinking_delta":
                emit({"type": "delta", "kind": "thinking", "text": delta.get("thinking", "")})

    def _record_step(self, message: MessageParam) -> None:
        self._outgoing.append(message)
        if self._record:
            with self._session._state:
                self._session.messages.append(message)

    def _run_tools(
        self, stream: MessageStream, message: Message, calls: list[dict[str, Any]]
    ) -> bool:
        """Run one round of tool calls and record it; ``False`` when the step limit stopped
        the loop (the calls are then answered "not run")."""
        from ._tools import ToolResult, run_tool_call

        session = self._session
        step = Reply(
            message, request_id=stream.request_id, prefill=None if self._steps else self._prefill
        )
        self._steps.append(step)
        session._add_usage(step.model or session.model, step.usage)
        content = [copy.deepcopy(b) for b in message["content"] if not _is_blank_text(b)]
        if not self._steps[1:] and self._prefill:
            content = _with_prefill(content, self._prefill)
        self._record_step({"role": "assistant", "content": content})
        self._current_recorded = True

        def unanswered(reason: str, block: Mapping[str, Any]) -> ToolResult:
            return ToolResult(
                {"type": "tool_result", "tool_use_id": block.get("id", ""), "content": reason,
                 "is_error": True},
                name=str(block.get("name", "")), input=block.get("input") or {},
            )  # fmt: skip

        results: list[dict[str, Any]] = []
        if len(self._steps) > self._max_steps:
            why = f"Not run: this turn reached its limit of {self._max_steps} tool steps."
            results = [unanswered(why, call) for call in calls]
            self._results += results
            self._record_step({"role": "user", "content": results})
            return False
        approve = self._approver()
        try:
            for call in calls:
                session._emit({"type": "tool_call", "id": call.get("id"), "name": call.get("name"),
                               "input": call.get("input")})  # fmt: skip
                result = run_tool_call(call, self._toolbox, approve=approve)
                results.append(result)
                session._emit({"type": "tool_result", "result": result})
        except BaseException:
            # Interrupted while a tool ran: answer every call, so the history stays valid.
            done = {r["tool_use_id"] for r in results}
            results += [
                unanswered("Interrupted by the user.", c) for c in calls if c.get("id") not in done
            ]
            self._results += results
            self._record_step({"role": "user", "content": results})
            raise
        self._results += results
        self._record_step({"role": "user", "content": results})
        return True

    def close(self) -> None:
        """Stop the reply now (any thread). What was generated so far is kept, marked
        ``interrupted``."""
        self._closed = True
        stream = self._stream
        if stream is not None:
            stream.close()
        if self._started and not self._iterating and stream is not None:
            self._finish(interrupted=True)

    @property
    def done(self) -> bool:
        """Whether the turn has ended (finished, stopped or failed)."""
        return self._done.is_set()

    @property
    def text(self) -> str:
        """The text so far (while streaming) or the reply's text."""
        if self.reply is not None:
            return self.reply.text
        stream = self._stream
        message = stream.current_message if stream is not None else None
        if not message:
            return ""
        return "".join(b.get("text") or "" for b in message["content"] if b.get("type") == "text")

    # -- endings ------------------------------------------------------------------------------

    def _release(self) -> None:
        session = self._session
        with session._state:
            if session._active is self:
                session._active = None
        self._unlock()
        self._done.set()

    def _fail(self, exc: BaseException) -> None:
        with self._finish_lock:
            if self._done.is_set():
                return
            session = self._session
            with session._state:
                # Roll back the whole turn: our user message and any tool steps after it.
                start = self._start_index
                if (
                    self._record
                    and self._user is not None
                    and len(session.messages) > start
                    and session.messages[start] is self._user
                ):
                    del session.messages[start:]
            self._release()
        # Observers always learn that the turn ended, even on a KeyboardInterrupt.
        error = (
            exc
            if isinstance(exc, Exception)
            else NbClaudeError("Interrupted before the reply started; nothing was recorded.")
        )
        session._emit({"type": "error", "error": error})

    def _finish(self, *, interrupted: bool) -> None:
        with self._finish_lock:
            if self._done.is_set():
                return
            session = self._session
            stream = self._stream
            message: Message | None = None
            if stream is not None:
                message = stream.current_message if interrupted else stream.get_final_message()
            request_id = stream.request_id if stream is not None else None
            if message is None:
                message = _empty_message(self._params.get("model") or session.model)
            first = not self._steps
            steps = self._steps[:-1] if self._current_recorded else self._steps
            reply = Reply(
                message,
                prefill=self._prefill
                if first or (self._current_recorded and len(self._steps) == 1)
                else None,
                request_id=request_id,
                interrupted=interrupted,
                images=self._images,
                steps=steps,
                tool_results=self._results,
                schema=self._schema,
            )
            recorded = False
            with session._state:
                if self._current_recorded:
                    recorded = self._record  # this step and its results are in the history
                elif self._record and self._user is not None:
                    assistant = _assistant_turn(
                        message, self._prefill if first else None, interrupted=interrupted
                    )
                    if assistant is not None:
                        session.messages.append(assistant)
                        recorded = True
                    elif first and session.messages and session.messages[-1] is self._user:
                        session.messages.pop()  # nothing to keep: roll the turn back
                    else:
                        recorded = not first
                if (
                    not self._current_recorded
                    and stream is not None
                    and stream.current_message is not None
                ):
                    session._add_usage(reply.model or session.model, reply.usage)
            self.reply = reply
            self._release()
        session._emit({"type": "turn_end", "reply": reply, "recorded": recorded})


Approver = Callable[[str, dict[str, Any]], bool]


def ask_before_running(name: str, arguments: dict[str, Any]) -> bool:
    """The default approval: ask in the cell (or terminal) whether to run a tool call.

    A running notebook cell cannot receive widget button clicks (the kernel handles them only
    between cells), so the question is asked with ``input()``, which every front end shows as
    a text box under the cell. Where nobody can answer (a headless run), the call is declined:
    pass ``auto_approve=True`` to run tools without asking.
    """
    args = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
    if len(args) > 300:
        args = args[:297] + "..."
    try:
        answer = input(f"Claude wants to run {name}({args}). Run it? [y/N] ")
    except (EOFError, Exception):
        log.warning("nbclaude: cannot ask whether to run %s (no input); declined.", name)
        return False
    return answer.strip().lower() in ("y", "yes")


def _with_prefill(blocks: list[dict[str, Any]], prefill: str) -> list[dict[str, Any]]:
    """Join the prefill to the first text block (or put it first)."""
    first_text = next((b for b in blocks if b.get("type") == "text"), None)
    if first_text is not None and blocks.index(first_text) == 0:
        first_text["text"] = prefill + str(first_text.get("text") or "")
        return blocks
    return [{"type": "text", "text": prefill}, *blocks]


@dataclass
class _Turn:
    user: MessageParam
    prefill: str | None
    body: dict[str, Any]
    images: list[dict[str, Any]]
    messages: list[MessageParam]  # what was sent, before cache breakpoints


#: The request fields ``/v1/messages/count_tokens`` accepts (PROTOCOL.md §7).
_COUNT_TOKENS_FIELDS = frozenset(
    {"model", "messages", "system", "tools", "tool_choice", "thinking", "output_config",
     "cache_control", "mcp_servers", "context_management"}
)  # fmt: skip
_EPHEMERAL = {"type": "ephemeral"}
_MAX_BREAKPOINTS = 4


def _count_breakpoints(value: Any) -> int:
    if isinstance(value, dict):
        return ("cache_control" in value) + sum(_count_breakpoints(v) for v in value.values())
    if isinstance(value, list):
        return sum(_count_breakpoints(v) for v in value)
    return 0


def _mark_last(content: Any) -> list[dict[str, Any]] | None:
    """A copy of ``content`` as blocks with ``cache_control`` on the last one (``None`` when
    it cannot carry one)."""
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
    if not isinstance(blocks, list) or not blocks or not isinstance(blocks[-1], dict):
        return None
    if blocks[-1].get("type") in ("thinking", "redacted_thinking"):
        return None
    return [*blocks[:-1], {**blocks[-1], "cache_control": dict(_EPHEMERAL)}]


def _has_tool_blocks(messages: Sequence[MessageParam]) -> bool:
    for message in messages:
        content = message.get("content")
        if isinstance(content, list) and any(
            isinstance(b, Mapping) and b.get("type") in ("tool_use", "tool_result") for b in content
        ):
            return True
    return False


def _has_mark(content: Any) -> bool:
    return isinstance(content, list) and bool(content) and "cache_control" in content[-1]


def _add_cache_breakpoints(body: dict[str, Any]) -> None:
    """Put ``cache_control`` on the system prompt, the last tool and the last two user turns,
    keeping the total (with any the user placed) at most 4. Works on copies: the history is
    never changed."""
    budget = _MAX_BREAKPOINTS - _count_breakpoints(body)
    system = body.get("system")
    if budget > 0 and system and not _has_mark(system):
        marked = _mark_last(system)
        if marked is not None:
            body["system"] = marked
            budget -= 1
    tools = body.get("tools")
    if budget > 0 and isinstance(tools, list) and tools and not _has_mark(tools):
        body["tools"] = [*tools[:-1], {**tools[-1], "cache_control": dict(_EPHEMERAL)}]
        budget -= 1
    messages = list(body["messages"])
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    for i in reversed(users[-2:]):
        content = messages[i].get("content")
        if budget <= 0:
            break
        if _has_mark(content):
            continue
        marked = _mark_last(content)
        if marked is not None:
            messages[i] = {"role": "user", "content": marked}
            budget -= 1
    body["messages"] = messages


def _empty_message(model: str) -> Message:
    return {
        "id": "",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 0, "output_tokens": 0},
    }


def _assistant_turn(
    message: Message, prefill: str | None, *, interrupted: bool
) -> MessageParam | None:
    """The assistant message to record for a reply, or ``None`` when there is nothing to keep."""
    blocks: list[dict[str, Any]] = []
    for block in message.get("content") or []:
        if _is_blank_text(block):
            continue
        if interrupted and block.get("type") != "text":
            continue  # an unfinished tool call or thinking block cannot be sent back alone
        blocks.append(copy.deepcopy(block))
    if prefill:
        blocks = _with_prefill(blocks, prefill)
    if not blocks:
        return None
    text = _text_only(blocks)
    return {"role": "assistant", "content": text if text is not None else blocks}


def _sendable(message: MessageParam) -> MessageParam:
    """A history message as it may be sent: without empty or whitespace-only text blocks."""
    content = message.get("content")
    if isinstance(content, list) and any(
        isinstance(b, Mapping) and _is_blank_text(b) for b in content
    ):
        return {
            "role": message["role"],
            "content": [b for b in content if not _is_blank_text(b)],
        }
    return message


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

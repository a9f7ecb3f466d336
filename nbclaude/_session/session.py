"""``Session``: one conversation, shared by ``%%claude``, ``ChatWidget`` and your own code.

:class:`~nbclaude._session.base.BaseSession` holds the settings and the state; this module adds
the turns: ``send`` and ``stream`` (each a :class:`~nbclaude._session.turn.SessionStream`, handed
the session's parts as a :class:`~nbclaude._session.options.TurnContext`), ``stop``,
``count_tokens`` and ``batch``, and the classroom controls: the budget
(``Session(budget=USD)``, ``$NBCLAUDE_BUDGET``, the policy's ``budget``), the course policy
(``$NBCLAUDE_POLICY``, :mod:`nbclaude._session.policy`) and the instructor's log
(:mod:`nbclaude._session.journal`). The history rules every turn follows are in
docs/architecture.md ("History rules"); each is tested.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from nbclaude._api.models import default_model
from nbclaude._exceptions import InvalidRequestError

from . import shared
from .base import BaseSession
from .events import CHANGE, STOP
from .options import TurnContext, TurnOptions
from .policy import Policy, budget_caps, policy_from_environment
from .reply import Reply
from .tool_round import Approver
from .turn import SessionStream

if TYPE_CHECKING:
    from nbclaude._client.client import Client

    from .batches.job import BatchJob
    from .batches.results import BatchResults
    from .journal import Journal

__all__ = ["Session", "SessionStream", "get_session"]


class Session(BaseSession):
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
    budget : float, optional
        The most this session may spend, in USD. A request whose worst case (its input
        tokens, bounded from above, and ``max_tokens``, at the model's prices; batches at the
        batch price) would take the session past it is refused before it is sent, with
        :class:`~nbclaude.BudgetExceededError`. ``$NBCLAUDE_BUDGET`` and the course policy's
        ``budget`` cap it (the lowest applies).
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
        budget: float | None = None,
        **params: Any,
    ) -> None:
        policy = policy_from_environment()  # a bad policy file: one PolicyError, here
        if (
            model is None
            and policy is not None
            and policy.models
            and not policy.allows_model(default_model())
        ):
            model = policy.models[0]  # start on a model the class may use
        caps = budget_caps(policy)  # $NBCLAUDE_BUDGET and the policy's budget
        super().__init__(
            model=model, system=system, max_tokens=max_tokens, client=client, cache=cache,
            **params,
        )  # fmt: skip
        self._policy = policy
        self._budget_caps = caps
        self._builder.policy = policy
        self._builder.usage = self._usage
        self._set_budget(budget)
        if policy is not None and policy.max_tokens is not None:
            self._settings.max_tokens = min(self._settings.max_tokens, policy.max_tokens)
        self._journal: Journal | None = None
        if policy is not None and policy.log is not None:
            from nbclaude._client.credentials import secrets

            from .journal import Journal

            self._journal = Journal(policy.log, secrets=lambda: secrets(self._client))
            self._events.subscribe(self._journal.on_event)

    # -- classroom controls -------------------------------------------------------------------

    @property
    def budget(self) -> float | None:
        """The most this session may spend in USD (``None``: no budget): the lowest of
        ``Session(budget=...)`` (or what you set here), ``$NBCLAUDE_BUDGET`` and the course
        policy's ``budget``. Setting it sets your own; the other two still cap it.

        Examples
        --------
        >>> from nbclaude import Session
        >>> s = Session(budget=2.0)
        >>> s.budget, s.budget_spent, s.budget_left
        (2.0, 0.0, 2.0)
        >>> s.budget = None; s.budget is None
        True
        """
        return self._usage.budget

    @budget.setter
    def budget(self, value: float | None) -> None:
        self.set_budget(value)

    def set_budget(self, value: float | None, *, source: str = "Session(budget=...)") -> None:
        """Set :attr:`budget`, saying where it comes from: a refusal names ``source``.

        Examples
        --------
        >>> from nbclaude import Session
        >>> s = Session()
        >>> s.set_budget(0.5, source="%config ClaudeMagics.budget")
        >>> s.budget
        0.5
        """
        self._set_budget(value, source)
        self._events.emit({"type": CHANGE})

    def _set_budget(self, value: float | None, source: str = "Session(budget=...)") -> None:
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0
        ):
            raise ValueError(f"budget must be a number of US dollars >= 0 or None, not {value!r}")
        own = [] if value is None else [(float(value), source)]
        lowest, source = min(
            [*self._budget_caps, *own], default=(None, ""), key=lambda o: o[0] or 0
        )
        self._usage.set_budget(lowest, source)

    @property
    def budget_spent(self) -> float:
        """USD spent since this session was made, what :attr:`budget` is kept against
        (``reset()`` clears :attr:`cost`, not this: the money is spent)."""
        return self._usage.spent

    @property
    def budget_left(self) -> float | None:
        """USD left of :attr:`budget` (``None`` without one); batches not yet counted hold
        their worst case."""
        return self._usage.left

    @property
    def waiting_for(self) -> dict[str, Any] | None:
        """The tool call the running turn waits to have approved, if any: ``name``,
        ``input`` and ``where`` it is asked (``"the chat widget"``, ``"this cell"``).

        Examples
        --------
        >>> Session().waiting_for is None
        True
        """
        waiting = self._gate.waiting
        return dict(waiting) if waiting is not None else None

    @property
    def policy(self) -> Policy | None:
        """The course policy this session obeys (``$NBCLAUDE_POLICY`` when it was made)."""
        return self._policy

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
            messages = self._builder.turn(
                parts, prefill=prefill, params=params, history=history, kind="count"
            )
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
            journal=self._journal,
        )

    def add_batch_usage(self, batch_id: str, usage: dict[str, int], cost: float | None) -> None:
        """Add a Message Batch's tokens and (batch-price) cost to the totals, once per batch
        id (what a :class:`~nbclaude.BatchJob` calls when its results arrive)."""
        if self._usage.add_once(batch_id, usage, cost):
            self._events.emit({"type": CHANGE})


def get_session() -> Session:
    """The process-wide session shared by ``%%claude`` and ``ChatWidget()``.

    Examples
    --------
    >>> import nbclaude
    >>> nbclaude.get_session() is nbclaude.get_session()
    True
    """
    return shared.get_or_make(Session)

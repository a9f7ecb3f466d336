"""What a request sends: the session's :class:`Settings` and the :class:`RequestBuilder` that
turns them, a turn's parts and its options into the request body.

One builder serves every way a session sends: a turn (:meth:`RequestBuilder.turn`), the later
requests of its tool loop (:meth:`RequestBuilder.body`), token counting and each request of a
Message Batch (a turn with no history). So the rules live once:

- only fields someone set are sent: the session's settings, overridden per turn;
- ``thinking=BUDGET`` (an int) becomes ``{"type": "adaptive"}`` on models that want it, else
  ``{"type": "enabled", "budget_tokens": BUDGET}`` with ``max_tokens`` raised past the budget;
- prefill is stripped of trailing whitespace and refused, before anything is sent, on models
  that reject it;
- Python functions given as tools become their definitions; ``schema=`` becomes
  ``output_config.format`` (merged with an ``output_config`` already set);
- the whole ``messages`` list goes through the request guard rail (image counts and sizes, the
  body size) just before it is sent;
- ``Session(cache=True)`` adds prompt-cache breakpoints (on copies: the history never changes);
- the course policy (:mod:`nbclaude._session.policy`) checks every body and puts its system
  text first; then a paid request's worst case is checked against the session's budget
  (:mod:`nbclaude._session.budget`): both refuse before anything is sent. Token counting obeys
  the policy but costs nothing; a batch's requests are checked together, at the batch price
  (:meth:`RequestBuilder.check_budget`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from nbclaude._api.fields import COUNT_TOKENS_FIELDS
from nbclaude._api.models import PREFILL_EXAMPLE_MODEL, supports_prefill, thinking_mode
from nbclaude._exceptions import InvalidRequestError
from nbclaude._types import MessageParam, ModelInfo

from .budget import Estimate, estimate, estimate_batch
from .cache import add_cache_breakpoints
from .rules import text_only

if TYPE_CHECKING:
    from nbclaude._tools import ToolBox

    from .policy import Policy
    from .usage import Usage

__all__ = [
    "COUNT_TOKENS_FIELDS",
    "RESERVED",
    "Kind",
    "Outgoing",
    "RequestBuilder",
    "Settings",
    "check_max_tokens",
]

#: Fields a session sets itself: never part of ``**params``.
RESERVED = ("model", "max_tokens", "system", "messages", "stream")

#: What a body is for: a paid request, a token count (free), or one request of a batch.
Kind = Literal["message", "count", "batch"]


def check_max_tokens(value: object) -> int:
    """``value`` if it is a whole number >= 0, else a ``ValueError`` saying so."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"max_tokens must be a whole number >= 0, not {value!r}")
    return value


@dataclass
class Settings:
    """A session's request defaults (what ``Session.model``, ``.system``, ... are)."""

    model: str
    system: str | list[dict[str, Any]] | None = None
    max_tokens: int = 1024
    params: dict[str, Any] = field(default_factory=dict)
    cache: bool = False


@dataclass
class Outgoing:
    """A turn, ready to send."""

    #: The user message (images fitted to the request limits).
    user: MessageParam
    #: The prefill (trailing whitespace stripped), or ``None``.
    prefill: str | None
    #: The request body.
    body: dict[str, Any]
    #: The image blocks of the user message (for thumbnails).
    images: list[dict[str, Any]]
    #: What was sent as ``messages``, before cache breakpoints (the tool loop goes on from it).
    messages: list[MessageParam]
    #: History messages that had to be refitted, by index: keep them in the history, so the
    #: same refusal cannot come back on every later turn.
    refitted: dict[int, MessageParam]


class RequestBuilder:
    """Settings + a turn's parts and options -> the request body.

    Parameters
    ----------
    settings : Settings
        The session's defaults (read at every call: changes apply to the next request).
    known_models : callable, optional
        Returns the models the API listed, if the session fetched them (they tell which
        models accept prefill), else ``None``.
    policy : Policy, optional
        The course policy every body must obey (also settable later: :attr:`policy`).
    usage : Usage, optional
        The session's :class:`~nbclaude._session.usage.Usage`: a paid request is refused when
        its worst case does not fit in what is left of its budget.

    Examples
    --------
    >>> b = RequestBuilder(Settings(model="claude-haiku-4-5", system="Be brief."))
    >>> body = b.body([{"role": "user", "content": "Hi"}], {"temperature": 0})
    >>> body["model"], body["system"], body["max_tokens"], body["temperature"]
    ('claude-haiku-4-5', 'Be brief.', 1024, 0)
    """

    def __init__(
        self,
        settings: Settings,
        known_models: Callable[[], list[ModelInfo] | None] = lambda: None,
        *,
        policy: Policy | None = None,
        usage: Usage | None = None,
    ) -> None:
        self.settings = settings
        self._known_models = known_models
        #: The course policy (``None``: none).
        self.policy = policy
        #: Whose budget paid requests are checked against (``None``: no check).
        self.usage = usage

    # -- bodies -------------------------------------------------------------------------------

    def model(self, params: Mapping[str, Any]) -> str:
        """The model a request with these per-turn ``params`` goes to."""
        return str(params.get("model") or self.settings.model)

    def body(
        self, messages: list[MessageParam], params: Mapping[str, Any], *, kind: Kind = "message"
    ) -> dict[str, Any]:
        """The body for ``messages`` with the settings, overridden by ``params``; checked by
        the policy, and (``kind="message"``) against the budget."""
        s = self.settings
        body: dict[str, Any] = {
            "model": self.model(params),
            "max_tokens": params.get("max_tokens", s.max_tokens),
            "messages": messages,
        }
        system = params.get("system", s.system)
        if system:
            body["system"] = system
        for key, value in {**s.params, **params}.items():
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
        if self.policy is not None:
            body = self.policy.check(body, kind=kind)
        if s.cache:
            add_cache_breakpoints(body)
        if kind == "message":
            self.check_budget([body])
        return body

    def count_body(self, messages: list[MessageParam], params: Mapping[str, Any]) -> dict[str, Any]:
        """The body of ``/v1/messages/count_tokens`` for these messages (counting is free:
        the policy applies, the budget does not)."""
        body = self.body(messages, params, kind="count")
        return {k: v for k, v in body.items() if k in COUNT_TOKENS_FIELDS}

    def check_budget(
        self, bodies: Sequence[Mapping[str, Any]], *, discount: float = 1.0
    ) -> Estimate | None:
        """Refuse (:class:`~nbclaude.BudgetExceededError`) requests whose worst case, at
        ``discount`` x the price (a batch's), does not fit in the budget; returns the worst
        case, or ``None`` when there is no budget to keep."""
        usage = self.usage
        if usage is None or usage.budget is None:
            return None
        if len(bodies) == 1 and discount == 1.0:
            needed = estimate(bodies[0])
        else:
            needed = estimate_batch(bodies, discount=discount)
        usage.check(needed, hint=self.policy.message if self.policy is not None else None)
        return needed

    # -- options that become fields ----------------------------------------------------------

    def with_schema(self, params: Mapping[str, Any], schema: Any) -> dict[str, Any]:
        """``params`` asking for structured output: ``output_config.format`` for ``schema``
        (a JSON Schema dict, a dataclass, a ``TypedDict`` or a type), merged with an
        ``output_config`` given per turn or in the settings."""
        from nbclaude._schema import output_format

        out = dict(params)
        config = dict(out.get("output_config") or self.settings.params.get("output_config") or {})
        config["format"] = output_format(schema)
        out["output_config"] = config
        return out

    @staticmethod
    def tool_definitions(tools: Sequence[Any]) -> tuple[ToolBox | None, list[dict[str, Any]]]:
        """The tools a request offers: the :class:`~nbclaude._tools.ToolBox` that runs the
        runnable ones (``None`` when there are none) and the ``tools`` field, in order.

        Python functions and ``Tool`` objects become their definitions; a definition dict is
        sent as it is (a server tool, such as web search, is run by the API)."""
        from nbclaude._tools import ToolBox

        runnable = [t for t in tools if not _is_server_tool(t)]
        box = ToolBox(runnable) if runnable else None
        specs = iter(box.specs()) if box is not None else iter(())
        return box, [dict(t) if _is_server_tool(t) else next(specs) for t in tools]

    # -- a turn ---------------------------------------------------------------------------

    def prefill(self, prefill: str | None, model: str) -> str | None:
        """``prefill`` stripped of trailing whitespace; refused on a model that rejects it."""
        prefill = prefill.rstrip() if prefill else None
        if prefill and supports_prefill(model, self._known_models()) is False:
            raise InvalidRequestError(
                f"{model} does not accept prefill (a final assistant message): models of "
                "the 4.6 generation and later reject it. Instead, say what you want in "
                "the system prompt (e.g. 'Answer with the letter only'), ask for "
                "structured output (schema=...), or use a model that accepts prefill, "
                f"such as {PREFILL_EXAMPLE_MODEL}."
            )
        return prefill

    @staticmethod
    def user_message(parts: Sequence[Any], *, empty: str) -> MessageParam:
        """The user message made of ``parts`` (text, images, documents, blocks); ``empty``
        is the error when they hold nothing to send."""
        from nbclaude._content import to_blocks

        blocks = to_blocks(*parts)
        if not blocks:
            raise InvalidRequestError(empty)
        text = text_only(blocks)
        return {"role": "user", "content": text if text is not None else blocks}

    def turn(
        self,
        parts: Sequence[Any],
        *,
        prefill: str | None,
        params: Mapping[str, Any],
        history: list[MessageParam],
        empty: str = "Nothing to send: the message is empty.",
        kind: Kind = "message",
    ) -> Outgoing:
        """Everything a turn sends after ``history``: its user message, checked prefill and
        body, within the API's limits. A batch item is a turn with no history
        (``kind="batch"``)."""
        user = self.user_message(parts, empty=empty)
        prefill = self.prefill(prefill, self.model(params))
        outgoing = [*history, user]
        if prefill:
            outgoing.append({"role": "assistant", "content": prefill})
        fitted = self._fit(outgoing, params)
        refitted = {i: fitted[i] for i in range(len(history)) if fitted[i] is not outgoing[i]}
        content = user["content"]  # the images as given (thumbnails), before any refitting
        images = (
            [b for b in content if b.get("type") == "image"] if isinstance(content, list) else []
        )
        user = fitted[len(history)]
        body = self.body(fitted, params, kind=kind)
        return Outgoing(user, prefill, body, images, fitted, refitted)

    def _fit(self, messages: list[MessageParam], params: Mapping[str, Any]) -> list[MessageParam]:
        from nbclaude._content import fit_messages

        system = params.get("system", self.settings.system)
        overhead = len(json.dumps(system, ensure_ascii=False)) if system else 0
        return cast("list[MessageParam]", fit_messages(messages, overhead=overhead))


def _is_server_tool(tool: Any) -> bool:
    return isinstance(tool, Mapping) and tool.get("type") not in (None, "custom")

"""What a turn is given: its :class:`TurnOptions`, and the :class:`TurnContext` of the session's
parts it works with (never the ``Session`` itself)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .builder import RequestBuilder
from .events import Events
from .gate import TurnGate
from .history import History
from .tool_round import Approver
from .usage import Usage

if TYPE_CHECKING:
    from nbclaude._client.client import Client

__all__ = ["TurnContext", "TurnOptions"]


@dataclass(frozen=True)
class TurnOptions:
    """How one turn is sent: what ``Session.send`` and ``Session.stream`` take besides the
    parts (their docstrings say what each option does)."""

    prefill: str | None = None
    record: bool = True
    tools: Sequence[Any] = ()
    auto_approve: bool = False
    approve: Approver | None = None
    max_steps: int = 10
    schema: Any = None
    use_tools: bool = True
    #: Request fields for this turn only.
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in ("messages", "stream"):
            if key in self.params:
                raise TypeError(f"{key!r} cannot be set per turn")
        steps = self.max_steps
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise ValueError(f"max_steps must be a whole number >= 0, not {steps!r}")


@dataclass(frozen=True)
class TurnContext:
    """The parts of a session a turn works with."""

    history: History
    usage: Usage
    events: Events
    builder: RequestBuilder
    gate: TurnGate
    #: The session's client (built on first use).
    client: Callable[[], Client]
    #: The session's own tools (``Session.tools``), read when the turn starts.
    tools: Callable[[], list[Any]]
    #: The session's approver (``Session.approver``).
    approver: Callable[[], Approver | None]

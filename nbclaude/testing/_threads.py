"""Server-held conversations: the beta ``thread`` field (``message-threads-2026-08-12``).

The official SDKs' tool runners send ``thread: {"type": "create"}`` by default: the server keeps
the conversation under the response's ``id``, and the next turn sends
``thread: {"type": "continue", "previous_message_id": ...}`` with only its new messages and
without ``system`` / ``tools`` (the server keeps those from the ``create``). The SDK types the
rejections by ``error.details.error_code`` (``types/thread_*_error*.py`` in SDK 2.17):
``thread_not_found`` (404; the SDK then replays the whole conversation with a new ``create``),
``thread_already_continued`` and ``thread_continue_in_flight`` (400), ``thread_unsupported_request``
(400, with ``unsupported``) and ``thread_fingerprint_mismatch`` (400). Their texts are
CONSTRUCTED; the codes and statuses are the SDK's.

:class:`ThreadStore` keeps one node per answered turn: its parent, the messages that turn sent
and the reply, never a copy of the history, so a long threaded chat costs linear memory; the
oldest nodes are dropped past ``limit`` (a continue from one of them gets ``thread_not_found``,
as a lost thread would on the real API).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._request import FakeAPIError, bad, check_keys

__all__ = ["PendingTurn", "ThreadStore"]

# Request fields the SDK 2.17 names in ThreadUnsupportedFeatureName that a request can carry.
_UNSUPPORTED = ("cache_control", "context_management", "fallbacks")
_CREATE_ONLY = ("system", "tools")


@dataclass(frozen=True)
class _Node:
    parent: str | None
    messages: tuple[Mapping[str, Any], ...]
    reply: Mapping[str, Any]  # {"role": "assistant", "content": [...]}
    fields: Mapping[str, Any]  # the create-only fields and the model (on every node)


@dataclass
class PendingTurn:
    """A threaded turn being answered: what to store once the reply is known."""

    parent: str | None
    messages: tuple[Mapping[str, Any], ...]
    fields: Mapping[str, Any]
    done: bool = field(default=False)


def _code(status: int, kind: str, code: str, message: str, **more: Any) -> FakeAPIError:
    return FakeAPIError(status, kind, message, details={"error_code": code, **more})


class ThreadStore:
    """The threads one fake holds (thread-safe).

    Parameters
    ----------
    limit : int
        The most turns kept; the oldest go first.

    Examples
    --------
    >>> store = ThreadStore()
    >>> body = {"model": "m", "messages": [{"role": "user", "content": "Hi"}],
    ...         "thread": {"type": "create"}}
    >>> full, pending = store.expand(body)
    >>> "thread" in full, pending is not None
    (False, True)
    >>> store.store(pending, {"id": "msg_1", "content": [{"type": "text", "text": "Hello"}]})
    >>> full, _ = store.expand({"model": "m", "messages": [{"role": "user", "content": "More"}],
    ...                         "thread": {"type": "continue", "previous_message_id": "msg_1"}})
    >>> [m["role"] for m in full["messages"]]
    ['user', 'assistant', 'user']
    """

    def __init__(self, *, limit: int = 10_000) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._nodes: OrderedDict[str, _Node] = OrderedDict()
        self._continued: set[str] = set()
        self._in_flight: set[str] = set()

    def __len__(self) -> int:
        with self._lock:
            return len(self._nodes)

    def expand(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], PendingTurn | None]:
        """The request as the model sees it (the thread's history and fields put back, the
        ``thread`` field removed), and the turn to store once answered (``None`` without a
        thread). Raises the API's thread errors."""
        out = dict(body)
        thread = out.pop("thread", None)
        if thread is None:
            return out, None
        if not isinstance(thread, Mapping) or thread.get("type") not in ("create", "continue"):
            # CONSTRUCTED (pydantic discriminated-union style)
            raise bad(
                "thread: Input tag found using 'type' does not match any of the expected tags: "
                "'create', 'continue'"
            )
        kind = str(thread["type"])
        check_keys(
            thread,
            frozenset({"type", "previous_message_id"} if kind == "continue" else {"type"}),
            f"thread.{kind}.",
        )
        unsupported = [f for f in _UNSUPPORTED if out.get(f) is not None]
        if unsupported:
            raise _code(  # CONSTRUCTED text
                400,
                "invalid_request_error",
                "thread_unsupported_request",
                f"thread: Threads do not support {', '.join(f'`{f}`' for f in unsupported)}. "
                "Send the full conversation without `thread`, or leave the field out.",
                unsupported=unsupported,
            )
        messages = out.get("messages")
        sent = tuple(messages) if isinstance(messages, list) else ()
        if kind == "create":
            fields = {f: out[f] for f in (*_CREATE_ONLY, "model") if f in out}
            return out, PendingTurn(None, sent, fields)
        previous = thread.get("previous_message_id")
        if not isinstance(previous, str):
            raise bad("thread.continue.previous_message_id: Field required")  # CONSTRUCTED
        repeated = [f for f in _CREATE_ONLY if f in out]
        if repeated:
            raise bad(  # CONSTRUCTED: the SDK says the server refuses them on a continue
                f"{repeated[0]}: not allowed with `thread.type` `continue`: the thread keeps the "
                f"`{repeated[0]}` it was created with"
            )
        with self._lock:
            node = self._nodes.get(previous)
            if node is None:
                raise _code(  # CONSTRUCTED text
                    404,
                    "not_found_error",
                    "thread_not_found",
                    f"thread.previous_message_id: no thread state was found for {previous}. "
                    'Replay the full conversation with `thread: {"type": "create"}`.',
                )
            if previous in self._continued:
                raise _code(  # CONSTRUCTED text
                    400,
                    "invalid_request_error",
                    "thread_already_continued",
                    f"thread.previous_message_id: {previous} has already been continued; "
                    "continue from the thread's most recent response id.",
                )
            if previous in self._in_flight:
                raise _code(  # CONSTRUCTED text
                    400,
                    "invalid_request_error",
                    "thread_continue_in_flight",
                    f"thread.previous_message_id: another request is continuing from {previous}.",
                )
            if out.get("model") != node.fields.get("model"):
                raise _code(  # CONSTRUCTED text
                    400,
                    "invalid_request_error",
                    "thread_fingerprint_mismatch",
                    "thread: `model` differs from the value stored with the thread.",
                )
            history = self._history(previous)
            if history is None:  # an older turn of this thread was dropped (``limit``)
                raise _code(  # CONSTRUCTED text
                    404,
                    "not_found_error",
                    "thread_not_found",
                    f"thread.previous_message_id: no thread state was found for {previous}.",
                )
            self._in_flight.add(previous)
        out.update({f: v for f, v in node.fields.items() if f != "model"})
        out["messages"] = [*history, *sent]
        return out, PendingTurn(previous, sent, node.fields)

    def _history(self, message_id: str) -> list[Mapping[str, Any]] | None:
        chain: list[_Node] = []
        at: str | None = message_id
        while at is not None:
            node = self._nodes.get(at)
            if node is None:
                return None
            chain.append(node)
            at = node.parent
        out: list[Mapping[str, Any]] = []
        for node in reversed(chain):
            out.extend(node.messages)
            out.append(node.reply)
        return out

    def store(self, pending: PendingTurn, message: Mapping[str, Any]) -> None:
        """Keep an answered turn under its response ``id``."""
        with self._lock:
            pending.done = True
            if pending.parent is not None:
                self._in_flight.discard(pending.parent)
                self._continued.add(pending.parent)
            reply = {"role": "assistant", "content": list(message.get("content") or [])}
            self._nodes[str(message["id"])] = _Node(
                pending.parent, pending.messages, reply, pending.fields
            )
            while len(self._nodes) > self._limit:
                old, _ = self._nodes.popitem(last=False)
                self._continued.discard(old)

    def release(self, pending: PendingTurn | None) -> None:
        """A threaded turn ended without a reply to keep (an error, a broken stream)."""
        if pending is None or pending.done:
            return
        with self._lock:
            if pending.parent is not None:
                self._in_flight.discard(pending.parent)

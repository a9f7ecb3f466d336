"""An offline fake of Anthropic's Messages API, for tests, CI and classrooms without a key.

``FakeAnthropic`` speaks the real wire format (JSON Messages, SSE streams, error envelopes,
``request-id`` headers) and validates requests like the real API, with its error texts. Use it
in process as an httpx transport, or over a loopback HTTP server::

    from nbclaude.testing import FakeAnthropic, Text, HTTPError
    fake = FakeAnthropic([HTTPError(529), Text("Hello!", rate=20)])
    client = httpx.Client(transport=fake)          # in process
    with fake.serve() as server:                   # or over 127.0.0.1
        ...  # base_url=server.url

or from a shell: ``python -m nbclaude.testing serve --port 0`` (prints its URL).

Each ``POST /v1/messages`` that passes validation consumes one script item: replies
(:class:`Text`, :class:`ToolUse`, :class:`Thinking`, :class:`RedactedThinking`,
:class:`Reply`, :class:`Message`), replays (:class:`SSE`, :class:`RawResponse`,
:func:`load_recording`) and failures (:class:`HTTPError`, :class:`StreamErrorEvent`,
:class:`Cut`, :class:`Delay`). With an empty script the deterministic default reply answers: it
says it is an offline fake and describes what it received. Invalid requests get the API's 4xx
answer (its real texts where known; see ``_request.py`` for how each text is sourced) and
consume nothing.

Like the real API the fake needs *a* key: any non-empty ``x-api-key`` or ``Authorization:
Bearer`` value (``"offline"`` will do), or exactly the one given as ``FakeAnthropic(api_key=)``.

How it is built (layer 3: of nbclaude it imports only ``nbclaude._api`` and ``_exceptions``;
the session's offline backend, ``nbclaude._session.backend``, is built on it). Collaborators
take callables, never the fake: the server gets ``fake.respond``, the batch store gets
"answer one request" and "make the next id".

* The script: ``_replies.py`` (reply items: what the model says), ``_script.py`` (replays and
  failures, the ``ScriptItem`` union), ``_recording.py`` (recorded files -> items).
* The fake: ``_fake.py`` (:class:`FakeAnthropic`: auth and version headers, routes, the
  script, ids; the httpx transport), ``_incoming.py`` (the request as received:
  :class:`RecordedRequest`), ``_models.py`` (``/v1/models``, from ``nbclaude._api.models``),
  ``_paging.py`` (list pages).
* Validation, with the API's error texts: ``_validate.py`` (``parse_request``: the body's
  shape), ``_options.py`` (sampling, thinking, system, tools, tool_choice, output_config),
  ``_messages.py`` (turns, merge, pairing, prefill), ``_media.py`` and ``_imageinfo.py``
  (images and documents), ``_request.py`` (``ParsedRequest``, the error, shared
  helpers); limits and fields come from ``nbclaude._api``.
* Answers: ``_item_plans.py`` (a script item -> a plan), ``_wire.py`` (a reply -> a Message
  or SSE events, ``max_tokens``, stop sequences, usage), ``_default.py`` (the default reply),
  ``_schema.py`` (example values for schemas), ``_tokens.py`` (stand-in token counts),
  ``_plans.py`` (``Plan``: status, headers, body parts, pauses, drops).
* Playing a plan: ``_inprocess.py`` (httpx responses), ``_server.py``
  (:class:`FakeServer`, loopback HTTP/1.1), ``__main__.py`` (the ``serve`` command).
* Message Batches: ``_batches.py`` (``FakeBatches``: the endpoints and the scripted
  clock), ``_batch_state.py`` (one batch: its record, ticks, JSON, results),
  ``_batch_request.py`` (the batch body's validation, one request's answer).
* ``notebook.py``: run a notebook headless and check its outputs (``quickstart.sh
  --execute`` and the notebook tests use it).

Examples
--------
>>> from nbclaude.testing import FakeAnthropic, Text
>>> fake = FakeAnthropic([Text("Hi!")])
>>> len(fake.pending)
1
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._script import (
    SSE,
    Cut,
    Delay,
    HTTPError,
    Message,
    RawResponse,
    RedactedThinking,
    Reply,
    StreamErrorEvent,
    Text,
    Thinking,
    ToolUse,
)

if TYPE_CHECKING:
    from ._default import MARKER
    from ._fake import FakeAnthropic, RecordedRequest
    from ._recording import load_recording
    from ._server import FakeServer

__all__ = [
    "MARKER",
    "SSE",
    "Cut",
    "Delay",
    "FakeAnthropic",
    "FakeServer",
    "HTTPError",
    "Message",
    "RawResponse",
    "RecordedRequest",
    "RedactedThinking",
    "Reply",
    "StreamErrorEvent",
    "Text",
    "Thinking",
    "ToolUse",
    "load_recording",
]

# Loaded on first use (PEP 562): the transport imports httpx, the rest is only needed by it.
_LAZY = {
    "FakeAnthropic": "_fake",
    "FakeServer": "_server",
    "MARKER": "_default",
    "RecordedRequest": "_fake",
    "load_recording": "_recording",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nbclaude.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

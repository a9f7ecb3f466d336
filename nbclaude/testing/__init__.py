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

Record and replay (a lesson with Claude's real answers and no key): wrap the transport that
really sends in a :class:`RecordingTransport` to append each answered ``POST /v1/messages`` to
a JSONL cassette; a :class:`ReplayTransport` answers matching requests from the cassette,
streamed like live ones, and everything else from the offline fake::

    from nbclaude import Client
    from nbclaude.testing import RecordingTransport, ReplayTransport, is_replayed
    rec = Client(transport=RecordingTransport(httpx.HTTPTransport(), "lesson.jsonl"))
    play = Client(api_key="offline", transport=ReplayTransport("lesson.jsonl"))
    # a replayed reply: response header x-nbclaude-replay: hit, is_replayed(request_id)

What a cassette line holds and what the match key reads (model, system, messages, tools,
tool_choice and the output settings ``max_tokens``, ``stop_sequences``, ``thinking``,
``output_config``) is in ``_cassette.py`` and docs/api.md §13.

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
* Record and replay: ``_cassette.py`` (the JSONL format, :func:`match_key`,
  :func:`load_cassette`, safe appends), ``_record.py`` (:class:`RecordingTransport`),
  ``_replay.py`` (:class:`ReplayTransport`, :func:`is_replayed`).
* Fidelity: ``_threads.py`` (the beta ``thread`` field), ``_caching.py`` (prompt caching),
  ``_citations.py``, ``_reasoning.py`` (tool need, multiple choice), ``_ratelimit.py``
  (``anthropic-ratelimit-*`` headers).
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
    from ._cassette import Cassette, load_cassette, match_key
    from ._default import MARKER
    from ._fake import FakeAnthropic, RecordedRequest
    from ._record import RecordingTransport
    from ._recording import load_recording
    from ._replay import REPLAY_HEADER, ReplayTransport, is_replayed
    from ._server import FakeServer

__all__ = [
    "MARKER",
    "REPLAY_HEADER",
    "SSE",
    "Cassette",
    "Cut",
    "Delay",
    "FakeAnthropic",
    "FakeServer",
    "HTTPError",
    "Message",
    "RawResponse",
    "RecordedRequest",
    "RecordingTransport",
    "RedactedThinking",
    "ReplayTransport",
    "Reply",
    "StreamErrorEvent",
    "Text",
    "Thinking",
    "ToolUse",
    "is_replayed",
    "load_cassette",
    "load_recording",
    "match_key",
]

# Loaded on first use (PEP 562): the transports import httpx, the rest is only needed by them.
_LAZY = {
    "Cassette": "_cassette",
    "FakeAnthropic": "_fake",
    "FakeServer": "_server",
    "MARKER": "_default",
    "REPLAY_HEADER": "_replay",
    "RecordedRequest": "_fake",
    "RecordingTransport": "_record",
    "ReplayTransport": "_replay",
    "is_replayed": "_replay",
    "load_cassette": "_cassette",
    "load_recording": "_recording",
    "match_key": "_cassette",
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

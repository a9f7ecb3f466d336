"""A turn whose stream breaks after text arrived (the history rule for that case), a malformed
event in a session, and the ``retry`` event a turn emits before each wait."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from conftest import KEY

import nbclaude
from nbclaude import Client, Session
from nbclaude.testing import SSE, Cut, FakeAnthropic, HTTPError, StreamErrorEvent, Text


def make(*script: Any, retries: int = 0) -> tuple[Session, FakeAnthropic]:
    fake = FakeAnthropic(list(script), api_key=KEY)
    client = Client(api_key=KEY, transport=fake, max_retries=retries)
    client._initial_retry_delay = 0.001
    return Session(model="claude-haiku-4-5", client=client), fake


def watch(s: Session) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    s.subscribe(lambda e: events.append(dict(e)))
    return events


def shown(events: list[dict[str, Any]]) -> str:
    return "".join(e["text"] for e in events if e["type"] == "delta" and e["kind"] == "text")


def sse_of(*events: dict[str, Any]) -> str:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)


START = {"type": "message_start", "message": {"id": "msg_1", "type": "message",
         "role": "assistant", "model": "claude-haiku-4-5", "content": [], "stop_reason": None,
         "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 1}}}  # fmt: skip
BLOCK = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}


def delta(text: Any, index: int = 0) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index,
            "delta": {"type": "text_delta", "text": text}}  # fmt: skip


BROKEN = {
    "an error event": StreamErrorEvent(after=3, reply=Text("Partial answer here", chunk_size=4)),
    "a cut connection": Cut(after=3, reply=Text("Partial answer here", chunk_size=4)),
    "a malformed event": SSE(sse_of(START, BLOCK, delta("Partial "), delta("answ"), delta(5))),
    "a delta for a block that never started": SSE(
        sse_of(START, BLOCK, delta("Partial "), delta("answ"), delta("ghost", index=9))
    ),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_text_streamed_then_the_stream_broke_the_turn_is_rolled_back_and_says_so(
    name: str,
) -> None:
    s, _fake = make(Text("first answer"), BROKEN[name])
    s.send("first question")
    before = list(s.messages)
    events = watch(s)
    with pytest.raises(nbclaude.StreamError) as info:
        s.send("second question")
    err = info.value
    # the history rule: rolled back, like any failure
    assert s.messages == before and not s.busy
    # ... and nothing the user saw is dropped silently: the error holds it and says so
    seen = shown(events)
    assert seen == "Partial answ"
    assert "".join(b.get("text", "") for b in err.partial["content"]) == seen
    assert f"The {len(seen)} characters that arrived are not in the history" in str(err)
    assert "rolled back" in str(err)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "turn_start" and kinds[-1] == "error"
    assert events[-1]["error"] is err
    assert "ghost" not in json.dumps(s.messages)


def test_a_stream_broken_before_any_text_says_nothing_about_text() -> None:
    s, _fake = make(Cut(after=0, reply=Text("x")))
    with pytest.raises(nbclaude.StreamError) as info:
        s.send("hi")
    assert "characters that arrived" not in str(info.value)
    assert s.messages == []


def test_record_false_says_nothing_was_recorded() -> None:
    s, _fake = make(Cut(after=3, reply=Text("Partial answer here", chunk_size=4)))
    with pytest.raises(nbclaude.StreamError, match="nothing was recorded"):
        s.send("hi", record=False)


# -- retry events -----------------------------------------------------------------------------


def test_a_turn_announces_each_wait_before_a_retry() -> None:
    s, fake = make(HTTPError(529, headers={"retry-after": "0.05"}), HTTPError(429),
                   Text("at last"), retries=2)  # fmt: skip
    events = watch(s)
    assert s.send("hi").text == "at last"
    retries = [e for e in events if e["type"] == "retry"]
    assert [(e["attempt"], e["attempts"], e["status"]) for e in retries] == [(2, 3, 529),
                                                                              (3, 3, 429)]  # fmt: skip
    assert retries[0]["wait"] == 0.05 and retries[0]["reason"] == "Overloaded (529)"
    assert retries[0]["text"].startswith("Overloaded (529) — retrying in")
    assert events[0]["type"] == "turn_start"
    assert len(fake.requests) == 3


def test_session_stop_during_the_wait_sends_nothing_more() -> None:
    s, fake = make(HTTPError(529, headers={"retry-after": "3"}), Text("never"), retries=2)
    waiting = threading.Event()
    s.subscribe(lambda e: waiting.set() if e["type"] == "retry" else None)
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(s.send("hi")), daemon=True)
    worker.start()
    assert waiting.wait(5)
    t = time.monotonic()
    s.stop()
    worker.join(5)
    assert time.monotonic() - t < 1.0
    assert result and result[0].interrupted and s.messages == []
    time.sleep(3.3)
    assert len(fake.requests) == 1

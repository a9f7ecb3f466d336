"""Nothing is sent after a stop, at whatever moment of a turn it comes."""

from __future__ import annotations

from typing import Any

from conftest import KEY

from nbclaude import Client, Session
from nbclaude.testing import FakeAnthropic, Text, ToolUse


def make(*script: Any) -> tuple[Session, FakeAnthropic]:
    fake = FakeAnthropic(list(script), api_key=KEY)
    return Session(model="claude-haiku-4-5", client=Client(api_key=KEY, transport=fake)), fake


def test_a_stop_as_the_turn_starts_sends_nothing() -> None:
    s, fake = make(Text("never sent"))
    s.subscribe(lambda e: s.stop() if e["type"] == "turn_start" else None)
    reply = s.send("hi")
    assert fake.requests == []
    assert reply.interrupted and reply.text == "" and s.messages == [] and not s.busy


def test_a_stop_while_a_tool_runs_sends_no_further_request() -> None:
    def slow_tool() -> str:
        """Look something up."""
        s.stop()
        return "found"

    s, fake = make(ToolUse("slow_tool", {}), Text("never sent"))
    reply = s.send("go", tools=[slow_tool], auto_approve=True)
    assert len(fake.requests) == 1
    assert reply.interrupted
    assert [m["role"] for m in s.messages] == ["user", "assistant", "user"]  # calls answered


def test_the_session_is_usable_after_a_stop() -> None:
    s, fake = make(Text("answer"))
    stop = s.subscribe(lambda e: s.stop() if e["type"] == "turn_start" else None)
    s.send("first")
    stop()
    assert s.send("second").text == "answer" and len(fake.requests) == 1

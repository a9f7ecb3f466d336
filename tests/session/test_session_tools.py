"""The tool loop and structured output in Session.send, against the fake API (which checks
tool_use / tool_result pairing like the real one)."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from conftest import KEY

import nbclaude
from nbclaude import Client, Session
from nbclaude.testing import FakeAnthropic, HTTPError, Reply, Text, ToolUse


def make(*script: Any, **kwargs: Any) -> tuple[Session, FakeAnthropic]:
    fake = FakeAnthropic(list(script), api_key=KEY)
    return Session(
        model="claude-haiku-4-5",
        client=Client(api_key=KEY, transport=fake, max_retries=0),
        **kwargs,
    ), fake


def add(a: int, b: int) -> int:
    """Add two numbers.

    Parameters
    ----------
    a : int
        The first number.
    b : int
        The second number.
    """
    return a + b


def get_weather(location: str, units: Literal["c", "f"] = "c") -> str:
    """The weather at a place.

    Args:
        location: City and country.
        units: Celsius or Fahrenheit.
    """
    return f"18°{units.upper()} and sunny in {location}"


def first_reply_tool_id(fake: FakeAnthropic) -> str:
    """The id of the tool call the fake answered the first request with."""
    sent = fake.requests[1].json["messages"]
    return next(b["id"] for b in sent[-2]["content"] if b["type"] == "tool_use")


def roles(s: Session) -> list[str]:
    return [m["role"] for m in s.messages]


def test_the_loop_runs_a_tool_and_continues() -> None:
    s, fake = make(ToolUse("add", {"a": 1, "b": 2}, text="Let me add."), Text("1 + 2 = 3"))
    events: list[str] = []
    s.subscribe(
        lambda e: events.append(e["type"]) if e["type"] in ("tool_call", "tool_result") else None
    )
    reply = s.send("What is 1+2?", tools=[add], auto_approve=True)
    assert reply.text == "1 + 2 = 3" and reply.stop_reason == "end_turn"
    assert len(reply.steps) == 1 and reply.steps[0].stop_reason == "tool_use"
    assert [r["content"] for r in reply.tool_results] == ["3"]
    assert events == ["tool_call", "tool_result"]
    assert roles(s) == ["user", "assistant", "user", "assistant"]
    assert s.messages[2]["content"][0]["type"] == "tool_result"
    first, second = (r.json for r in fake.requests)
    spec = first["tools"][0]
    assert spec["name"] == "add" and spec["input_schema"]["required"] == ["a", "b"]
    assert spec["input_schema"]["properties"]["a"]["description"] == "The first number."
    tool_use_id = first_reply_tool_id(fake)
    assert second["messages"][-1]["content"][0]["tool_use_id"] == tool_use_id
    assert second["messages"][-2]["role"] == "assistant" and second["tools"] == first["tools"]
    assert s.usage["input_tokens"] == sum(x.usage["input_tokens"] for x in [*reply.steps, reply])


def test_parallel_calls_are_answered_together() -> None:
    s, fake = make(
        Reply([ToolUse("add", {"a": 2, "b": 2}), ToolUse("get_weather", {"location": "Rome"})]),
        Text("done"),
    )
    reply = s.send("Two things", tools=[add, get_weather], auto_approve=True)
    results = s.messages[2]["content"]
    assert [r["content"] for r in results] == ["4", "18°C and sunny in Rome"]
    assert reply.text == "done" and len(fake.requests) == 2


def test_session_tools_are_kept() -> None:
    s, fake = make(ToolUse("add", {"a": 5, "b": 5}), Text("10"), Text("plain"))
    s.tools.append(add)
    assert s.send("5+5?", auto_approve=True).text == "10"
    s.send("no tools needed")
    assert all("tools" in r.json for r in fake.requests)


def test_by_default_each_call_is_asked_about(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    answers = iter(["n", "y"])
    monkeypatch.setattr(builtins, "input", lambda prompt: (asked.append(prompt), next(answers))[1])
    s, _fake = make(ToolUse("add", {"a": 1, "b": 1}), ToolUse("add", {"a": 2, "b": 2}), Text("ok"))
    s.send("go", tools=[add])
    assert len(asked) == 2 and "add(a=1, b=1)" in asked[0]
    results = [
        m["content"][0]
        for m in s.messages
        if m["role"] == "user" and isinstance(m["content"], list)
    ]
    assert results[0]["is_error"] and "declined" in results[0]["content"]
    assert results[1]["content"] == "4"


def test_no_way_to_ask_declines(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_stdin(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr(builtins, "input", no_stdin)
    s, _ = make(ToolUse("add", {"a": 1, "b": 1}), Text("ok"))
    reply = s.send("go", tools=[add])
    assert reply.tool_results[0]["is_error"]


def test_approve_callbacks() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    s, _ = make(
        ToolUse("add", {"a": 1, "b": 1}), Text("ok"), ToolUse("add", {"a": 3, "b": 3}), Text("ok")
    )
    s.send("go", tools=[add], approve=lambda name, args: seen.append((name, args)) or True)
    assert seen == [("add", {"a": 1, "b": 1})]
    s.approver = lambda name, args: False
    reply = s.send("again", tools=[add])
    assert reply.tool_results[0]["is_error"]


def test_tool_exceptions_and_bad_input_go_back_to_the_model() -> None:
    def boom(x: int) -> int:
        raise ValueError("no such thing")

    s, _fake = make(
        Reply(
            [
                ToolUse("boom", {"x": 1}),
                ToolUse("add", {"a": "not a number", "b": 1}),
                ToolUse("nope", {}),
            ]
        ),
        Text("sorry"),
    )
    reply = s.send("go", tools=[boom, add], auto_approve=True)
    errors = [r for r in reply.tool_results if r["is_error"]]
    assert len(errors) == 3 and "ValueError: no such thing" in errors[0]["content"]
    assert reply.text == "sorry"


def test_max_steps_stops_the_loop_with_a_valid_history() -> None:
    s, fake = make(*[ToolUse("add", {"a": i, "b": 1}) for i in range(5)], Text("after"))
    reply = s.send("loop", tools=[add], auto_approve=True, max_steps=2)
    assert len(fake.requests) == 3 and reply.stop_reason == "tool_use"
    last = s.messages[-1]
    assert last["role"] == "user" and "limit of 2 tool steps" in last["content"][0]["content"]
    s.send("and now?")  # the fake accepts the history (pairing intact)
    assert fake.requests[-1].json["messages"][-1]["content"] == "and now?"


def test_a_failed_step_rolls_the_whole_turn_back() -> None:
    s, _fake = make(Text("first"), ToolUse("add", {"a": 1, "b": 1}), HTTPError(500))
    s.send("keep this")
    before = list(s.messages)
    with pytest.raises(nbclaude.InternalServerError):
        s.send("go", tools=[add], auto_approve=True)
    assert s.messages == before


def test_interrupt_inside_a_tool_answers_every_call() -> None:
    def slow(x: int) -> int:
        raise KeyboardInterrupt

    s, _fake = make(
        Reply([ToolUse("slow", {"x": 1}), ToolUse("add", {"a": 1, "b": 2})]), Text("next")
    )
    with pytest.raises(KeyboardInterrupt):
        s.send("go", tools=[slow, add], auto_approve=True)
    assert roles(s) == ["user", "assistant", "user"]
    answered = s.messages[-1]["content"]
    assert [r["content"] for r in answered] == [
        "Interrupted by the user.",
        "Interrupted by the user.",
    ]
    assert s.send("continue").text == "next"  # the fake accepts the pairing


def test_record_false_with_tools() -> None:
    s, fake = make(ToolUse("add", {"a": 1, "b": 1}), Text("2"))
    reply = s.send("go", tools=[add], auto_approve=True, record=False)
    assert reply.text == "2" and s.messages == []
    assert len(fake.requests[1].json["messages"]) == 3


def test_server_tools_pass_through() -> None:
    s, fake = make(Text("searched"))
    s.send("news?", tools=[{"type": "web_search_20250305", "name": "web_search"}])
    assert fake.requests[0].json["tools"] == [{"type": "web_search_20250305", "name": "web_search"}]


# -- structured output ----------------------------------------------------------------------


@dataclass
class Person:
    name: str
    born: int


def test_schema_asks_for_json_and_parses_it() -> None:
    s, fake = make(Text('{"name": "Ada Lovelace", "born": 1815}'))
    reply = s.send("Who wrote the first program?", schema=Person)
    fmt = fake.requests[0].json["output_config"]["format"]
    assert fmt["type"] == "json_schema" and fmt["schema"]["required"] == ["name", "born"]
    assert reply.data == Person("Ada Lovelace", 1815)


def test_schema_mismatch_is_a_clear_error() -> None:
    s, _ = make(Text('{"name": "Ada"}'))
    reply = s.send("Who?", schema=Person)
    with pytest.raises(nbclaude.StructuredOutputError, match="born"):
        _ = reply.data


def test_schema_offline_default_reply_fits() -> None:
    s, _ = make()
    reply = s.send("Invent a person.", schema=Person)
    assert isinstance(reply.data, Person)


def test_schema_dict_and_typed_dict() -> None:
    from typing import TypedDict

    class Point(TypedDict):
        x: float
        y: float

    s, _ = make(Text('{"x": 1, "y": 2.5}'), Text('{"ok": true}'))
    assert s.send("p", schema=Point).data == {"x": 1, "y": 2.5}
    assert s.send(
        "q",
        schema={
            "type": "object",
            "properties": {"ok": {"type": "boolean"}},
            "required": ["ok"],
            "additionalProperties": False,
        },
    ).data == {"ok": True}


def test_a_stop_while_a_tool_runs_sends_no_further_request() -> None:
    import threading
    import time

    def slow(x: int) -> int:
        time.sleep(0.3)
        return x

    s, fake = make(ToolUse("slow", {"x": 1}), Text("never asked for"))
    threading.Timer(0.1, s.stop).start()
    reply = s.send("go", tools=[slow], auto_approve=True)
    assert len(fake.requests) == 1
    assert reply.interrupted
    assert roles(s) == ["user", "assistant", "user"]  # the call is answered: history valid
    assert s.messages[-1]["content"][0]["content"] == "1"


def test_stop_emits_an_event() -> None:
    s, _ = make()
    seen: list[str] = []
    s.subscribe(lambda e: seen.append(e["type"]))
    s.stop()  # nothing streaming: still tells observers
    assert seen == ["stop"]


def test_use_tools_false_sends_no_tools() -> None:
    s, fake = make(Text("plain"), ToolUse("add", {"a": 1, "b": 1}), Text("2"), Text("no tools now"))
    s.tools.append(add)
    s.send("hi", use_tools=False)
    assert "tools" not in fake.requests[0].json
    s.send("add", auto_approve=True)
    s.send("and now without tools", use_tools=False)
    # the history holds tool blocks, which the API accepts only with tools defined:
    # they are sent, but Claude may not call them
    last = fake.requests[-1].json
    assert last["tools"][0]["name"] == "add" and last["tool_choice"] == {"type": "none"}

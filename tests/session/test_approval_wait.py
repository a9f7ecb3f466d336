"""A tool call waiting for the user's answer is public: an ``approval`` event before and after
the question, and ``Session.waiting_for`` while it waits (so a ``%%claude`` cell started
meanwhile can say where to answer)."""

from __future__ import annotations

from typing import Any

from conftest import KEY

from nbclaude import Client, Session
from nbclaude.testing import FakeAnthropic, Text, ToolUse


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


def test_the_wait_is_announced_and_visible() -> None:
    fake = FakeAnthropic([ToolUse("get_weather", {"city": "Paris"}), Text("Sunny.")], api_key=KEY)
    s = Session(model="claude-haiku-4-5", client=Client(api_key=KEY, transport=fake))
    events: list[dict[str, Any]] = []
    s.subscribe(lambda e: events.append(dict(e)) if e["type"] == "approval" else None)
    during: list[Any] = []

    def approve(name: str, args: dict[str, Any]) -> bool:
        during.append(s.waiting_for)
        return True

    approve.where = "the chat widget"  # type: ignore[attr-defined]
    s.send("Weather in Paris?", tools=[get_weather], approve=approve)
    assert during == [
        {"type": "approval", "id": during[0]["id"], "name": "get_weather",
         "input": {"city": "Paris"}, "where": "the chat widget", "waiting": True}
    ]  # fmt: skip
    assert [e["waiting"] for e in events] == [True, False]
    assert s.waiting_for is None


def test_no_approval_no_announcement() -> None:
    fake = FakeAnthropic([ToolUse("get_weather", {"city": "Oslo"}), Text("Rain.")], api_key=KEY)
    s = Session(model="claude-haiku-4-5", client=Client(api_key=KEY, transport=fake))
    kinds: list[str] = []
    s.subscribe(lambda e: kinds.append(e["type"]))
    s.send("Weather in Oslo?", tools=[get_weather], auto_approve=True)
    assert "approval" not in kinds and "tool_call" in kinds

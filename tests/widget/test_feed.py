"""The transcript goes whole once per view, then only what changed (issue #14 item 7)."""

from __future__ import annotations

from typing import Any

import nbclaude
from nbclaude._widget import protocol as proto
from nbclaude._widget.widget import ChatWidget
from nbclaude.testing import Text, ToolUse

from .frontend import _wait_idle, open_widget, session_with, wait_for

PARAGRAPH = (
    "The **derivative** of $f(x) = x^2$ is $f'(x) = 2x$. In code:\n\n"
    "```python\ndef f(x):\n    return x ** 2\n```\n\n"
    "Each step follows from the *power rule*, which you can check numerically. "
)


def long_session(messages: int, *script: Any) -> nbclaude.Session:
    s, _ = session_with(*script)
    for i in range(messages // 2):
        s.messages += [
            {"role": "user", "content": f"Question {i}: what is {i} squared?"},
            {"role": "assistant", "content": PARAGRAPH},
        ]
    return s


def turn_bytes(messages: int, widgets: list[ChatWidget]) -> int:
    s = long_session(messages, Text("A short answer, " * 20, rate=2000))
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SYNC, "transcript": True})  # the view opens
    before = fe.wire_bytes()
    fe.send({"type": proto.SEND, "text": "go", "attachments": []})
    assert _wait_idle(fe.widget)
    assert len(s.messages) == messages + 2
    return fe.wire_bytes() - before


def test_one_turn_costs_the_same_at_2000_messages_as_at_20(widgets: list[ChatWidget]) -> None:
    small = turn_bytes(20, widgets)
    large = turn_bytes(2_000, widgets)
    assert large <= 2 * small, (small, large)


def test_a_new_view_gets_the_whole_transcript_once(widgets: list[ChatWidget]) -> None:
    s = long_session(40)
    fe = open_widget(s, widgets)
    assert fe.customs(proto.ENTRIES) == []  # nothing is sent before a view asks
    fe.send({"type": proto.SYNC, "transcript": True})
    (snapshot,) = fe.customs(proto.ENTRIES)
    assert snapshot["start"] == 0
    assert snapshot["entries"] == fe.widget.transcript
    assert len(snapshot["entries"]) == 40
    fe.send({"type": proto.SYNC})  # the settings panel opens: tool names only
    assert len(fe.customs(proto.ENTRIES)) == 1
    # and the transcript is no synced trait: the widget's state never holds it
    assert "transcript" not in fe.widget.get_state()


def test_each_change_sends_only_the_entries_from_the_first_changed_one(
    widgets: list[ChatWidget],
) -> None:
    s = long_session(10, Text("Eleven."))
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SYNC, "transcript": True})
    fe.send({"type": proto.SEND, "text": "And 5?", "attachments": []})
    assert _wait_idle(fe.widget)
    first, *changes = fe.customs(proto.ENTRIES)
    assert [(c["start"], len(c["entries"])) for c in changes] == [(10, 1), (11, 1)]
    seqs = [m["seq"] for m in [first, *changes]]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    # a view applying them in order holds exactly the widget's transcript
    held: list[Any] = []
    for m in [first, *changes]:
        held = held[: m["start"]] + m["entries"]
    assert held == fe.widget.transcript
    fe.send({"type": proto.UNDO})
    undo = fe.customs(proto.ENTRIES)[-1]
    assert (undo["start"], undo["entries"]) == (10, [])


def test_a_tool_round_sends_only_the_reply(widgets: list[ChatWidget]) -> None:
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    s = long_session(200, ToolUse("add", {"a": 1, "b": 2}, text="Adding."), Text("3"))
    s.tools.append(add)
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SYNC, "transcript": True})
    fe.send({"type": proto.SEND, "text": "1 + 2?", "attachments": []})
    wait_for(lambda: fe.widget.approval is not None)
    fe.send({"type": proto.APPROVE, "id": fe.widget.approval["id"], "allow": True})
    assert _wait_idle(fe.widget)
    changes = fe.customs(proto.ENTRIES)[1:]
    assert changes and all(c["start"] >= 200 for c in changes)
    assert len(changes) <= 4  # turn start, the step, the result, turn end


def test_two_views_of_one_widget_both_follow(widgets: list[ChatWidget]) -> None:
    s = long_session(4, Text("Five."))
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SYNC, "transcript": True})  # view 1
    fe.send({"type": proto.SEND, "text": "go", "attachments": []})
    assert _wait_idle(fe.widget)
    fe.send({"type": proto.SYNC, "transcript": True})  # view 2 opens later: all of it again
    last = fe.customs(proto.ENTRIES)[-1]
    assert last["start"] == 0 and last["entries"] == fe.widget.transcript
    assert last["seq"] == fe.customs(proto.ENTRIES)[-2]["seq"]  # nothing changed meanwhile

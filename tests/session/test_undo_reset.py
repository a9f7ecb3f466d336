"""``undo()`` right after ``reset()`` (or a load) brings the conversation back (issue 12, item 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import KEY

from nbclaude import Client, Session
from nbclaude.testing import FakeAnthropic, Text


def make(*script: Any) -> Session:
    fake = FakeAnthropic(list(script), api_key=KEY)
    return Session(model="claude-haiku-4-5", client=Client(api_key=KEY, transport=fake))


def test_undo_right_after_reset_restores_the_conversation_and_its_usage() -> None:
    s = make(Text("one", usage={"input_tokens": 7, "output_tokens": 3}), Text("two"))
    s.send("first")
    s.send("second")
    messages, usage, cost = list(s.messages), s.usage, s.cost
    facts = s.history.facts(s.messages)
    events: list[str] = []
    s.subscribe(lambda e: events.append(e["type"]))
    s.reset()
    assert s.messages == [] and s.usage["input_tokens"] == 0
    s.undo()
    assert (
        s.messages == messages
        and [m is n for m, n in zip(s.messages, messages, strict=True)] == [True] * 4
    )
    assert (s.usage, s.cost) == (usage, cost)
    assert s.history.facts(s.messages) == facts  # the widget still knows each reply's model
    assert events == ["reset", "undo"]
    s.undo()  # a second undo is an ordinary one: the last exchange goes
    assert [m["content"] for m in s.messages] == ["first", "one"]


def test_a_second_reset_of_an_empty_conversation_keeps_what_the_first_cleared() -> None:
    s = make(Text("one"))
    s.send("first")
    s.reset()
    s.reset()
    s.undo()
    assert [m["content"] for m in s.messages] == ["first", "one"]


def test_undo_after_reset_and_a_new_turn_is_an_ordinary_undo() -> None:
    s = make(Text("one"), Text("new"))
    s.send("first")
    s.reset()
    s.send("a fresh start")
    s.undo()
    assert s.messages == []
    s.undo()  # what reset cleared is gone for good once the history changed after it
    assert s.messages == []


@pytest.mark.parametrize("change", ["append", "assign"])
def test_a_change_made_by_hand_after_reset_is_not_overwritten(change: str) -> None:
    s = make(Text("one"))
    s.send("first")
    s.reset()
    if change == "append":
        s.messages.append({"role": "user", "content": "by hand"})
    else:
        s.messages = [{"role": "user", "content": "by hand"}]
    s.undo()
    assert s.messages == []


def test_undo_right_after_a_load_brings_back_what_it_replaced(tmp_path: Path) -> None:
    other = Session(model="claude-opus-4-8", system="Other.")
    other.messages += [{"role": "user", "content": "theirs"}]
    other.save(tmp_path / "other.json")
    s = make(Text("mine"))
    s.send("my question")
    mine, usage = list(s.messages), s.usage
    s.replace(Session.load(tmp_path / "other.json"))
    assert (s.model, s.system, len(s.messages)) == ("claude-opus-4-8", "Other.", 1)
    s.undo()
    assert (s.model, s.system, s.messages, s.usage) == ("claude-haiku-4-5", None, mine, usage)

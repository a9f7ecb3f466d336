"""ChatWidget against the in-process fake API, with a recording comm as the front end.

The "front end" here speaks exactly what ``js/`` speaks: custom messages in through the
widget's real comm entry point (``_handle_msg``), trait updates and custom messages out
through the comm. No kernel, no browser (those are in tests/browser/).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from conftest import KEY

import nbclaude
from nbclaude._widget import protocol as proto
from nbclaude._widget.transcript import transcript
from nbclaude._widget.widget import ChatWidget
from nbclaude.testing import (
    FakeAnthropic,
    HTTPError,
    Reply,
    StreamErrorEvent,
    Text,
    Thinking,
    ToolUse,
)

from .frontend import (
    FrontEnd,
    _wait_idle,
    open_widget,
    png_bytes,
    posts,
    session_with,
    wait_for,
)

# -- state --------------------------------------------------------------------------------------


def test_traits_mirror_the_session(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(system="Be brief.", max_tokens=300)
    s.messages.extend(
        [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    )
    fe = open_widget(s, widgets)
    w = fe.widget
    assert (w.model, w.system, w.max_tokens, w.busy) == (
        "claude-haiku-4-5",
        "Be brief.",
        300,
        False,
    )
    assert [e["role"] for e in w.transcript] == ["user", "assistant"]
    assert w.transcript[1]["blocks"] == [{"type": "text", "text": "Hello"}]
    assert w.session is s
    assert [m["id"] for m in w.models]  # from GET /v1/models on the fake


def test_default_session_is_the_shared_one(widgets: list[ChatWidget]) -> None:
    w = ChatWidget()
    widgets.append(w)
    assert w.session is nbclaude.get_session()
    assert w.shared is True  # the view says %%claude turns show up here too


def test_a_widget_on_its_own_session_says_so(widgets: list[ChatWidget]) -> None:
    fe = open_widget(nbclaude.Session(), widgets)
    assert fe.widget.shared is False


def test_rejects_a_non_session() -> None:
    with pytest.raises(TypeError, match=r"nbclaude\.Session"):
        ChatWidget(session="hello")  # type: ignore[arg-type]


def test_missing_bundle_says_how_to_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from nbclaude._widget import widget as _widget

    monkeypatch.setattr(_widget, "_STATIC", tmp_path)
    with pytest.raises(nbclaude.NbClaudeError, match="front end is missing") as info:
        ChatWidget(session=nbclaude.Session())
    assert "npm run build" in info.value.hint


def test_model_list_falls_back_without_a_key(widgets: list[ChatWidget]) -> None:
    fe = open_widget(nbclaude.Session(), widgets)  # no key, not offline
    from nbclaude._api.models import FALLBACK_MODELS

    assert [m["id"] for m in fe.widget.models] == list(FALLBACK_MODELS)
    assert fe.widget.error is None  # a missing key is reported when sending, not before


# -- turns --------------------------------------------------------------------------------------


def test_send_streams_a_reply_into_history(widgets: list[ChatWidget]) -> None:
    reply = "Hello **there**! " * 20
    s, fake = session_with(Text(reply, rate=400))
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SEND, "text": "Hi Claude", "attachments": []})
    assert _wait_idle(fe.widget)
    assert s.messages == [
        {"role": "user", "content": "Hi Claude"},
        {"role": "assistant", "content": reply},
    ]
    kinds = [m["type"] for m in fe.customs()]
    assert kinds[0] == proto.TURN_START
    assert kinds[-1] == proto.TURN_END
    assert set(kinds[1:-1]) == {proto.DELTA}
    assert "".join(m.get("text", "") for m in fe.customs(proto.DELTA)) == reply
    w = fe.widget
    assert w.busy is False
    assert [e["role"] for e in w.transcript] == ["user", "assistant"]
    meta = w.transcript[1]["meta"]
    assert meta["interrupted"] is False
    assert meta["stop_reason"] == "end_turn"
    assert meta["output_tokens"] > 0
    assert w.usage["output_tokens"] == meta["output_tokens"]
    assert w.cost is not None and w.cost > 0
    assert True in fe.updates("busy")  # busy went on while streaming
    assert posts(fake)[-1]["messages"] == [{"role": "user", "content": "Hi Claude"}]


def test_the_comm_handler_returns_at_once(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(Text("word " * 40, rate=100))
    fe = open_widget(s, widgets)
    t0 = time.perf_counter()
    fe.send({"type": proto.SEND, "text": "go", "attachments": []})
    assert time.perf_counter() - t0 < 0.1  # the turn runs in a worker thread
    wait_for(lambda: s.busy)
    _wait_idle(fe.widget)


def test_deltas_are_coalesced_and_carry_only_new_text(widgets: list[ChatWidget]) -> None:
    reply = "tok " * 300  # 300 deltas at 1,000/s: about 0.3 s
    s, _ = session_with(Text(reply, rate=1000, chunk_size=4))
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SEND, "text": "count", "attachments": []})
    _wait_idle(fe.widget)
    deltas = fe.customs(proto.DELTA)
    assert "".join(d["text"] for d in deltas) == reply
    assert len(deltas) <= 15  # ~60 ms apart, not one per token
    assert len(deltas) >= 2  # and still live while streaming
    # bytes: linear in the reply (each delta has only new text; one final transcript)
    assert fe.wire_bytes() < 6 * len(reply) + 4000


def test_thinking_deltas_stream_separately(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(Thinking("Two plus two.", "4", rate=200))
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SEND, "text": "2+2?", "attachments": []})
    _wait_idle(fe.widget)
    deltas = fe.customs(proto.DELTA)
    assert "".join(d.get("thinking", "") for d in deltas) == "Two plus two."
    assert "".join(d.get("text", "") for d in deltas) == "4"
    blocks = fe.widget.transcript[1]["blocks"]
    assert blocks[0] == {"type": "thinking", "text": "Two plus two."}


def test_stop_ends_the_stream_within_a_second(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(Text("slow " * 400, rate=20))  # would take 20 s
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SEND, "text": "tell me a long story", "attachments": []})
    wait_for(lambda: fe.customs(proto.DELTA))
    t0 = time.perf_counter()
    fe.send({"type": proto.STOP})
    wait_for(lambda: not fe.widget.busy, timeout=1.0)
    assert time.perf_counter() - t0 < 1.0
    assert _wait_idle(fe.widget, timeout=1.0)
    assert fe.customs(proto.TURN_END)[-1]["interrupted"] is True
    # history: the turn is kept with its partial reply, marked as interrupted
    assert len(s.messages) == 2
    partial = s.messages[1]["content"]
    assert isinstance(partial, str) and partial.startswith("slow") and len(partial) < 400 * 5
    assert fe.widget.transcript[1]["meta"]["interrupted"] is True


def test_api_errors_show_a_banner_with_retry(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(HTTPError(401), Text("Welcome back."))
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SEND, "text": "Hi", "attachments": []})
    _wait_idle(fe.widget)
    error = fe.widget.error
    assert error is not None
    assert error["kind"] == "AuthenticationError"
    assert error["message"].startswith("401 authentication_error")
    assert "ANTHROPIC_API_KEY" in error["hint"]
    assert error["retry"] is True
    assert KEY not in json.dumps(error)
    assert s.messages == []  # rolled back
    assert fe.widget.transcript == []
    assert fe.widget.busy is False
    fe.send({"type": proto.RETRY})
    _wait_idle(fe.widget)
    assert fe.widget.error is None
    assert s.messages[-1] == {"role": "assistant", "content": "Welcome back."}
    assert s.messages[0] == {"role": "user", "content": "Hi"}


def test_a_broken_stream_is_an_error_not_a_short_reply(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(StreamErrorEvent(after=2, reply=Text("a b c d e f")))
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SEND, "text": "Hi", "attachments": []})
    _wait_idle(fe.widget)
    assert fe.widget.error is not None
    assert fe.widget.error["kind"] == "StreamError"
    assert fe.widget.busy is False


def test_no_key_shows_what_to_do(widgets: list[ChatWidget]) -> None:
    fe = open_widget(nbclaude.Session(), widgets)
    fe.send({"type": proto.SEND, "text": "Hi", "attachments": []})
    _wait_idle(fe.widget)
    error = fe.widget.error
    assert error is not None and error["kind"] == "MissingAPIKeyError"
    assert "NBCLAUDE_OFFLINE" in error["hint"]
    assert fe.widget.session.messages == []


def test_handler_exceptions_never_vanish(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(Text("x " * 200, rate=50))
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SEND, "text": "go", "attachments": []})
    wait_for(lambda: s.busy)
    fe.send({"type": proto.UNDO})  # not allowed while streaming: InvalidRequestError
    assert fe.widget.error is not None
    assert "stop it first" in fe.widget.error["message"]
    fe.send({"type": proto.STOP})
    _wait_idle(fe.widget)


def test_unexpected_exceptions_reach_the_banner_and_the_log(
    widgets: list[ChatWidget], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    s, _ = session_with()
    fe = open_widget(s, widgets)

    def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(s, "undo", broken)
    fe.send({"type": proto.UNDO})
    assert fe.widget.error is not None
    assert fe.widget.error["message"] == "RuntimeError: boom"
    assert "bug" in fe.widget.error["hint"]
    assert "boom" in caplog.text


def test_clear_and_undo(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(Text("one"), Text("two"))
    fe = open_widget(s, widgets)
    for text in ("1", "2"):
        fe.send({"type": proto.SEND, "text": text, "attachments": []})
        _wait_idle(fe.widget)
    assert len(fe.widget.transcript) == 4
    fe.send({"type": proto.UNDO})
    assert [m["content"] for m in s.messages] == ["1", "one"]
    assert len(fe.widget.transcript) == 2
    fe.send({"type": proto.CLEAR})
    assert s.messages == [] and fe.widget.transcript == []
    assert fe.widget.usage["output_tokens"] == 0


def test_dismiss_hides_the_banner(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(HTTPError(400))
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SEND, "text": "x", "attachments": []})
    _wait_idle(fe.widget)
    assert fe.widget.error is not None
    fe.send({"type": proto.DISMISS})
    assert fe.widget.error is None


# -- images --------------------------------------------------------------------------------------


def test_images_arrive_as_buffers_and_are_downscaled(widgets: list[ChatWidget]) -> None:
    s, fake = session_with(Text("A red square."))
    fe = open_widget(s, widgets)
    data = png_bytes(3000, 2000)
    fe.send(
        {"type": proto.ATTACH, "id": "a1", "name": "red.png", "media_type": "image/png"},
        [memoryview(data)],
    )
    wait_for(lambda: fe.customs(proto.ATTACHED))
    assert fe.customs(proto.ATTACHED) == [{"type": proto.ATTACHED, "id": "a1", "ok": True}]
    fe.send({"type": proto.SEND, "text": "What is this?", "attachments": ["a1"]})
    _wait_idle(fe.widget)
    content = posts(fake)[-1]["messages"][0]["content"]
    assert [b["type"] for b in content] == ["image", "text"]
    from nbclaude._content.images import image_info

    info = image_info(content[0])
    assert info is not None and max(info.width or 0, info.height or 0) <= 1568
    shown = fe.widget.transcript[0]["blocks"][0]
    assert shown["type"] == "image"
    assert shown["src"].startswith("data:image/")
    assert (shown["width"], shown["height"]) == (info.width, info.height)


def test_non_images_are_refused_with_a_message(widgets: list[ChatWidget]) -> None:
    s, fake = session_with()
    fe = open_widget(s, widgets)
    fe.send(
        {"type": proto.ATTACH, "id": "t1", "name": "notes.txt", "media_type": "image/png"},
        [b"just some text, not an image"],
    )
    wait_for(lambda: fe.customs(proto.ATTACHED))
    answer = fe.customs(proto.ATTACHED)[0]
    assert answer["ok"] is False
    assert "notes.txt" in answer["error"]
    # sending with the refused id sends nothing and gives the text back
    fe.send({"type": proto.SEND, "text": "look", "attachments": ["t1"]})
    _wait_idle(fe.widget)
    assert posts(fake) == []
    assert fe.customs(proto.DRAFT) == [{"type": proto.DRAFT, "text": "look"}]


def test_oversized_uploads_are_refused(widgets: list[ChatWidget]) -> None:
    s, _ = session_with()
    fe = open_widget(s, widgets)
    fe.send(
        {"type": proto.ATTACH, "id": "big", "name": "huge.png", "media_type": "image/png"},
        [bytes(proto.MAX_UPLOAD_BYTES + 1)],
    )
    answer = fe.customs(proto.ATTACHED)[0]
    assert answer["ok"] is False and "too large" in answer["error"]


def test_detached_images_are_not_sent(widgets: list[ChatWidget]) -> None:
    s, fake = session_with(Text("ok"))
    fe = open_widget(s, widgets)
    fe.send({"type": proto.ATTACH, "id": "a", "name": "a.png"}, [png_bytes(20, 20)])
    fe.send({"type": proto.DETACH, "id": "a"})
    fe.send({"type": proto.SEND, "text": "hi", "attachments": ["a"]})
    _wait_idle(fe.widget)
    assert posts(fake)[-1]["messages"][0]["content"] == "hi"


# -- sharing ---------------------------------------------------------------------------------------


def test_two_widgets_on_one_session_stay_in_sync(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(Text("Shared reply.", rate=200))
    a = open_widget(s, widgets)
    b = open_widget(s, widgets)
    a.send({"type": proto.SEND, "text": "from A", "attachments": []})
    _wait_idle(a.widget)
    assert a.widget.transcript == b.widget.transcript
    assert len(b.widget.transcript) == 2
    assert b.customs()[0]["type"] == proto.TURN_START
    assert "".join(d["text"] for d in b.customs(proto.DELTA)) == "Shared reply."


def test_session_send_turns_appear_live(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(Text("From code.", rate=200))
    fe = open_widget(s, widgets)
    s.send("typed in a cell")  # as %%claude does, in the kernel's main thread
    assert fe.customs()[0]["type"] == proto.TURN_START
    assert "".join(d["text"] for d in fe.customs(proto.DELTA)) == "From code."
    assert fe.widget.transcript[0]["blocks"] == [{"type": "text", "text": "typed in a cell"}]
    assert fe.widget.busy is False


def test_a_new_widget_shows_the_whole_history(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(*[Text(f"answer {i}") for i in range(5)])
    for i in range(5):
        s.send(f"question {i}")
    fe = open_widget(s, widgets)
    assert len(fe.widget.transcript) == 10
    assert fe.widget.transcript[-1]["blocks"][0]["text"] == "answer 4"


def test_a_view_opened_mid_reply_gets_the_live_text(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(Text("abc " * 100, rate=50))
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SEND, "text": "go", "attachments": []})
    wait_for(lambda: fe.customs(proto.DELTA))
    fe.send({"type": proto.SYNC})
    live = fe.customs(proto.LIVE)[0]
    assert live["text"].startswith("abc")
    assert live["model"] == "claude-haiku-4-5"
    fe.send({"type": proto.STOP})
    _wait_idle(fe.widget)


def test_closed_widgets_stop_listening(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(Text("later"))
    fe = open_widget(s, widgets)
    fe.widget.close()
    before = len(fe.comm.published)
    s.send("hi")
    assert len(fe.comm.published) == before


# -- settings --------------------------------------------------------------------------------------


def test_settings_from_the_panel_change_the_session(widgets: list[ChatWidget]) -> None:
    s, fake = session_with(Text("ok"))
    fe = open_widget(s, widgets)
    fe.set(model="claude-sonnet-5-5", system="You are a tutor.", max_tokens=200)
    assert (s.model, s.system, s.max_tokens) == ("claude-sonnet-5-5", "You are a tutor.", 200)
    fe.send({"type": proto.SEND, "text": "hi", "attachments": []})
    _wait_idle(fe.widget)
    body = posts(fake)[-1]
    assert (body["model"], body["system"], body["max_tokens"]) == (
        "claude-sonnet-5-5",
        "You are a tutor.",
        200,
    )
    fe.set(system="")
    assert s.system is None


def test_session_changes_reach_the_panel(widgets: list[ChatWidget]) -> None:
    s, _ = session_with()
    fe = open_widget(s, widgets)
    s.model = "claude-opus-5-5"
    s.max_tokens = 77
    assert (fe.widget.model, fe.widget.max_tokens) == ("claude-opus-5-5", 77)


def test_block_system_prompts_are_not_flattened_by_the_panel(widgets: list[ChatWidget]) -> None:
    system = [{"type": "text", "text": "Long rules.", "cache_control": {"type": "ephemeral"}}]
    s, _ = session_with(system=system)
    fe = open_widget(s, widgets)
    assert fe.widget.system == "Long rules."
    fe.set(model="claude-opus-5-5")
    assert s.system == system


def test_invalid_settings_show_an_error_and_snap_back(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(max_tokens=100)
    fe = open_widget(s, widgets)
    fe.set(max_tokens=-5)
    assert s.max_tokens == 100
    assert fe.widget.max_tokens == 100
    assert fe.widget.error is not None


# -- protocol --------------------------------------------------------------------------------------


def test_transcript_entries_for_every_block_kind() -> None:
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "image", "source": {"type": "url", "url": "https://x.example/p.png"}},
                {
                    "type": "document",
                    "source": {"type": "text", "media_type": "text/plain", "data": "x"},
                    "title": "Notes",
                },
                {"type": "tool_result", "tool_use_id": "t", "content": "42"},  # no call before
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "redacted_thinking", "data": "xyz"},
                {"type": "text", "text": "  "},
                {"type": "tool_use", "id": "t", "name": "calc", "input": {}},
            ],
        },
    ]
    user, assistant = transcript(messages)
    assert user["blocks"] == [
        {"type": "other", "label": "image (by URL): https://x.example/p.png"},
        {"type": "other", "label": "document: Notes (text/plain)"},
        {"type": "other", "label": "tool result"},
    ]
    assert assistant["blocks"] == [
        {"type": "other", "label": "thinking (redacted)"},
        {"type": "tool", "id": "t", "name": "calc", "input": "{}", "status": "not run"},
    ]
    # remote images are never fetched or shown as images
    assert "src" not in json.dumps(user)


# -- tools -----------------------------------------------------------------------------------------

CALLS: list[tuple[int, int]] = []


def add(a: int, b: int) -> int:
    """Add two numbers."""
    CALLS.append((a, b))
    return a + b


def broken(x: int) -> int:
    """Always fails."""
    raise ValueError(f"no luck with {x}")


@pytest.fixture(autouse=True)
def _forget_calls() -> None:
    CALLS.clear()


def tool_session(*script: Any) -> tuple[nbclaude.Session, FakeAnthropic]:
    s, fake = session_with(*script)
    s.tools.append(add)
    return s, fake


def tools_in(block_lists: list[Any]) -> list[dict[str, Any]]:
    return [b for blocks in block_lists for b in blocks if b["type"] == "tool"]


def ask(fe: FrontEnd, text: str = "What is 1 + 2?") -> None:
    fe.send({"type": proto.SEND, "text": text, "attachments": []})


def test_the_switch_lists_the_session_tools(widgets: list[ChatWidget]) -> None:
    s, _ = session_with()
    fe = open_widget(s, widgets)
    assert fe.widget.tool_names == [] and fe.widget.use_tools is True
    s.tools.append(add)
    s.tools.append({"type": "web_search_20250305", "name": "web_search"})
    fe.send({"type": proto.SYNC})  # what opening the settings panel sends
    assert fe.widget.tool_names == ["add", "web_search"]


def test_run_tool_round_trip(widgets: list[ChatWidget]) -> None:
    s, fake = tool_session(ToolUse("add", {"a": 1, "b": 2}, text="Let me add."), Text("1 + 2 = 3"))
    fe = open_widget(s, widgets)
    ask(fe)
    wait_for(lambda: fe.widget.approval is not None)
    approval = fe.widget.approval
    call_id = approval["id"]
    assert approval["name"] == "add"
    assert json.loads(approval["input"]) == {"a": 1, "b": 2}
    assert CALLS == []  # nothing runs before the answer
    # while waiting: the step is in the transcript, the call is running, live text restarts
    assert fe.customs(proto.STEP)
    (waiting,) = tools_in([e["blocks"] for e in fe.widget.transcript])
    assert (waiting["id"], waiting["status"]) == (call_id, "running")
    assert fe.widget.busy is True
    fe.send({"type": proto.APPROVE, "id": call_id, "allow": True})
    assert _wait_idle(fe.widget)
    assert CALLS == [(1, 2)]
    assert fe.widget.approval is None and fe.widget.error is None
    # history: the tool round is recorded; the second request answered the call
    assert [m["role"] for m in s.messages] == ["user", "assistant", "user", "assistant"]
    second = posts(fake)[1]["messages"][-1]["content"][0]
    assert (second["tool_use_id"], second["content"]) == (call_id, "3")
    # display: one reply with the call folded in, result and status from the history
    user, reply = fe.widget.transcript
    assert user["role"] == "user"
    assert [b["type"] for b in reply["blocks"]] == ["text", "tool", "text"]
    tool = reply["blocks"][1]
    assert (tool["status"], tool["result"], tool["name"]) == ("done", "3", "add")
    assert reply["blocks"][2]["text"] == "1 + 2 = 3"
    assert reply["meta"]["stop_reason"] == "end_turn"
    # live text: step 1 ("Let me add.") then, after STEP, only step 2
    kinds = [m["type"] for m in fe.customs() if m["type"] != proto.DELTA]
    assert kinds == [proto.TURN_START, proto.STEP, proto.TURN_END]
    assert fe.widget.transcript == transcript(s.messages, _metas(fe))


def _metas(fe: FrontEnd) -> dict[int, Any]:
    session = fe.widget.session
    return dict(session.history.facts(session.messages))


def test_a_view_opened_while_a_call_waits_gets_an_empty_step(widgets: list[ChatWidget]) -> None:
    s, _ = tool_session(ToolUse("add", {"a": 1, "b": 2}, text="Let me add."), Text("3"))
    fe = open_widget(s, widgets)
    ask(fe)
    wait_for(lambda: fe.widget.approval is not None)
    fe.send({"type": proto.SYNC, "transcript": True})  # the page reloaded
    live = fe.customs(proto.LIVE)[-1]
    assert (live["text"], live["step"]) == ("", True)  # the view shows no empty bubble
    assert fe.widget.approval is not None  # and the question is in the widget's state
    fe.send({"type": proto.APPROVE, "id": fe.widget.approval["id"], "allow": True})
    assert _wait_idle(fe.widget)
    assert CALLS == [(1, 2)]


def test_a_tool_round_keeps_the_bytes_linear(widgets: list[ChatWidget]) -> None:
    reply = "tok " * 300
    s, _ = tool_session(
        ToolUse("add", {"a": 1, "b": 2}, text="Adding. " * 50, rate=1000, chunk_size=4),
        Text(reply, rate=1000, chunk_size=4),
    )
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SYNC, "transcript": True})  # a view is open
    before = fe.wire_bytes()
    ask(fe)
    wait_for(lambda: fe.widget.approval is not None)
    fe.send({"type": proto.APPROVE, "id": fe.widget.approval["id"], "allow": True})
    assert _wait_idle(fe.widget)
    text = len("Adding. " * 50) + len(reply)
    # each delta carries only new text; the transcript changes once per tool event, not per delta
    assert fe.wire_bytes() - before < 6 * text + 6000
    changes = fe.customs(proto.ENTRIES)[1:]
    assert len(changes) <= 4  # turn start, the step, the result, turn end


def test_the_widget_says_where_its_approvals_wait(widgets: list[ChatWidget]) -> None:
    """The session's ``approval`` events (#14 item 2) take ``where`` from the approver, so a
    %%claude cell can say "waiting for your answer in the chat widget: get_weather"."""
    s, _ = tool_session(ToolUse("add", {"a": 1, "b": 2}), Text("3"))
    fe = open_widget(s, widgets)
    approver = fe.widget._turns.tool_options()["approve"]
    assert approver.where == "the chat widget"
    ask(fe)
    wait_for(lambda: fe.widget.approval is not None)
    s._events.emit(  # as the session will, around the approver; the widget takes it in its stride
        {"type": "approval", "id": fe.widget.approval["id"], "name": "add",
         "input": {"a": 1, "b": 2}, "where": approver.where, "waiting": True}
    )  # fmt: skip
    fe.send({"type": proto.APPROVE, "id": fe.widget.approval["id"], "allow": True})
    assert _wait_idle(fe.widget)
    assert CALLS == [(1, 2)] and fe.widget.error is None


def test_deny_tool(widgets: list[ChatWidget]) -> None:
    s, fake = tool_session(ToolUse("add", {"a": 5, "b": 5}), Text("Fine, I will not."))
    fe = open_widget(s, widgets)
    ask(fe)
    wait_for(lambda: fe.widget.approval is not None)
    fe.send({"type": proto.APPROVE, "id": fe.widget.approval["id"], "allow": False})
    assert _wait_idle(fe.widget)
    assert CALLS == []
    result = posts(fake)[1]["messages"][-1]["content"][0]
    assert result["is_error"] is True and "declined" in result["content"]
    (tool,) = tools_in([e["blocks"] for e in fe.widget.transcript])
    assert tool["status"] == "declined"
    assert fe.widget.transcript[-1]["blocks"][-1]["text"] == "Fine, I will not."


def test_one_answer_per_call_and_stale_answers_are_ignored(widgets: list[ChatWidget]) -> None:
    s, _ = tool_session(ToolUse("add", {"a": 1, "b": 1}), Text("2"))
    fe = open_widget(s, widgets)
    ask(fe)
    wait_for(lambda: fe.widget.approval is not None)
    call_id = fe.widget.approval["id"]
    fe.send({"type": proto.APPROVE, "id": "toolu_someone_else", "allow": True})
    time.sleep(0.1)
    assert fe.widget.approval is not None and CALLS == []
    fe.send({"type": proto.APPROVE, "id": call_id, "allow": True})
    fe.send({"type": proto.APPROVE, "id": call_id, "allow": False})  # a double click
    assert _wait_idle(fe.widget)
    assert CALLS == [(1, 1)]


@pytest.mark.parametrize("where", ["button", "cell"])
def test_stop_while_waiting_for_approval(widgets: list[ChatWidget], where: str) -> None:
    s, fake = tool_session(ToolUse("add", {"a": 1, "b": 2}, text="Adding."), Text("never sent"))
    fe = open_widget(s, widgets)
    ask(fe)
    wait_for(lambda: fe.widget.approval is not None)
    t0 = time.perf_counter()
    if where == "button":
        fe.send({"type": proto.STOP})
    else:
        s.stop()  # as a cell would: the session's stop event closes the prompt
    wait_for(lambda: fe.widget.approval is None and not fe.widget.busy, timeout=1.0)
    assert time.perf_counter() - t0 < 1.0
    assert _wait_idle(fe.widget, timeout=1.0)
    assert CALLS == []
    assert len(posts(fake)) == 1  # the loop ended: no further request
    assert fe.widget.approval is None and fe.widget.error is None
    assert fe.customs(proto.TURN_END)[-1]["interrupted"] is True
    # history stays valid: the call is answered, so the next turn can be sent
    assert [m["role"] for m in s.messages] == ["user", "assistant", "user"]
    answer = s.messages[2]["content"][0]
    assert answer["type"] == "tool_result" and answer["is_error"] is True
    (reply,) = [e for e in fe.widget.transcript if e["role"] == "assistant"]
    assert reply["meta"]["interrupted"] is True
    (tool,) = tools_in([reply["blocks"]])
    assert tool["status"] == "failed" and "Interrupted" in tool["result"]
    s.tools.clear()
    ask(fe, "Never mind.")
    assert _wait_idle(fe.widget)
    assert s.messages[-1] == {"role": "assistant", "content": "never sent"}


def test_a_stop_with_nothing_running_does_not_stop_the_next_turn(
    widgets: list[ChatWidget],
) -> None:
    s, _ = tool_session(ToolUse("add", {"a": 2, "b": 3}), Text("5"))
    fe = open_widget(s, widgets)
    s.stop()
    fe.send({"type": proto.STOP})
    ask(fe)
    wait_for(lambda: fe.widget.approval is not None)  # still asked, not refused
    fe.send({"type": proto.APPROVE, "id": fe.widget.approval["id"], "allow": True})
    assert _wait_idle(fe.widget)
    assert CALLS == [(2, 3)]
    assert s.messages[-1] == {"role": "assistant", "content": "5"}


def test_stop_while_a_tool_runs_asks_nothing_more(widgets: list[ChatWidget]) -> None:
    started = threading.Event()

    def slow(x: int) -> int:
        """Takes a while."""
        started.set()
        time.sleep(0.4)
        return x

    s, fake = tool_session(
        Reply([ToolUse("slow", {"x": 1}), ToolUse("add", {"a": 1, "b": 1})]), Text("never sent")
    )
    s.tools.append(slow)
    fe = open_widget(s, widgets)
    ask(fe)
    wait_for(lambda: fe.widget.approval is not None)
    fe.send({"type": proto.APPROVE, "id": fe.widget.approval["id"], "allow": True})
    assert started.wait(2.0)
    fe.send({"type": proto.STOP})  # a running function cannot be interrupted; what follows is
    assert _wait_idle(fe.widget, timeout=2.0)
    assert CALLS == [] and len(fe.updates("approval")) == 2  # add was never asked about
    assert len(posts(fake)) == 1
    assert fe.customs(proto.TURN_END)[-1]["interrupted"] is True
    first, second = tools_in([e["blocks"] for e in fe.widget.transcript])
    assert (first["status"], first["result"]) == ("done", "1")
    assert second["status"] == "failed" and "Interrupted" in second["result"]


def test_always_allow_in_this_chat(widgets: list[ChatWidget]) -> None:
    s, _ = tool_session(
        ToolUse("add", {"a": 1, "b": 2}),
        ToolUse("add", {"a": 3, "b": 4}),
        Text("3 and 7"),
        ToolUse("add", {"a": 5, "b": 6}),
        Text("11"),
    )
    fe = open_widget(s, widgets)
    ask(fe)
    wait_for(lambda: fe.widget.approval is not None)
    fe.send({"type": proto.APPROVE, "id": fe.widget.approval["id"], "allow": True, "always": True})
    assert _wait_idle(fe.widget)
    assert CALLS == [(1, 2), (3, 4)]  # the second call was not asked about
    assert len(fe.updates("approval")) == 2  # shown once, cleared once
    fe.send({"type": proto.CLEAR})  # a new chat asks again
    ask(fe, "And 5 + 6?")
    wait_for(lambda: fe.widget.approval is not None)
    fe.send({"type": proto.APPROVE, "id": fe.widget.approval["id"], "allow": True})
    assert _wait_idle(fe.widget)
    assert CALLS[-1] == (5, 6)


def test_switch_off_keeps_claude_from_calling_tools(widgets: list[ChatWidget]) -> None:
    s, fake = tool_session(Text("ok"))
    fe = open_widget(s, widgets)
    fe.set(use_tools=False)
    ask(fe)
    assert _wait_idle(fe.widget)
    # no tool calls in the history: the turn sends no tools at all
    assert "tools" not in posts(fake)[-1] and "tool_choice" not in posts(fake)[-1]
    # and the offline default reply, which calls a tool when it may, does not
    ask(fe, "again")
    assert _wait_idle(fe.widget)
    assert fe.widget.approval is None and CALLS == []
    assert "tool_use" not in json.dumps(s.messages)
    assert "tools" not in posts(fake)[-1]
    # switched on again, the tools are offered and calls are asked about
    fe.set(use_tools=True)
    ask(fe, "and now?")
    wait_for(lambda: fe.widget.approval is not None)
    assert [t["name"] for t in posts(fake)[-1]["tools"]] == ["add"]
    assert "tool_choice" not in posts(fake)[-1]
    fe.send({"type": proto.APPROVE, "id": fe.widget.approval["id"], "allow": False})
    assert _wait_idle(fe.widget)


def test_switch_off_after_tool_calls_sends_them_uncallable(widgets: list[ChatWidget]) -> None:
    s, fake = tool_session(ToolUse("add", {"a": 1, "b": 2}), Text("3"), Text("ok"))
    fe = open_widget(s, widgets)
    ask(fe)
    wait_for(lambda: fe.widget.approval is not None)
    fe.send({"type": proto.APPROVE, "id": fe.widget.approval["id"], "allow": True})
    assert _wait_idle(fe.widget)
    fe.set(use_tools=False)
    ask(fe, "thanks")
    assert _wait_idle(fe.widget)
    # the history holds a tool call, so the API needs the definitions: sent, not callable
    body = posts(fake)[-1]
    assert [t["name"] for t in body["tools"]] == ["add"]
    assert body["tool_choice"] == {"type": "none"}
    assert s.messages[-1] == {"role": "assistant", "content": "ok"}


def test_tool_calls_from_session_send_are_shown(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(ToolUse("add", {"a": 2, "b": 2}, text="Adding."), Text("4"))
    fe = open_widget(s, widgets)
    seen: list[dict[str, Any]] = []
    # as %%claude does: in the kernel's thread, asked (here: auto-approved) outside the widget
    s.subscribe(
        lambda e: (
            seen.append(dict(fe.widget.transcript[-1])) if e["type"] == "tool_result" else None
        )
    )
    s.send("2 + 2?", tools=[add], auto_approve=True)
    assert fe.widget.approval is None and fe.updates("approval") == []
    assert fe.customs(proto.STEP)
    (live_tool,) = tools_in([seen[0]["blocks"]])  # shown with its result before it is recorded
    (tool,) = tools_in([e["blocks"] for e in fe.widget.transcript])
    assert live_tool == tool
    assert (tool["name"], tool["status"], tool["result"]) == ("add", "done", "4")
    assert json.loads(tool["input"]) == {"a": 2, "b": 2}


def test_only_the_widget_that_started_the_turn_asks(widgets: list[ChatWidget]) -> None:
    s, _ = tool_session(ToolUse("add", {"a": 1, "b": 2}), Text("3"))
    a = open_widget(s, widgets)
    b = open_widget(s, widgets)
    ask(a)
    wait_for(lambda: a.widget.approval is not None)
    assert b.widget.approval is None
    assert tools_in([e["blocks"] for e in b.widget.transcript])[0]["status"] == "running"
    b.send({"type": proto.STOP})  # Stop in any widget on the session ends the wait
    assert _wait_idle(a.widget, timeout=2.0)
    assert not s.busy and CALLS == []
    assert a.widget.approval is None


def test_tool_errors_never_crash_the_widget(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(
        Reply([ToolUse("broken", {"x": 7}), ToolUse("nope", {})]), Text("That failed.")
    )
    s.tools.append(broken)
    fe = open_widget(s, widgets)
    ask(fe)
    wait_for(lambda: fe.widget.approval is not None)
    fe.send({"type": proto.APPROVE, "id": fe.widget.approval["id"], "allow": True})
    assert _wait_idle(fe.widget)
    assert fe.widget.error is None
    first, second = tools_in([e["blocks"] for e in fe.widget.transcript])
    assert (first["status"], first["result"]) == ("failed", "ValueError: no luck with 7")
    assert second["status"] == "failed" and "not available" in second["result"]
    assert fe.widget.transcript[-1]["blocks"][-1]["text"] == "That failed."


def test_closing_the_widget_ends_a_turn_waiting_for_it(widgets: list[ChatWidget]) -> None:
    s, _ = tool_session(ToolUse("add", {"a": 1, "b": 2}), Text("3"))
    fe = open_widget(s, widgets)
    ask(fe)
    wait_for(lambda: fe.widget.approval is not None)
    fe.widget.close()
    wait_for(lambda: not s.busy, timeout=2.0)
    assert CALLS == []
    assert [m["role"] for m in s.messages] == ["user", "assistant", "user"]


def test_a_new_widget_rebuilds_tool_calls_and_thinking(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(
        Reply([Thinking("I should add."), ToolUse("add", {"a": 20, "b": 22})]),
        Text("42"),
        thinking=1024,
        max_tokens=2048,
    )
    s.send("20 + 22?", tools=[add], auto_approve=True)
    fe = open_widget(s, widgets)
    _user, reply = fe.widget.transcript
    assert [b["type"] for b in reply["blocks"]] == ["thinking", "tool", "text"]
    assert reply["blocks"][0]["text"] == "I should add."
    assert (reply["blocks"][1]["status"], reply["blocks"][1]["result"]) == ("done", "42")
    # a saved and loaded session (plain dicts) shows the same
    loaded = nbclaude.Session()
    loaded.messages = json.loads(json.dumps(s.messages))
    other = open_widget(loaded, widgets)
    assert [e["blocks"] for e in other.widget.transcript] == [
        e["blocks"] for e in fe.widget.transcript
    ]


# -- nothing the user made is lost (issue #12 item 4) ----------------------------------------------


def test_a_failed_turn_puts_the_text_back(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(HTTPError(529), HTTPError(529), Text("Back."))
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SEND, "text": "Are you there?", "attachments": []})
    assert _wait_idle(fe.widget)
    assert fe.widget.error is not None and "overloaded" in fe.widget.error["message"]
    assert s.messages == []
    assert fe.customs(proto.DRAFT) == [{"type": proto.DRAFT, "text": "Are you there?"}]
    fe.send({"type": proto.DISMISS})
    assert fe.widget.error is None
    assert len(fe.customs(proto.DRAFT)) == 1  # Dismiss takes nothing away
    # a Retry that fails again gives the text back again
    fe.send({"type": proto.RETRY})
    assert _wait_idle(fe.widget)
    assert fe.customs(proto.DRAFT)[-1] == {"type": proto.DRAFT, "text": "Are you there?"}


def test_a_mid_stream_error_keeps_what_streamed_marked_with_the_error(
    widgets: list[ChatWidget],
) -> None:
    s, _ = session_with(StreamErrorEvent(after=6, reply=Text("one two three four five six seven")))
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SYNC, "transcript": True})
    fe.send({"type": proto.SEND, "text": "Count", "attachments": []})
    assert _wait_idle(fe.widget)
    streamed = "".join(d.get("text", "") for d in fe.customs(proto.DELTA))
    assert streamed.startswith("one two")
    kinds = [m["type"] for m in fe.customs() if m["type"] != proto.DELTA]
    # the view hears that the reply failed (and why) before the rolled-back transcript comes
    end = kinds.index(proto.TURN_END)
    assert proto.ENTRIES in kinds[end + 1 :]
    (ended,) = fe.customs(proto.TURN_END)
    assert ended["interrupted"] is True
    assert ended["error"] == fe.widget.error["message"]
    assert fe.customs(proto.DRAFT) == [{"type": proto.DRAFT, "text": "Count"}]
    assert s.messages == []  # the history rule: a failed turn is rolled back


# -- money and waiting (issue #14 items 1 and 3) ---------------------------------------------------


def test_a_stopped_reply_estimates_its_tokens(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(Text("slow words " * 200, rate=50))
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SEND, "text": "go", "attachments": []})
    wait_for(lambda: len("".join(d.get("text", "") for d in fe.customs(proto.DELTA))) > 40)
    fe.send({"type": proto.STOP})
    assert _wait_idle(fe.widget)
    meta = fe.widget.transcript[1]["meta"]
    kept = s.messages[1]["content"]
    # the API never said how many tokens a stopped reply had (its usage still says 1)
    assert meta["interrupted"] is True and meta["estimated"] is True
    assert meta["output_tokens"] == -(-len(kept) // 4) > 1


def test_a_finished_reply_has_its_real_token_count(widgets: list[ChatWidget]) -> None:
    s, _ = session_with(Text("Four words, no more."))
    fe = open_widget(s, widgets)
    s.send("hi")
    meta = fe.widget.transcript[1]["meta"]
    assert "estimated" not in meta
    assert meta["output_tokens"] == s.history.facts(s.messages)[id(s.messages[1])]["output_tokens"]


def test_the_budget_shows_when_the_session_has_one(widgets: list[ChatWidget]) -> None:
    s, _ = session_with()
    fe = open_widget(s, widgets)
    assert fe.widget.budget is None
    s.budget = 2.0  # type: ignore[attr-defined]  # Session(budget=...) comes with #14 item 1
    s.model = "claude-haiku-4-5"  # any change refreshes the widget
    fe.send({"type": proto.SYNC})
    assert fe.widget.budget == 2.0


def test_retry_waits_show_in_the_widget(widgets: list[ChatWidget]) -> None:
    s, _ = session_with()
    fe = open_widget(s, widgets)
    retry = {
        "type": "retry",
        "status": 429,
        "reason": "Rate limited",
        "attempt": 2,
        "attempts": 3,
        "wait": 4.0,
    }
    s._events.emit(retry)  # type: ignore[arg-type]  # as the client's retry loop will
    (shown,) = fe.customs(proto.RETRY_WAIT)
    assert shown == {**retry, "type": proto.RETRY_WAIT}
    # the session's own event (main's events.Retry) also has the line to show; reason as given
    s._events.emit({**retry, "reason": "Rate limited (429)", "text": "Rate limited (429) — …"})  # type: ignore[arg-type]
    assert fe.customs(proto.RETRY_WAIT)[-1]["reason"] == "Rate limited (429)"
    s._events.emit({"type": "retry", "status": None, "attempt": 3, "attempts": 3, "wait": 1})  # type: ignore[arg-type, typeddict-item]
    assert fe.customs(proto.RETRY_WAIT)[-1] == {
        "type": proto.RETRY_WAIT,
        "status": None,
        "reason": "Connection problem",
        "attempt": 3,
        "attempts": 3,
        "wait": 1.0,
    }

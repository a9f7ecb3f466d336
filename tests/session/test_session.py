"""Session and Reply against the fake API: request bodies, history rules, threads, events."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY

import nbclaude
from nbclaude import Client, Session
from nbclaude.testing import (
    Cut,
    FakeAnthropic,
    HTTPError,
    Message,
    StreamErrorEvent,
    Text,
    Thinking,
)


def make(
    *script: Any, model: str = "claude-haiku-4-5", **kwargs: Any
) -> tuple[Session, FakeAnthropic]:
    fake = FakeAnthropic(list(script), api_key=KEY)
    client = Client(api_key=KEY, transport=fake, max_retries=0)
    return Session(model=model, client=client, **kwargs), fake


# -- the guide's examples produce exactly the documented request bodies -------------------------


def test_guide_basic_request_over_loopback() -> None:
    fake = FakeAnthropic([Text("Hello!")], api_key=KEY)
    with fake.serve(port=0) as srv:
        s = Session(model="claude-sonnet-5-5", client=Client(api_key=KEY, base_url=srv.url))
        reply = s.send("Hello, Claude")
    assert fake.requests[0].json == {
        "model": "claude-sonnet-5-5",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "Hello, Claude"}],
        "stream": True,
    }
    assert reply.text == "Hello!"
    assert reply.id.startswith("msg_") and reply.request_id.startswith("req_")
    assert reply.stop_reason == "end_turn" and reply.usage["output_tokens"] > 0


def test_guide_multi_turn_with_a_synthetic_assistant_turn() -> None:
    s, fake = make(Text("LLMs are ..."), model="claude-sonnet-5-5")
    s.messages += [
        {"role": "user", "content": "Hello, Claude"},
        {"role": "assistant", "content": "Hello!"},
    ]
    s.send("Can you describe LLMs to me?")
    assert fake.requests[0].json == {
        "model": "claude-sonnet-5-5",
        "max_tokens": 1024,
        "messages": [
            {"role": "user", "content": "Hello, Claude"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Can you describe LLMs to me?"},
        ],
        "stream": True,
    }
    assert s.messages[-1] == {"role": "assistant", "content": "LLMs are ..."}


def test_guide_prefill_multiple_choice() -> None:
    s, fake = make(Text("C"))
    question = "What is latin for Ant? (A) Apoidea, (B) Rhopalocera, (C) Formicidae"
    reply = s.send(question, prefill="The answer is (", max_tokens=1)
    assert fake.requests[0].json == {
        "model": "claude-haiku-4-5",
        "max_tokens": 1,
        "messages": [
            {"role": "user", "content": question},
            {"role": "assistant", "content": "The answer is ("},
        ],
        "stream": True,
    }
    assert reply.text == "C" and reply.prefill == "The answer is ("
    assert s.messages[-1] == {"role": "assistant", "content": "The answer is (C"}
    assert s.max_tokens == 1024  # a per-turn value does not stick


def test_prefill_trailing_whitespace_is_stripped() -> None:
    s, fake = make(Text("C"))
    s.send("Q?", prefill="The answer is (  \n")
    assert fake.requests[0].json["messages"][-1]["content"] == "The answer is ("


def test_offline_default_reply_answers_the_prefill_example() -> None:
    s, _fake = make()
    reply = s.send(
        "What is latin for Ant? (A) Apoidea, (B) Rhopalocera, (C) Formicidae",
        prefill="The answer is (",
        max_tokens=1,
    )
    assert reply.stop_reason == "max_tokens"
    assert len(reply.text) <= 3 and s.messages[-1]["content"].startswith("The answer is (")


@pytest.mark.parametrize(
    "model", ["claude-sonnet-5-5", "claude-opus-4-6", "claude-sonnet-4-6", "claude-fable-5"]
)
def test_prefill_refused_before_sending_on_models_without_it(model: str) -> None:
    s, fake = make(model=model)
    s.messages.append({"role": "user", "content": "earlier"})
    before = list(s.messages)
    with pytest.raises(nbclaude.InvalidRequestError) as info:
        s.send("Q?", prefill="The answer is (")
    text = str(info.value)
    assert model in text and "system prompt" in text and "claude-haiku-4-5" in text
    assert fake.requests == [] and s.messages == before and not s.busy


def test_prefill_check_uses_models_data_for_unknown_ids() -> None:
    s, fake = make(Text("x"), model="claude-brandnew-9")
    s._models = [
        {
            "type": "model",
            "id": "claude-brandnew-9",
            "display_name": "New",
            "created_at": "2026-10-01T00:00:00Z",
        }
    ]
    with pytest.raises(nbclaude.InvalidRequestError):
        s.send("Q", prefill="A:")
    assert fake.requests == []


# -- settings and parameters ----------------------------------------------------------------


def test_only_fields_the_user_set_are_sent_and_per_turn_overrides() -> None:
    s, fake = make(Text("a"), Text("b"), system="Be brief.", temperature=0.2)
    s.send("one")
    s.send(
        "two", temperature=0.9, system="Be long.", max_tokens=50, model="claude-haiku-4-5-20251001"
    )
    first, second = (r.json for r in fake.requests)
    assert set(first) == {"model", "max_tokens", "messages", "system", "temperature", "stream"}
    assert first["system"] == "Be brief." and first["temperature"] == 0.2
    assert (second["temperature"], second["system"], second["max_tokens"], second["model"]) == (
        0.9,
        "Be long.",
        50,
        "claude-haiku-4-5-20251001",
    )
    assert "top_p" not in second and "top_k" not in second


def test_default_model_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Session().model == "claude-sonnet-5-5"
    monkeypatch.setenv("NBCLAUDE_MODEL", "claude-haiku-4-5")
    assert Session().model == "claude-haiku-4-5"


def test_reserved_params_and_bad_max_tokens_are_refused() -> None:
    with pytest.raises(TypeError):
        Session(messages=[])
    with pytest.raises(ValueError, match="max_tokens"):
        Session(max_tokens=-1)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-haiku-4-5", {"type": "enabled", "budget_tokens": 2048}),
        ("claude-sonnet-5-5", {"type": "adaptive"}),
    ],
)
def test_thinking_budget_translates_per_model(model: str, expected: dict[str, Any]) -> None:
    s, fake = make(Thinking("hmm", "Answer."), model=model)
    reply = s.send("Think", thinking=2048)
    body = fake.requests[0].json
    assert body["thinking"] == expected
    if expected["type"] == "enabled":
        assert body["max_tokens"] > 2048
    assert reply.thinking == "hmm" and reply.text == "Answer."


# -- history rules --------------------------------------------------------------------------


def test_failed_request_leaves_no_dangling_user_turn() -> None:
    s, _fake = make(Text("ok"), HTTPError(400, message="messages: nope"))
    s.send("first")
    before = list(s.messages)
    events: list[str] = []
    s.subscribe(lambda e: events.append(e["type"]))
    with pytest.raises(nbclaude.BadRequestError):
        s.send("second")
    assert s.messages == before
    assert events == ["turn_start", "error"]
    assert not s.busy


@pytest.mark.parametrize(
    "item",
    [
        StreamErrorEvent(after=2, reply=Text("partial text here", chunk_size=3)),
        Cut(after=2, reply=Text("partial text here", chunk_size=3)),
    ],
)
def test_broken_stream_is_a_failure_and_rolls_back(item: Any) -> None:
    s, _fake = make(item)
    with pytest.raises(nbclaude.StreamError) as info:
        s.send("hi")
    assert s.messages == []
    assert info.value.partial["content"][0]["text"] == "partial"[:6]
    assert s.usage["output_tokens"] == 0


def test_missing_key_fails_at_send_with_history_intact() -> None:
    s = Session(client=Client(transport=FakeAnthropic()))
    with pytest.raises(nbclaude.MissingAPIKeyError):
        s.send("hi")
    assert s.messages == [] and not s.busy


def test_blank_text_blocks_are_never_sent_back() -> None:
    msg = {
        "content": [
            {"type": "text", "text": ""},
            {"type": "text", "text": " "},
            {"type": "text", "text": "Hi", "citations": None},
        ],
        "stop_reason": "end_turn",
    }
    s, fake = make(Message(msg), Text("again"))
    s.send("one")
    assert s.messages[-1]["content"] == "Hi"
    s.messages.append(
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "  "}, {"type": "text", "text": "x"}],
        }
    )
    s.send("two")
    sent = fake.requests[1].json["messages"]
    blocks = [b for m in sent if isinstance(m["content"], list) for b in m["content"]]
    assert all(b.get("text", "x").strip() for b in blocks)


def test_thinking_blocks_kept_verbatim_with_signatures() -> None:
    s, fake = make(Thinking("step by step", "42", signature="c2lnbmF0dXJl"), Text("more"))
    s.send("q", thinking=1024)
    kept = s.messages[-1]["content"]
    assert kept[0] == {"type": "thinking", "thinking": "step by step", "signature": "c2lnbmF0dXJl"}
    s.send("again", thinking=1024)
    assert fake.requests[1].json["messages"][1]["content"][0] == kept[0]


def test_empty_reply_is_returned_but_not_recorded() -> None:
    refusal = {"content": [{"type": "text", "text": ""}], "stop_reason": "refusal"}
    s, _fake = make(Message(refusal))
    reply = s.send("something")
    assert reply.stop_reason == "refusal" and reply.text == ""
    assert s.messages == []


def test_record_false_records_nothing() -> None:
    s, fake = make(Text("a"), Text("b"))
    s.send("kept")
    reply = s.send("not kept", record=False)
    assert reply.text == "b" and len(s.messages) == 2
    assert fake.requests[1].json["messages"][-1]["content"] == "not kept"


# -- stopping ----------------------------------------------------------------------------------


def slow(text: str = "word " * 200) -> Text:
    return Text(text, chunk_size=5, delay=0.02)


def test_stop_from_another_thread_keeps_the_partial_reply_marked() -> None:
    s, _fake = make(slow())
    ends: list[Any] = []
    s.subscribe(lambda e: ends.append(e) if e["type"] == "turn_end" else None)
    threading.Timer(0.3, s.stop).start()
    t = time.perf_counter()
    reply = s.send("long story please")
    assert time.perf_counter() - t < 1.5
    assert reply.interrupted and reply.stop_reason is None
    assert reply.text.startswith("word") and len(reply.text) < 1000
    assert s.messages[0] == {"role": "user", "content": "long story please"}
    assert s.messages[1] == {"role": "assistant", "content": reply.text}
    assert ends[0]["recorded"] is True and ends[0]["reply"] is reply
    assert "interrupted" in reply.footer()


def test_leaving_a_stream_early_is_an_interruption() -> None:
    s, _fake = make(slow())
    with s.stream("go") as st:
        for i, _ in enumerate(st):
            if i == 3:
                break
    assert st.reply is not None and st.reply.interrupted
    assert s.messages[-1]["content"] == st.reply.text and not s.busy


def test_exception_in_the_loop_body_is_an_interruption() -> None:
    s, _fake = make(slow())
    with pytest.raises(KeyboardInterrupt), s.stream("go") as st:
        for _ in st:
            raise KeyboardInterrupt
    assert st.reply is not None and st.reply.interrupted
    assert [m["role"] for m in s.messages] == ["user", "assistant"]


def test_stop_before_any_text_rolls_the_turn_back_at_once() -> None:
    s, _fake = make(Text("late", latency=3), Text("next"))
    ended = threading.Event()
    ends: list[dict[str, Any]] = []
    s.subscribe(lambda e: (ends.append(e), ended.set()) if e["type"] == "turn_end" else None)
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(s.send("hi")))
    worker.start()
    time.sleep(0.2)
    t = time.perf_counter()
    s.stop()
    assert ended.wait(1.0) and time.perf_counter() - t < 1.0
    assert ends[0]["recorded"] is False and s.messages == [] and not s.busy
    worker.join(10)
    reply = result[0]
    assert reply.interrupted and reply.text == "" and s.messages == []
    assert s.send("again").text == "next"  # the session is free again


# -- threads -----------------------------------------------------------------------------------


def test_concurrent_sends_are_serialised_never_interleaved() -> None:
    s, fake = make(
        Text("A " * 20, chunk_size=2, delay=0.005), Text("B " * 20, chunk_size=2, delay=0.005)
    )
    errors: list[BaseException] = []

    def run(prompt: str) -> None:
        try:
            s.send(prompt)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(p,)) for p in ("first", "second")]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    assert not errors
    roles = [m["role"] for m in s.messages]
    assert roles == ["user", "assistant", "user", "assistant"]
    # the second request saw the whole first exchange
    assert len(fake.requests[1].json["messages"]) == 3


def test_a_callback_cannot_send_reentrantly() -> None:
    s, fake = make(Text("a"), Text("b"))
    problems: list[BaseException] = []

    def on_event(e: dict[str, Any]) -> None:
        if e["type"] == "turn_start":
            try:
                s.send("nested")
            except nbclaude.InvalidRequestError as exc:
                problems.append(exc)

    s.subscribe(on_event)
    s.send("outer")
    assert len(problems) == 1 and len(fake.requests) == 1


# -- events, usage, cost ----------------------------------------------------------------------


def test_events_in_order_and_a_failing_callback_does_not_break_the_turn() -> None:
    s, _fake = make(Text("one two three", chunk_size=4))
    events: list[dict[str, Any]] = []
    s.subscribe(lambda e: 1 / 0)
    s.subscribe(events.append)
    reply = s.send("count")
    types = [e["type"] for e in events]
    assert types[0] == "turn_start" and types[-1] == "turn_end"
    assert "".join(e["text"] for e in events if e["type"] == "delta") == "one two three"
    assert events[0]["index"] == 0 and events[0]["message"] == {"role": "user", "content": "count"}
    assert events[-1]["reply"] is reply


def test_usage_and_cost_add_up() -> None:
    usage = {"input_tokens": 1000, "output_tokens": 200, "cache_read_input_tokens": 500}
    s, _fake = make(Text("a", usage=usage), Text("b", usage=usage))
    r = s.send("x")
    s.send("y")
    assert s.usage == {
        "input_tokens": 2000,
        "output_tokens": 400,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 1000,
    }
    assert r.cost == pytest.approx((1000 * 1 + 200 * 5 + 500 * 0.1) / 1e6)
    assert s.cost == pytest.approx(2 * r.cost)


def test_cost_is_none_for_an_unknown_model() -> None:
    fake = FakeAnthropic([Text("a")], api_key=KEY, models=["claude-mystery-1"])
    s = Session(model="claude-mystery-1", client=Client(api_key=KEY, transport=fake))
    assert s.send("x").cost is None and s.cost is None


# -- undo, reset, save, load, markdown ---------------------------------------------------------


def test_undo_and_reset() -> None:
    s, _fake = make(Text("a"), Text("b"))
    events: list[str] = []
    s.subscribe(lambda e: events.append(e["type"]))
    s.send("one")
    s.send("two")
    s.undo()
    assert [m["content"] for m in s.messages] == ["one", "a"]
    s.reset()
    assert s.messages == [] and s.usage["output_tokens"] == 0 and s.cost == 0
    assert events[-2:] == ["undo", "reset"]


def test_save_load_round_trip_never_saves_the_key(tmp_path: Path) -> None:
    from PIL import Image

    s, _fake = make(Text("A red square."), system="Be brief.", temperature=0.5)
    s.send("What is this?", Image.new("RGB", (40, 30), "red"))
    path = tmp_path / "chat.json"
    s.save(path)
    text = path.read_text()
    assert KEY not in text
    data = json.loads(text)
    assert data["format"] == "nbclaude.session" and data["version"] == 1
    loaded = Session.load(path)
    assert loaded.messages == s.messages
    assert (loaded.model, loaded.system, loaded.params, loaded.usage) == (
        s.model,
        s.system,
        s.params,
        s.usage,
    )
    assert loaded.cost == s.cost


def test_load_refuses_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}')
    with pytest.raises(nbclaude.InvalidRequestError, match="not a saved"):
        Session.load(bad)
    bad.write_text(json.dumps({"format": "nbclaude.session", "version": 99}))
    with pytest.raises(nbclaude.InvalidRequestError, match="newer"):
        Session.load(bad)


def test_to_markdown() -> None:
    s, _fake = make(Text("Hello!"))
    s.send(
        "Hi",
        nbclaude.image(
            b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
        ),
    )
    md = s.to_markdown()
    assert (
        md.startswith("**You:** Hi") and "*[image: image/gif]*" in md and "**Claude:** Hello!" in md
    )


# -- images and guard rails --------------------------------------------------------------------


def test_bad_images_fail_early_with_history_untouched(tmp_path: Path) -> None:
    s, fake = make(Text("a"))
    s.send("first")
    before = list(s.messages)
    for bad in [tmp_path / "missing.png", tmp_path, b"", b"not an image at all"]:
        with pytest.raises(nbclaude.ImageError):
            s.send("look", bad)
    assert s.messages == before and len(fake.requests) == 1 and not s.busy


def test_too_many_images_refused_before_sending() -> None:
    from PIL import Image

    s, fake = make(Text("a"))
    img = nbclaude.image(Image.new("RGB", (8, 8)))
    with pytest.raises(nbclaude.InvalidRequestError, match="100"):
        s.send("many", *[img] * 101)
    assert fake.requests == [] and s.messages == []


def test_many_big_images_are_downscaled_in_the_request_and_the_history() -> None:
    from PIL import Image

    s, fake = make(Text("ok"), Text("ok"))
    big = nbclaude.image(
        Image.new("RGB", (2400, 1200), "blue"), max_edge=2400, max_pixels=3_000_000
    )
    s.send("one big", big)
    s.send("now many", *[nbclaude.image(Image.new("RGB", (16, 16)))] * 21)
    from nbclaude._content.images import image_info

    sent = fake.requests[1].json["messages"][0]["content"]
    first = next(b for b in sent if b["type"] == "image")
    info = image_info(first)
    assert info is not None and max(info.width, info.height) <= 2000
    kept = next(b for b in s.messages[0]["content"] if b["type"] == "image")
    assert max(image_info(kept).width, image_info(kept).height) <= 2000


# -- defaults and offline ----------------------------------------------------------------------


def test_get_session_is_shared_and_offline_mode_needs_no_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import nbclaude._session.shared as mod

    monkeypatch.setattr(mod, "_default", None)
    monkeypatch.setenv("NBCLAUDE_OFFLINE", "1")
    s = nbclaude.get_session()
    assert s is nbclaude.get_session()
    reply = s.send("Hello, Claude")
    assert "offline" in reply.text.lower()
    assert s.backend == "offline fake"


def test_no_silent_fallback_without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    s = Session()
    with pytest.raises(nbclaude.MissingAPIKeyError) as info:
        s.send("hi")
    assert "NBCLAUDE_OFFLINE" in str(info.value)


def test_reply_renders_safely() -> None:
    s, _fake = make(
        Text("<img src=x onerror=alert(1)> **bold** ![x](https://evil.example/leak.png)")
    )
    bundle = s.send("x")._repr_mimebundle_()
    body, footer = bundle["text/markdown"].split("<sub>")
    assert "<img" not in body  # the model's HTML is shown as text
    assert "![" not in body  # the remote image became a link
    assert "https://evil.example/leak.png" in body
    assert "claude-haiku-4-5" in footer


# -- prompt caching and token counting (issue 7) -------------------------------------------------


def _marks(body: dict[str, Any]) -> list[str]:
    found = []
    if isinstance(body.get("system"), list) and "cache_control" in body["system"][-1]:
        found.append("system")
    for i, m in enumerate(body["messages"]):
        if isinstance(m["content"], list) and any("cache_control" in b for b in m["content"]):
            found.append(f"{m['role']}{i}")
    return found


def test_cache_places_breakpoints_on_system_and_the_last_two_user_turns() -> None:
    s, fake = make(Text("a"), Text("b"), Text("c"), system="Long shared instructions.", cache=True)
    s.send("one")
    s.send("two")
    s.send("three")
    bodies = [r.json for r in fake.requests]
    assert _marks(bodies[0]) == ["system", "user0"]
    assert _marks(bodies[2]) == ["system", "user2", "user4"]
    assert bodies[2]["system"] == [
        {
            "type": "text",
            "text": "Long shared instructions.",
            "cache_control": {"type": "ephemeral"},
        }
    ]
    # the history itself is untouched
    assert (
        s.messages[0] == {"role": "user", "content": "one"}
        and s.system == "Long shared instructions."
    )


def test_cache_never_exceeds_four_breakpoints() -> None:
    mine = {"type": "text", "text": "ctx", "cache_control": {"type": "ephemeral"}}
    s, fake = make(Text("a"), system=[dict(mine)], cache=True)
    s.messages += [
        {"role": "user", "content": [dict(mine)]},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": [dict(mine)]},
        {"role": "assistant", "content": "ok"},
    ]
    s.send("new turn")
    body = fake.requests[0].json
    assert json.dumps(body).count("cache_control") == 4


def test_cache_reads_and_writes_are_counted_and_priced() -> None:
    usage = {
        "input_tokens": 10,
        "output_tokens": 10,
        "cache_creation_input_tokens": 1000,
        "cache_read_input_tokens": 0,
    }
    usage2 = {**usage, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1000}
    s, _fake = make(Text("a", usage=usage), Text("b", usage=usage2), cache=True)
    first = s.send("one")
    second = s.send("two")
    assert (
        s.usage["cache_creation_input_tokens"] == 1000
        and s.usage["cache_read_input_tokens"] == 1000
    )
    assert first.cost == pytest.approx((10 + 1000 * 1.25 + 10 * 5) / 1e6)
    assert second.cost == pytest.approx((10 + 1000 * 0.1 + 10 * 5) / 1e6)
    assert "1,000 cached" in second.footer()


def test_cache_setting_survives_save_and_load(tmp_path: Path) -> None:
    s, _ = make(cache=True)
    s.save(tmp_path / "c.json")
    assert Session.load(tmp_path / "c.json").cache is True


def test_count_tokens_counts_what_send_would_send() -> None:
    s, fake = make(Text("a"), system="Be brief.", temperature=0.5)
    s.send("hello")
    n = s.count_tokens("and one more question")
    body = fake.requests[-1].json
    assert fake.requests[-1].path == "/v1/messages/count_tokens"
    assert body["system"] == "Be brief." and len(body["messages"]) == 3
    assert "max_tokens" not in body and "temperature" not in body and "stream" not in body
    assert n > s.count_tokens() > 0
    assert len(s.messages) == 2  # nothing recorded


def test_count_tokens_on_an_empty_conversation() -> None:
    s, _ = make()
    with pytest.raises(nbclaude.InvalidRequestError, match="empty"):
        s.count_tokens()

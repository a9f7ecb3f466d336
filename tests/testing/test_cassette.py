"""Record and replay (issue #13 item 6): record over the loopback fake through real HTTP, replay
in a fresh process with no key and no network; the match key; safe appends; streams replayed
like live ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from nbclaude import Client, NotFoundError, Session, StreamError
from nbclaude._api.accumulate import accumulate
from nbclaude._api.sse import iter_sse
from nbclaude.testing import (
    MARKER,
    REPLAY_HEADER,
    Cassette,
    Cut,
    FakeAnthropic,
    RecordingTransport,
    ReplayTransport,
    Text,
    ToolUse,
    is_replayed,
    load_cassette,
    match_key,
)

KEY = "sk-ant-test-recording-key-0123456789"
BODY: dict[str, Any] = {
    "model": "claude-haiku-4-5",
    "max_tokens": 200,
    "messages": [{"role": "user", "content": "What is a photon?"}],
}


def record(path: Path, *script: Any, stream: bool = True, body: dict[str, Any] = BODY) -> Any:
    """One exchange recorded over loopback HTTP (an httpx.HTTPTransport inside)."""
    fake = FakeAnthropic(list(script))
    with fake.serve() as server:
        client = Client(
            api_key=KEY,
            base_url=server.url,
            transport=RecordingTransport(httpx.HTTPTransport(), path),
            max_retries=0,
        )
        if stream:
            with client.stream(**body) as st:
                "".join(st.text_stream)
                return st.get_final_message()
        return client.create(**body)


# -- the match key ---------------------------------------------------------------------------


def test_the_match_key_reads_what_decides_the_answer() -> None:
    key = match_key(BODY)
    same = [
        {**BODY, "stream": True, "temperature": 0.3, "metadata": {"user_id": "u"}},
        {**BODY, "model": "claude-haiku-4-5-20251001"},
        {**BODY, "messages": [{"role": "user", "content": [{"type": "text", "text": "What is a photon?"}]}]},
        {**BODY, "messages": [{"role": "user", "content": [{"type": "text", "text": "What is a photon?",
                                                             "cache_control": {"type": "ephemeral"}}]}]},
        {**BODY, "cache_control": {"type": "ephemeral"}},
    ]  # fmt: skip
    for body in same:
        assert match_key(body) == key, body
    different = [
        {**BODY, "model": "claude-sonnet-5-5"},
        {**BODY, "system": "Be brief."},
        {**BODY, "max_tokens": 100},
        {**BODY, "messages": [{"role": "user", "content": "What is an electron?"}]},
        {**BODY, "tools": [{"name": "t", "input_schema": {"type": "object"}}]},
        {**BODY, "tool_choice": {"type": "auto"}},
        {**BODY, "thinking": {"type": "enabled", "budget_tokens": 1024}},
        {**BODY, "output_config": {"effort": "low"}},
        {**BODY, "stop_sequences": ["."]},
    ]
    assert len({match_key(b) for b in different} | {key}) == len(different) + 1
    assert match_key({**BODY, "system": "S"}) == match_key(
        {**BODY, "system": [{"type": "text", "text": "S"}]}
    )


# -- recording -------------------------------------------------------------------------------


def test_recording_a_stream_and_a_json_reply(tmp_path: Path) -> None:
    path = tmp_path / "lesson.jsonl"
    streamed = record(path, Text("A photon is a quantum of light."))
    plain = record(path, ToolUse("lookup", {"q": "photon"}), stream=False)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 2
    assert lines[0]["message"] == streamed and lines[1]["message"] == plain
    assert lines[0]["request"]["stream"] is True and "stream" not in lines[1]["request"]
    assert lines[0]["key"] == lines[1]["key"] == match_key(BODY)
    assert {"version", "key", "recorded_at", "request", "message"} == set(lines[0])
    assert KEY not in path.read_text()


def test_what_is_not_recorded(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with pytest.raises(Exception):  # noqa: B017 - a broken stream raises
        record(path, Cut(after=2, reply=Text("one two three four")))
    fake = FakeAnthropic()
    rec = RecordingTransport(fake, path)
    with httpx.Client(transport=rec, base_url="https://x", headers={"x-api-key": KEY}) as c:
        assert c.post("/v1/messages", json=BODY).status_code == 400  # no anthropic-version
        c.get("/v1/models", headers={"anthropic-version": "2023-06-01"})
    assert not path.exists() or path.read_text() == ""


def test_a_key_in_the_body_is_blanked(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    rec = RecordingTransport(FakeAnthropic([Text("ok")]), path)
    body = {**BODY, "messages": [{"role": "user", "content": f"my key is {KEY}"}]}
    with httpx.Client(
        transport=rec,
        base_url="https://x",
        headers={"authorization": f"Bearer {KEY}", "anthropic-version": "2023-06-01"},
    ) as c:
        assert c.post("/v1/messages", json=body).status_code == 200
    text = path.read_text()
    assert KEY not in text and "<redacted>" in text


def test_appends_from_several_processes_are_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    code = textwrap.dedent(
        f"""
        from nbclaude.testing._cassette import append_exchange
        for i in range(40):
            append_exchange({str(path)!r}, {{"model": "m", "messages": [], "n": i}},
                            {{"type": "message", "content": [{{"type": "text",
                             "text": "x" * 20000}}]}})
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    assert len(load_cassette(path)) == 160


# -- replaying -------------------------------------------------------------------------------


def test_replay_in_a_fresh_process_without_key_or_network(tmp_path: Path) -> None:
    path = tmp_path / "lesson.jsonl"
    recorded = record(path, Text("A photon is a quantum of light, with energy h times nu."))
    script = textwrap.dedent(
        f"""
        import json, sys
        from nbclaude import Client
        from nbclaude.testing import ReplayTransport, is_replayed
        body = json.loads(sys.argv[1])
        client = Client(api_key="offline", base_url="http://replay.nbclaude.invalid",
                        transport=ReplayTransport({str(path)!r}, rate=None), max_retries=0)
        with client.stream(**body) as st:
            deltas = list(st.text_stream)
            hit = st.get_final_message()
            hit_id = st.request_id
        other = {{**body, "messages": [{{"role": "user", "content": "Something else"}}]}}
        with client.stream(**other) as st:
            miss = "".join(st.text_stream)
            miss_id = st.request_id
        plain = client.create(**body)
        print(json.dumps({{"deltas": deltas, "hit": hit, "hit_replayed": is_replayed(hit_id),
                          "miss": miss, "miss_replayed": is_replayed(miss_id),
                          "plain": plain}}))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env["NO_PROXY"] = ""
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(BODY)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    assert out["hit"]["content"] == recorded["content"]
    assert out["hit"]["stop_reason"] == recorded["stop_reason"]
    assert out["hit"]["usage"]["output_tokens"] == recorded["usage"]["output_tokens"]
    assert len(out["deltas"]) > 5  # word-sized deltas, like a live reply
    assert "".join(out["deltas"]) == recorded["content"][0]["text"]
    assert out["hit_replayed"] is True and out["miss_replayed"] is False
    assert out["miss"].startswith(MARKER)
    assert out["plain"]["content"] == recorded["content"]


def test_a_replayed_stream_has_the_live_event_sequence() -> None:
    fake = FakeAnthropic([ToolUse("lookup", {"q": "photon"}, text="Let me look.")])
    with httpx.Client(
        transport=fake,
        base_url="https://x",
        headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"},
    ) as c:
        live = c.post("/v1/messages", json={**BODY, "stream": True}).content
    message = accumulate(json.loads(e.data) for e in iter_sse([live]))
    replay = ReplayTransport(Cassette([{"key": match_key(BODY), "message": message}]), rate=None)
    with httpx.Client(transport=replay, base_url="https://x") as c:
        r = c.post("/v1/messages", json={**BODY, "stream": True})
    assert r.headers[REPLAY_HEADER] == "hit" and is_replayed(r.headers["request-id"])
    assert r.headers["content-type"].startswith("text/event-stream")
    names = [e.event for e in iter_sse([r.content])]
    assert names == [e.event for e in iter_sse([live])]
    assert accumulate(json.loads(e.data) for e in iter_sse([r.content])) == message


def test_pacing_knob() -> None:
    message = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
               "content": [{"type": "text", "text": "one two three four five"}],
               "stop_reason": "end_turn", "stop_sequence": None,
               "usage": {"input_tokens": 3, "output_tokens": 5}}  # fmt: skip
    cassette = Cassette([{"key": "k", "message": message}])
    paced = ReplayTransport(cassette, rate=20)._plan(message, stream=True).parts
    assert [p for p in paced if isinstance(p, float)] == [0.05] * 4  # between 5 deltas
    assert not [p for p in ReplayTransport(cassette, rate=None)._plan(message, stream=True).parts
                if isinstance(p, float)]  # fmt: skip
    chunked = ReplayTransport(cassette, rate=None, chunk_size=3)._plan(message, stream=True)
    deltas = [p for p in chunked.parts if isinstance(p, bytes) and b"text_delta" in p]
    assert len(deltas) == 8  # 23 characters in pieces of 3


def test_a_question_asked_twice_replays_both_answers_in_order(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    record(path, Text("first"))
    record(path, Text("second"))
    replay = ReplayTransport(path, rate=None)
    client = Client(api_key="offline", transport=replay, max_retries=0)
    texts = [client.create(**BODY)["content"][0]["text"] for _ in range(3)]
    assert texts == ["first", "second", "second"]
    assert (replay.hits, replay.misses) == (3, 0)


def test_a_missing_cassette_replays_nothing(tmp_path: Path) -> None:
    replay = ReplayTransport(tmp_path / "none.jsonl")
    client = Client(api_key="offline", transport=replay, max_retries=0)
    assert client.create(**BODY)["content"][0]["text"].startswith(MARKER)
    assert replay.misses == 1


def test_a_bad_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"key": "k", "message": {}}\nnot json\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not a recorded exchange"):
        load_cassette(path)


def test_a_request_the_api_refuses_is_refused_again_not_a_miss(tmp_path: Path) -> None:
    """A request that failed when the lesson was recorded (a retired model: 404) is not in the
    cassette, because only replies are recorded. Replayed, the fake refuses it the same way; it
    is counted as ``refused``, not as a miss (a miss means the notebook changed)."""
    replay = ReplayTransport(tmp_path / "none.jsonl")
    client = Client(api_key="offline", transport=replay, max_retries=0)
    with pytest.raises(NotFoundError):
        client.create(**{**BODY, "model": "claude-sonnet-4-5"})
    assert (replay.hits, replay.misses, replay.refused) == (0, 0, 1)
    client.create(**BODY)
    assert (replay.hits, replay.misses, replay.refused) == (0, 1, 1)


def _story_then_go_on(transport: Any) -> tuple[Session, list[str], str]:
    """Stop a story after 5 pieces (the Stop button, or a ``break``), then ask to go on."""
    s = Session(model="claude-haiku-4-5", client=Client(api_key=KEY, transport=transport))
    with s.stream("Tell me a long story about an ant who wanted to fly.") as st:
        pieces = [piece for _, piece in zip(range(5), st, strict=False)]
    return s, pieces, s.send("Please go on.").text


def test_a_stopped_stream_is_recorded_as_far_as_it_got_and_replayed_so(tmp_path: Path) -> None:
    """A lesson that shows Stop: the recording keeps what arrived before the stop (marked
    ``stopped``). Replayed, the same pieces arrive and the stream then ends with an error that
    says why; the conversation goes on from the same kept text, so the next turn replays too
    (before, nothing was recorded: the stopped turn and every later one went to the fake)."""
    path = tmp_path / "lesson.jsonl"
    long = " ".join(f"word{n}" for n in range(200))
    _, recorded, _ = _story_then_go_on(
        RecordingTransport(FakeAnthropic([Text(long), Text("And then it flew.")]), path)
    )
    first, second = (json.loads(line) for line in path.read_text().splitlines())
    assert first["stopped"] is True and "stopped" not in second
    assert first["message"]["content"][0]["text"] == "".join(recorded)
    assert first["message"]["stop_reason"] is None
    replay = ReplayTransport(path, rate=None)
    s, pieces, went_on = _story_then_go_on(replay)
    assert pieces == recorded and went_on == "And then it flew."
    assert (replay.hits, replay.misses) == (2, 0)
    # not stopped this time: the recorded part, then an error naming the recording
    replay = ReplayTransport(path, rate=None)
    s = Session(model="claude-haiku-4-5", client=Client(api_key=KEY, transport=replay))
    with pytest.raises(StreamError, match="stopped when this lesson was recorded") as caught:
        s.send("Tell me a long story about an ant who wanted to fly.")
    assert caught.value.partial is not None
    assert caught.value.partial["content"][0]["text"] == "".join(recorded)
    assert s.messages == []  # a failed turn leaves the conversation as it was

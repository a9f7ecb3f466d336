"""Which API a session talks to, with cassettes (README, "Teaching a class"): NBCLAUDE_REPLAY and NBCLAUDE_RECORD
read when the client is made, a recorder that keeps the client's address, credentials and
retries, replies that know they were replayed (the footer says so), and a status line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import KEY

import nbclaude
from nbclaude import Client, Session
from nbclaude._session.backend import (
    default_client,
    describe,
    is_offline,
    not_recording,
    offline_client,
    recording,
    recording_client,
    replay_client,
    replaying,
)
from nbclaude.testing import FakeAnthropic, RecordingTransport, Text, is_replayed


def test_the_environment_picks_replay_over_offline_and_record_wraps_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cassette = tmp_path / "lesson.jsonl"
    monkeypatch.setenv("NBCLAUDE_RECORD", str(cassette))
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    real = default_client()
    assert isinstance(real.transport, RecordingTransport) and recording(real) is not None
    assert real.base_url == "https://api.anthropic.com" and not is_offline(real)
    assert real.credentials.source == "$ANTHROPIC_API_KEY"
    assert describe(real).startswith("https://api.anthropic.com · recording to ")
    monkeypatch.setenv("NBCLAUDE_OFFLINE", "1")
    offline = default_client()
    assert is_offline(offline) and recording(offline) is not None
    monkeypatch.setenv("NBCLAUDE_REPLAY", str(cassette))
    replay = default_client()
    assert replaying(replay) is not None and recording(replay) is None
    assert not replay.base_url.startswith("https://api.anthropic.com")


def test_a_recorder_keeps_the_clients_address_credentials_retries_and_timeouts(
    tmp_path: Path,
) -> None:
    fake = FakeAnthropic([Text("Recorded.")], api_key=KEY)
    client = Client(api_key=KEY, base_url="http://gateway.example", transport=fake,
                    max_retries=5, timeout=30.0, deadline=40.0, idle_timeout=20.0)  # fmt: skip
    rec = recording_client(client, tmp_path / "c.jsonl")
    assert (rec.base_url, rec.max_retries, rec.timeout, rec.deadline, rec.idle_timeout) == (
        "http://gateway.example",
        5,
        30.0,
        40.0,
        20.0,
    )
    rec.create(
        model="claude-haiku-4-5", max_tokens=20, messages=[{"role": "user", "content": "Hi"}]
    )
    assert fake.requests[-1].headers["x-api-key"] == KEY
    [line] = (tmp_path / "c.jsonl").read_text().splitlines()
    assert json.loads(line)["message"]["content"][0]["text"] == "Recorded." and KEY not in line
    again = recording_client(rec, tmp_path / "other.jsonl")  # one recorder, never two
    assert isinstance(again.transport, RecordingTransport)
    assert again.transport.inner is fake and again.transport.path.endswith("other.jsonl")
    plain = not_recording(again)
    assert plain.transport is fake and recording(plain) is None
    assert not_recording(client) is client


def test_replies_from_a_cassette_say_replayed_and_others_do_not(tmp_path: Path) -> None:
    cassette = tmp_path / "lesson.jsonl"
    fake = FakeAnthropic([Text("Ants have six legs.", chunk_size=3)], api_key=KEY)
    teacher = Session(
        model="claude-haiku-4-5",
        client=recording_client(Client(api_key=KEY, transport=fake), cassette),
    )
    live = teacher.send("How many legs has an ant?")
    assert not live.replayed and "replayed" not in live.footer()
    student = Session(model="claude-haiku-4-5", client=replay_client(cassette))
    with student.stream("How many legs has an ant?") as st:
        pieces = list(st)
    reply = st.reply
    assert reply is not None and "".join(pieces) == "Ants have six legs." == reply.text
    assert len(pieces) > 1  # streamed like a live reply
    assert reply.replayed and is_replayed(reply.request_id)
    assert reply.footer().endswith(" · end_turn · replayed")
    assert "replayed" in reply._repr_mimebundle_()["text/markdown"]
    other = student.send("And spiders?")
    assert not other.replayed and nbclaude.testing.MARKER.strip("*")[:8] in other.text
    assert describe(student.client).endswith("lesson.jsonl (1 hit, 1 miss)")


def test_a_broken_cassette_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"not": "an exchange"}\n')
    with pytest.raises(nbclaude.InvalidRequestError, match=r"Cannot replay .*bad\.jsonl.*line|:1:"):
        replay_client(bad)


def test_replay_needs_no_key_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("replay touched the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("NBCLAUDE_REPLAY", str(tmp_path / "nothing-yet.jsonl"))
    s = Session(model="claude-haiku-4-5")
    assert s.send("Hello").text.startswith("*(offline")
    assert describe(s.client).endswith("(0 hits, 1 miss; the file does not exist)")


def test_a_recording_of_the_offline_fake_keeps_its_words(tmp_path: Path) -> None:
    """The recorder blanks the request's key wherever it appears in the line it writes: the
    offline client's key must be a word no reply holds (it was "offline", and the cassette
    said "<redacted> fake")."""
    cassette = tmp_path / "offline.jsonl"
    client = recording_client(offline_client(), cassette)
    text = client.create(model="claude-haiku-4-5", max_tokens=200,
                         messages=[{"role": "user", "content": "Hi"}])["content"][0]["text"]  # fmt: skip
    assert "offline fake" in text
    [line] = cassette.read_text().splitlines()
    recorded = json.loads(line)["message"]["content"][0]["text"]
    assert recorded == text and "<redacted>" not in line

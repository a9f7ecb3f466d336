"""``%claude record`` and ``%claude replay`` in a real InteractiveShell: start, state, off, the
variables they set for sessions made afterwards, and their refusals as one clean line."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nbclaude
from nbclaude.testing import FakeAnthropic, Text


@pytest.fixture(autouse=True)
def _in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # cassettes are written in the current folder


def cell(ip: InteractiveShell, source: str) -> tuple[Any, str]:
    with capture_output() as cap:
        result = ip.run_cell(source, store_history=True)
    shown = [cap.stdout]
    for out in cap.outputs:
        shown += [str(out.data[m]) for m in ("text/markdown", "text/plain") if m in out.data]
    if result.error_in_exec is not None:
        shown.append(f"{type(result.error_in_exec).__name__}: {result.error_in_exec}")
    return result, "\n".join(shown)


def test_record_then_off_and_a_replay_of_what_was_recorded(
    ip: InteractiveShell, fake: FakeAnthropic, tmp_path: Path
) -> None:
    result, said = cell(ip, "%claude record")
    assert result.success and "Not recording." in said
    result, said = cell(ip, "%claude record lesson.jsonl")
    assert result.success and "Recording every exchange to lesson.jsonl" in said
    assert os.environ["NBCLAUDE_RECORD"] == str(tmp_path / "lesson.jsonl")
    assert nbclaude.get_session().client.credentials.api_key == KEY  # the same key goes on
    fake.add(Text("Ants have six legs."), Text("Not recorded."))
    assert cell(ip, "%%claude\nHow many legs has an ant?")[0].success
    result, said = cell(ip, "%claude record")
    assert "Recording to lesson.jsonl (1 exchange(s) in it so far)." in said
    assert "recording to lesson.jsonl" in cell(ip, "%claude")[1]
    result, said = cell(ip, "%claude record off")
    assert result.success and "Recording stopped: 1 exchange(s) in lesson.jsonl." in said
    assert "NBCLAUDE_RECORD" not in os.environ
    assert cell(ip, "%%claude\nAnd a spider?")[0].success
    lines = (tmp_path / "lesson.jsonl").read_text().splitlines()
    assert len(lines) == 1 and KEY not in lines[0]
    assert json.loads(lines[0])["message"]["content"][0]["text"] == "Ants have six legs."

    requests = len(fake.requests)
    cell(ip, "%claude reset")
    result, said = cell(ip, "%claude replay lesson.jsonl")
    assert result.success and "Replaying lesson.jsonl: 1 recorded exchange(s)." in said
    assert os.environ["NBCLAUDE_REPLAY"] == str(tmp_path / "lesson.jsonl")
    result, said = cell(ip, "%%claude\nHow many legs has an ant?")
    assert result.success and "Ants have six legs." in said and "replayed" in said
    assert len(fake.requests) == requests  # nothing went to the API
    result, said = cell(ip, "%claude replay")
    assert "replaying lesson.jsonl (1 hit, 0 misses)" in said
    refused, said = cell(ip, "%claude record again.jsonl")
    assert not refused.success and "%claude replay off first" in said
    result, said = cell(ip, "%claude replay off")
    assert result.success and "Replay off (replaying lesson.jsonl (1 hit, 0 misses))" in said
    assert "NBCLAUDE_REPLAY" not in os.environ
    assert "replaying" not in cell(ip, "%claude")[1]


def test_refusals_are_one_clean_line(
    ip: InteractiveShell, fake: FakeAnthropic, tmp_path: Path
) -> None:
    result, said = cell(ip, "%claude replay nowhere.jsonl")
    assert not result.success and "there is no cassette at nowhere.jsonl" in said
    (tmp_path / "bad.jsonl").write_text("not json\n")
    result, said = cell(ip, "%claude replay bad.jsonl")
    assert not result.success and type(result.error_in_exec).__name__ == "InvalidRequestError"
    assert "Cannot replay" in said and "bad.jsonl:1" in said
    assert "NBCLAUDE_REPLAY" not in os.environ  # nothing changed
    result, said = cell(ip, "%claude record no/such/folder/c.jsonl")
    assert not result.success and "cannot write no/such/folder/c.jsonl" in said
    result, said = cell(ip, "%claude record a.jsonl b.jsonl")
    assert not result.success and "%claude record PATH" in said


def test_offline_keeps_a_replay_and_online_ends_it(
    ip: InteractiveShell, fake: FakeAnthropic, tmp_path: Path
) -> None:
    """A replay is offline already (no key, nothing sent, the fake for the rest): a notebook's
    setup cell that runs ``%claude offline`` when no key is set must not end the class's
    replay. ``%claude replay off`` ends it, and ``%claude online`` goes to the real API."""
    (tmp_path / "empty.jsonl").write_text("")
    assert cell(ip, "%claude replay empty.jsonl")[0].success
    result, said = cell(ip, "%claude offline")
    assert result.success and "still replaying empty.jsonl" in said
    assert os.environ["NBCLAUDE_REPLAY"].endswith("empty.jsonl")
    assert "**backend** replaying empty.jsonl" in cell(ip, "%claude")[1]
    assert cell(ip, "%claude online")[0].success
    assert "NBCLAUDE_REPLAY" not in os.environ and "NBCLAUDE_OFFLINE" not in os.environ
    assert "replaying" not in cell(ip, "%claude")[1]
    assert cell(ip, "%claude replay empty.jsonl")[0].success
    assert cell(ip, "%claude replay off")[0].success
    assert cell(ip, "%claude offline")[0].success
    assert "**backend** offline fake" in cell(ip, "%claude")[1]


def test_offline_and_online_keep_a_recording_going(
    ip: InteractiveShell, fake: FakeAnthropic, tmp_path: Path
) -> None:
    assert cell(ip, "%claude record lesson.jsonl")[0].success
    try:
        assert cell(ip, "%claude offline")[0].success
        assert "offline fake · recording to lesson.jsonl" in cell(ip, "%claude")[1]
        assert cell(ip, "%%claude\nAsked offline")[0].success
        assert cell(ip, "%claude online")[0].success
        assert "recording to lesson.jsonl" in cell(ip, "%claude")[1]
    finally:
        assert cell(ip, "%claude record off")[0].success
    [line] = (tmp_path / "lesson.jsonl").read_text().splitlines()
    assert "Asked offline" in json.dumps(json.loads(line)["request"])

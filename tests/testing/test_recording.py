"""load_recording: every recorded fixture format becomes script items that replay it exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from nbclaude.testing import SSE, FakeAnthropic, RawResponse, load_recording

RECORDED = Path(__file__).parents[1] / "fixtures" / "recorded"
HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
BODY = {
    "model": "claude-haiku-4-5",
    "max_tokens": 50,
    "messages": [{"role": "user", "content": "Hi"}],
}
ALL = sorted(p for p in RECORDED.rglob("*") if p.suffix in (".json", ".txt", ".sse"))


def test_there_are_fixtures() -> None:
    assert len(ALL) >= 40


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_fixture_loads_and_replays(path: Path) -> None:
    items = load_recording(path)
    assert items and all(isinstance(i, (SSE, RawResponse)) for i in items)
    fake = FakeAnthropic(items)
    with fake.serve() as server, httpx.Client(base_url=server.url, headers=HEADERS) as c:
        for item in items:
            with c.stream("POST", "/v1/messages", json={**BODY, "stream": True}) as r:
                data = r.read()
            assert r.status_code == item.status
            if isinstance(item, SSE):
                body = item.body.encode() if isinstance(item.body, str) else item.body
                assert data == body
                assert data.endswith(b"\n\n")  # the last event is complete
                assert r.headers["content-type"].startswith("text/event-stream")
            else:
                assert json.loads(data) == item.body


def test_sse_files_get_their_final_blank_line_back() -> None:
    raw = (RECORDED / "anthropic-sdk-python" / "basic_response.txt").read_text()
    assert not raw.endswith("\n\n")  # the file artifact docs/api.md §4.1 describes
    (item,) = load_recording(RECORDED / "anthropic-sdk-python" / "basic_response.txt")
    assert isinstance(item, SSE) and item.body == raw.rstrip("\n") + "\n\n"
    (as_is,) = load_recording(
        RECORDED / "anthropic-sdk-python" / "basic_response.txt", complete_events=False
    )
    assert isinstance(as_is, SSE) and as_is.body == raw


def test_python_snapshot_keeps_statuses_and_headers() -> None:
    path = RECORDED / "anthropic-sdk-python" / "a8b7dbb8-2321-4624-abdb-7ba2136b5c38.json"
    items = load_recording(path)
    assert [i.status for i in items] == [429, 429, 200]
    first = items[0]
    assert isinstance(first, RawResponse)
    assert first.headers is not None and first.headers["x-should-retry"] == "true"
    assert "content-length" not in first.headers  # framing is the server's
    assert isinstance(items[2], SSE)


def test_typescript_nock_recording() -> None:
    path = RECORDED / "anthropic-sdk-typescript" / "ToolRunner.json"
    raw: list[dict[str, Any]] = json.loads(path.read_text())
    items = load_recording(path)
    assert len(items) == len(raw) == 10
    first = items[0]
    assert isinstance(first, RawResponse) and first.body == raw[0]["response"]
    assert first.headers is not None and first.headers["request-id"].startswith("req_011C")
    fake = FakeAnthropic(items)
    with httpx.Client(transport=fake, base_url="https://x", headers=HEADERS) as c:
        r = c.post("/v1/messages", json=BODY)
    assert r.json() == raw[0]["response"]
    assert r.headers["request-id"] == raw[0]["rawHeaders"]["request-id"]  # the recorded one wins


def test_historical_list_of_bodies() -> None:
    path = (
        RECORDED
        / "anthropic-sdk-python"
        / "historical"
        / "ab7b2edd-9c2d-4f53-9c04-92bb659b9caa.json"
    )
    items = load_recording(path)
    assert len(items) == 2 and all(isinstance(i, RawResponse) for i in items)
    path = (
        RECORDED
        / "anthropic-sdk-python"
        / "historical"
        / "9cb114c8-69bd-4111-841b-edee30333afd.json"
    )
    assert all(isinstance(i, SSE) for i in load_recording(path))


def test_not_a_recording(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"a": 1}')
    with pytest.raises(ValueError, match="unknown recording entry"):
        load_recording(bad)

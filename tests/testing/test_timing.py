"""Rates, delays, latency, timeouts, early close, concurrency and keep-alive (measured)."""

from __future__ import annotations

import http.client as httplib
import itertools
import json
import threading
import time
from typing import Any

import httpx
import pytest
from conftest import run_async

from nbclaude.testing import Delay, FakeAnthropic, Text

HEADERS = {"x-api-key": "sk-ant-test-fake-0123456789", "anthropic-version": "2023-06-01"}
BODY = {
    "model": "claude-haiku-4-5",
    "max_tokens": 4000,
    "messages": [{"role": "user", "content": "Hi"}],
    "stream": True,
}


def connection_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "nbclaude-fake-connection"]


def timed_deltas(client: httpx.Client) -> tuple[list[float], float]:
    """Arrival times of the text deltas, relative to the request."""
    t0 = time.perf_counter()
    times: list[float] = []
    with client.stream("POST", "/v1/messages", json=BODY) as r:
        head = time.perf_counter() - t0
        for line in r.iter_lines():
            if line.startswith("data: ") and '"text_delta"' in line:
                times.append(time.perf_counter() - t0)
    return times, head


def test_rate(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Text("a b c d e f g h i j k", rate=50))  # 11 deltas, 10 gaps of 20 ms
    times, _ = timed_deltas(http)
    assert len(times) == 11
    span = times[-1] - times[0]
    assert 0.18 <= span < 0.6, span


def test_delay(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Text("abcdef", chunk_size=2, delay=0.1))  # 3 deltas, 2 gaps of 100 ms
    times, _ = timed_deltas(http)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 2
    assert all(0.09 <= g < 0.4 for g in gaps), gaps


def test_latency_before_headers(http: httpx.Client, fake: FakeAnthropic) -> None:
    fake.add(Text("hi", latency=0.3))
    _, head = timed_deltas(http)
    assert 0.29 <= head < 1.0, head


def test_delay_item_makes_an_in_process_read_time_out(fake: FakeAnthropic) -> None:
    fake.add(Delay(30))
    with httpx.Client(transport=fake, base_url="https://x", headers=HEADERS, timeout=0.2) as c:
        t = time.perf_counter()
        with pytest.raises(httpx.ReadTimeout):
            c.post("/v1/messages", json=BODY)
        assert time.perf_counter() - t < 1.0


def test_delay_item_makes_a_loopback_read_time_out(fake: FakeAnthropic) -> None:
    fake.add(Delay(30))
    with (
        fake.serve() as server,
        httpx.Client(base_url=server.url, headers=HEADERS, timeout=0.2) as c,
    ):
        t = time.perf_counter()
        with pytest.raises(httpx.ReadTimeout):
            c.post("/v1/messages", json=BODY)
        assert time.perf_counter() - t < 1.0
        # The client hung up: the waiting handler notices at once, not after 30 s.
        deadline = time.perf_counter() + 2
        while connection_threads() and time.perf_counter() < deadline:
            time.sleep(0.01)
        assert not connection_threads()


def test_a_pause_longer_than_the_read_timeout_times_out_in_process(fake: FakeAnthropic) -> None:
    fake.add(Text("a b", delay=30))
    with httpx.Client(transport=fake, base_url="https://x", headers=HEADERS, timeout=0.2) as c:
        t = time.perf_counter()
        with pytest.raises(httpx.ReadTimeout), c.stream("POST", "/v1/messages", json=BODY) as r:
            r.read()
        assert time.perf_counter() - t < 1.0


def test_early_close_in_process_ends_the_pause_at_once(fake: FakeAnthropic) -> None:
    fake.add(Text("word " * 100, delay=10))  # would take ~1000 s
    with httpx.Client(transport=fake, base_url="https://x", headers=HEADERS) as c:
        with c.stream("POST", "/v1/messages", json=BODY) as r:
            lines = r.iter_lines()
            while '"text_delta"' not in next(lines):  # the first delta arrived
                pass
            closed_at: list[float] = []

            def close() -> None:
                closed_at.append(time.perf_counter())
                r.close()

            timer = threading.Timer(0.1, close)
            timer.start()
            rest = list(lines)  # blocked in the 10 s pause until close()
            ended = time.perf_counter()
        timer.join()
    assert not any('"text_delta"' in line for line in rest)
    assert ended - closed_at[0] < 0.05, ended - closed_at[0]


def test_early_close_over_loopback_ends_the_handler_promptly(fake: FakeAnthropic) -> None:
    fake.add(Text("word " * 100, delay=10))
    with fake.serve() as server, httpx.Client(base_url=server.url, headers=HEADERS) as c:
        with c.stream("POST", "/v1/messages", json=BODY) as r:
            lines = r.iter_lines()  # kept alive: dropping it would close the connection
            while '"text_delta"' not in next(lines):
                pass
            time.sleep(0.1)
            assert len(connection_threads()) == 1  # the handler waits in its 10 s pause
        closed = time.perf_counter()  # leaving the block closes the unfinished response
        while connection_threads() and time.perf_counter() - closed < 5:
            time.sleep(0.005)
        elapsed = time.perf_counter() - closed
        assert not connection_threads()
        assert elapsed < 0.2, elapsed  # the handler was in a 10 s pause


def test_concurrent_streams_over_loopback(fake: FakeAnthropic) -> None:
    n = 6
    fake.add(*[Text(f"reply {i} " * 5, rate=20) for i in range(n)])  # ~0.5 s each
    results: dict[int, str] = {}
    with fake.serve() as server, httpx.Client(base_url=server.url, headers=HEADERS) as c:

        def run(i: int) -> None:
            text = []
            with c.stream("POST", "/v1/messages", json=BODY) as r:
                for line in r.iter_lines():
                    if line.startswith("data: ") and '"text_delta"' in line:
                        text.append(json.loads(line[6:])["delta"]["text"])
            results[i] = "".join(text)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.perf_counter() - t
    assert sorted(results.values()) == sorted(f"reply {i} " * 5 for i in range(n))
    assert elapsed < 2.0, elapsed  # in parallel, not 6 x 0.5 s


def test_keep_alive_serves_several_requests_on_one_connection(fake: FakeAnthropic) -> None:
    fake.add(Text("one"), Text("two", rate=100), Text("three"))
    with fake.serve() as server:
        conn = httplib.HTTPConnection(server.host, server.port, timeout=5)
        got = []
        for stream in (False, True, False):
            payload = json.dumps({**BODY, "stream": stream})
            conn.request(
                "POST", "/v1/messages", payload, {**HEADERS, "content-type": "application/json"}
            )
            resp = conn.getresponse()
            data = resp.read()
            assert resp.status == 200
            got.append(data)
        sock = conn.sock
        assert sock is not None  # still the same open connection
        assert len(connection_threads()) == 1
        conn.close()
    assert json.loads(got[0])["content"][0]["text"] == "one"
    assert b'"text":"two"' in got[1]
    assert json.loads(got[2])["content"][0]["text"] == "three"


def test_server_close_ends_idle_and_busy_connections(fake: FakeAnthropic) -> None:
    fake.add(Text("word " * 100, delay=10))
    server = fake.serve()
    idle = httplib.HTTPConnection(server.host, server.port, timeout=5)
    idle.request("GET", "/v1/models", headers=HEADERS)
    idle.getresponse().read()  # the connection stays open (keep-alive)
    busy = httpx.Client(base_url=server.url, headers=HEADERS)
    ready = threading.Event()

    def read() -> None:
        try:
            with busy.stream("POST", "/v1/messages", json=BODY) as r:
                for line in r.iter_lines():
                    if '"text_delta"' in line:
                        ready.set()
        except httpx.HTTPError:
            pass

    reader = threading.Thread(target=read)
    reader.start()
    assert ready.wait(5)
    assert len(connection_threads()) == 2
    t = time.perf_counter()
    server.close()
    assert time.perf_counter() - t < 1.0
    assert not connection_threads()
    reader.join(5)
    busy.close()
    idle.close()


def test_chunked_request_bodies_are_read(fake: FakeAnthropic) -> None:
    payload = json.dumps({**BODY, "stream": False}).encode()

    def gen() -> Any:
        yield payload[:10]
        yield payload[10:]

    with fake.serve() as server, httpx.Client(base_url=server.url, headers=HEADERS) as c:
        r = c.post("/v1/messages", content=gen(), headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert fake.requests[0].json == json.loads(payload)


def test_async_transport(fake: FakeAnthropic) -> None:
    fake.add(Text("async hello", rate=100), Delay(5))

    async def main() -> tuple[str, float]:
        async with httpx.AsyncClient(transport=fake, base_url="https://x", headers=HEADERS) as c:
            parts = []
            async with c.stream("POST", "/v1/messages", json=BODY) as r:
                async for line in r.aiter_lines():
                    if '"text_delta"' in line:
                        parts.append(json.loads(line[6:])["delta"]["text"])
            t = time.perf_counter()
            with pytest.raises(httpx.ReadTimeout):
                await c.post("/v1/messages", json=BODY, timeout=0.1)
            return "".join(parts), time.perf_counter() - t

    text, waited = run_async(main())
    assert text == "async hello"
    assert waited < 1.0


def test_a_bug_in_the_fake_is_a_visible_500_over_loopback(
    fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(fake, "respond", broken)
    with fake.serve() as server, httpx.Client(base_url=server.url, headers=HEADERS) as c:
        r = c.post("/v1/messages", json=BODY)
    assert r.status_code == 500
    assert r.headers["x-should-retry"] == "false"
    assert "internal error in the fake" in r.json()["error"]["message"]
    assert "RuntimeError: boom" in capsys.readouterr().err

"""``python -m nbclaude.testing serve``: prints its URL first, serves, stops cleanly."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
BODY = {
    "model": "claude-haiku-4-5",
    "max_tokens": 50,
    "messages": [{"role": "user", "content": "Hi"}],
}


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbclaude.testing", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    return proc, url


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_its_url_serves_and_stops_cleanly(sig: signal.Signals) -> None:
    t = time.perf_counter()
    proc, url = start("--port", "0")
    try:
        assert url.startswith("http://127.0.0.1:"), url
        assert int(url.rsplit(":", 1)[1]) > 0
        startup = time.perf_counter() - t
        with httpx.Client(base_url=url, headers=HEADERS, timeout=5) as c:
            r = c.post("/v1/messages", json=BODY)
            assert r.status_code == 200
            assert "offline fake" in r.json()["content"][0]["text"]
            assert c.get("/v1/models").json()["data"]
            with c.stream("POST", "/v1/messages", json={**BODY, "stream": True}) as s:
                assert s.read().endswith(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert out == "" and err == ""  # nothing after the URL, no traceback
    assert startup < 5


def test_serve_on_a_given_port_with_an_api_key() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc, url = start("--port", str(port), "--host", "127.0.0.1", "--api-key", "secret-key")
    try:
        assert url == f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=5) as c:
            v = {"anthropic-version": "2023-06-01"}
            assert (
                c.post(
                    "/v1/messages", json=BODY, headers={**v, "x-api-key": "secret-key"}
                ).status_code
                == 200
            )
            assert (
                c.post("/v1/messages", json=BODY, headers={**v, "x-api-key": "other"}).status_code
                == 401
            )
    finally:
        proc.terminate()
        proc.communicate(timeout=5)
    assert proc.returncode == 0


def test_serve_on_a_busy_port_fails_with_a_message() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "nbclaude.testing", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=10,
        )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr


def test_help() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "nbclaude.testing", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert proc.returncode == 0 and "--port" in proc.stdout and "--api-key" in proc.stdout

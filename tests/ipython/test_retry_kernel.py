"""Waiting for a retry shows in the cell, counted down, in a real kernel (every iopub message
kept): "Rate limited (429) — retrying in 2 s (attempt 2 of 3)…", then 1 s, then the reply,
with the line gone once the reply starts; the same for 529 and for a refused connection; an
interrupt during the wait ends it at once and leaves no retry line."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import KEY
from ipython.kernel_support import (
    collect,
    everything,
    final_markdown,
    loaded_kernel,
    loopback_env,
    readable,
    run,
    served_fake,
    shown,
)

from nbclaude.testing import FakeAnthropic, HTTPError, Text

pytestmark = pytest.mark.kernel

RETRYING = re.compile(r"retrying (in [\d.]+ s|now) \(attempt \d of \d\)")


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeAnthropic, str]]:
    with served_fake() as fake:
        yield fake, fake.url


@pytest.fixture(scope="module")
def kc(fake: tuple[FakeAnthropic, str]) -> Iterator[Any]:
    with loaded_kernel(loopback_env(fake[1])) as (km, kc):
        yield km, kc


def status_lines(outputs: list[dict[str, Any]]) -> list[tuple[float, str]]:
    """Each message that shows a retry line: when it came, and the line as it reads."""
    found = []
    for msg in outputs:
        if msg["msg_type"] in ("display_data", "update_display_data"):
            m = re.search(r"[^\n*]*retrying[^\n*]*", readable(shown(msg)))
            if m:
                found.append((msg["at"], m.group().strip()))
    return found


def test_a_rate_limit_counts_down_in_the_cell_then_the_reply_replaces_it(
    kc: Any, fake: Any
) -> None:
    _km, client = kc
    fake[0].add(
        HTTPError(429, headers={"retry-after": "2"}), Text("Ants have six legs.", chunk_size=4)
    )
    started = time.monotonic()
    reply, outputs = run(client, "%%claude\nHow many legs has an ant?")
    assert reply["status"] == "ok"
    lines = status_lines(outputs)
    said = [line for _, line in lines]
    assert said[0] == "Rate limited (429) — retrying in 2 s (attempt 2 of 3)…", said
    assert "Rate limited (429) — retrying in 1 s (attempt 2 of 3)…" in said, said
    assert said[-1] == "Rate limited (429) — retrying now (attempt 2 of 3)…", said
    assert len(said) == len(set(said)) == 3, said  # once a second, each line once
    # counted down as time passed, not all at once
    assert 0.7 < lines[1][0] - lines[0][0] < 1.5 and 0.7 < lines[2][0] - lines[1][0] < 1.5, lines
    assert lines[0][0] - started < 1.5
    # the reply replaced it: no message after the first piece of the reply shows a retry line
    first_text = next(
        i for i, m in enumerate(outputs) if "Ants" in shown(m) and m["msg_type"] != "execute_input"
    )
    assert all(not RETRYING.search(readable(shown(m))) for m in outputs[first_text:])
    md = final_markdown(outputs)
    assert "Ants have six legs." in md and "retrying" not in md
    assert KEY not in everything(outputs)
    assert len(fake[0].requests) >= 2


def test_an_overloaded_api_says_so_the_same_way(kc: Any, fake: Any) -> None:
    _km, client = kc
    fake[0].add(HTTPError(529, headers={"retry-after": "1"}), Text("Here I am."))
    reply, outputs = run(client, "%%claude --no-stream\nAre you there?")
    assert reply["status"] == "ok"
    said = [line for _, line in status_lines(outputs)]
    assert said[0] == "Overloaded (529) — retrying in 1 s (attempt 2 of 3)…", said
    assert said[-1] == "Overloaded (529) — retrying now (attempt 2 of 3)…", said
    md = final_markdown(outputs)
    assert "Here I am." in md and "retrying" not in md


def test_a_refused_connection_is_retried_visibly_then_fails_in_one_line(kc: Any) -> None:
    _km, client = kc
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = (
        "import nbclaude\n"
        "s = nbclaude.get_session()\n"
        "saved = s.client\n"
        f"s.client = nbclaude.Client(base_url='http://127.0.0.1:{port}')"
    )
    assert run(client, code)[0]["status"] == "ok"
    try:
        reply, outputs = run(client, "%%claude\nHello?")
    finally:
        run(client, "s.client = saved")
    assert reply["status"] == "error" and reply["ename"] == "APIConnectionError"
    said = [line for _, line in status_lines(outputs)]
    assert any(
        re.fullmatch(r"Connection failed \(\w+\) — retrying in [\d.]+ s \(attempt 2 of 3\)…", x)
        for x in said
    ), said
    assert any("(attempt 3 of 3)" in x for x in said), said
    # what stays: the one clean error line, no retry line
    kept = [m for m in outputs if m["msg_type"] in ("display_data", "clear_output", "error")]
    last_clear = max(i for i, m in enumerate(kept) if m["msg_type"] == "clear_output")
    assert [m["msg_type"] for m in kept[last_clear + 1 :]] == ["error"]


def test_an_interrupt_during_the_wait_ends_it_at_once(kc: Any, fake: Any) -> None:
    km, client = kc
    fake[0].add(HTTPError(429, headers={"retry-after": "30"}), Text("too late"))
    msg_id = client.execute("%%claude\nWill you wait?")
    time.sleep(1.5)
    t = time.monotonic()
    km.interrupt_kernel()
    outputs = collect(client, msg_id)
    assert time.monotonic() - t < 3
    said = [line for _, line in status_lines(outputs)]
    assert said[0] == "Rate limited (429) — retrying in 30 s (attempt 2 of 3)…", said
    assert "Rate limited (429) — retrying in 29 s (attempt 2 of 3)…" in said, said
    [error] = [m for m in outputs if m["msg_type"] == "error"]
    assert error["content"]["ename"] == "Interrupted"
    assert "nothing was recorded" in shown(error)
    # the countdown stopped with the cell: after the clear, nothing but the error line
    last_clear = max(i for i, m in enumerate(outputs) if m["msg_type"] == "clear_output")
    after = [m["msg_type"] for m in outputs[last_clear + 1 :] if m["msg_type"] != "status"]
    assert after == ["error"], after
    time.sleep(1.5)  # and no update comes later either
    reply, later = run(client, "%%claude --once\nAnd now?")  # takes the reply never asked for
    assert reply["status"] == "ok" and "too late" in final_markdown(later)
    assert all("retrying" not in shown(m) for m in later)

"""%%claude in a real Jupyter kernel (jupyter_client) against the loopback fake: the live
output protocol, kernel interrupts, the set_next_input payload, and the key never shown."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import KEY

from nbclaude.testing import FakeAnthropic, HTTPError, Text

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeAnthropic, str]]:
    fake = FakeAnthropic(api_key=KEY)
    with fake.serve(port=0) as server:
        yield fake, server.url


@pytest.fixture(scope="module")
def kernel(fake: tuple[FakeAnthropic, str]) -> Iterator[Any]:
    from jupyter_client.manager import KernelManager

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "NBCLAUDE_"))}
    env.update(ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=fake[1], NBCLAUDE_MODEL="claude-haiku-4-5")
    km = KernelManager(kernel_name="python3")
    km.start_kernel(env=env)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    run(kc, "%load_ext nbclaude")
    yield km, kc
    kc.stop_channels()
    km.shutdown_kernel(now=True)


def run(kc: Any, code: str, timeout: float = 60) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    outputs: list[dict[str, Any]] = []
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=outputs.append)
    return reply["content"], outputs


def final_markdown(outputs: list[dict[str, Any]]) -> str:
    """What the cell shows at the end: the outputs after the last clear_output."""
    shown: list[dict[str, Any]] = []
    for msg in outputs:
        kind = msg["msg_type"]
        if kind == "clear_output":
            shown = []
        elif kind in ("display_data", "execute_result"):
            shown.append(msg["content"]["data"])
    assert len(shown) == 1, shown
    return str(shown[0]["text/markdown"])


def all_text(outputs: list[dict[str, Any]]) -> str:
    return json.dumps([m["content"] for m in outputs], default=str)


def test_a_turn_in_a_kernel(kernel: Any, fake: tuple[FakeAnthropic, str]) -> None:
    _km, kc = kernel
    fake[0].add(
        Text("First paragraph.\n\nSecond paragraph with **bold**.\n\n- a\n- b\n", chunk_size=4)
    )
    reply, outputs = run(kc, "%%claude\nHello, Claude")
    assert reply["status"] == "ok"
    kinds = [m["msg_type"] for m in outputs if m["msg_type"] not in ("status", "execute_input")]
    assert kinds.count("clear_output") == 1 and kinds[-1] == "display_data"
    assert "update_display_data" in kinds or kinds.count("display_data") > 1
    md = final_markdown(outputs)
    assert "Second paragraph with **bold**." in md and "claude-haiku-4-5" in md
    assert KEY not in all_text(outputs)
    assert fake[0].requests[-1].headers["x-api-key"] == KEY


def test_format_code_sends_a_set_next_input_payload(
    kernel: Any, fake: tuple[FakeAnthropic, str]
) -> None:
    _km, kc = kernel
    fake[0].add(Text("```python\nx = {'a': 1}\n```"))
    reply, _ = run(kc, "%%claude -f code\nWrite x")
    payloads = [p for p in reply.get("payload", []) if p.get("source") == "set_next_input"]
    assert payloads and payloads[0]["text"] == "x = {'a': 1}" and payloads[0]["replace"] is False


def test_interrupt_closes_the_stream_and_keeps_the_partial_reply(
    kernel: Any, fake: tuple[FakeAnthropic, str]
) -> None:
    km, kc = kernel
    run(kc, "%claude reset")
    fake[0].add(Text("word " * 2000, chunk_size=5, delay=0.02))  # ~40 s if not interrupted
    msg_id = kc.execute("%%claude\nTell me a very long story")
    time.sleep(1.0)
    t = time.perf_counter()
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=10)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=10)
    elapsed = time.perf_counter() - t
    assert elapsed < 1.0, elapsed
    content = reply["content"]
    assert content["status"] == "error" and content["ename"] == "Interrupted"
    _, outputs = run(
        kc,
        "import nbclaude\ns = nbclaude.get_session()\nprint(len(s.messages), repr(s.messages[-1]['content'][:10]))",
    )
    printed = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
    assert printed.startswith("2 'word word ")
    # the server saw the connection go away: a later request is served at once
    fake[0].add(Text("next"))
    reply2, outputs2 = run(kc, "%%claude\ncontinue", timeout=20)
    assert reply2["status"] == "ok" and "next" in final_markdown(outputs2)


def test_interrupted_output_is_marked(kernel: Any, fake: tuple[FakeAnthropic, str]) -> None:
    km, kc = kernel
    fake[0].add(Text("word " * 2000, chunk_size=5, delay=0.02))
    outputs: list[dict[str, Any]] = []
    msg_id = kc.execute("%%claude\nAnother long one")
    time.sleep(1.0)
    km.interrupt_kernel()
    deadline = time.time() + 10
    while time.time() < deadline:
        msg = kc.get_iopub_msg(timeout=10)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        outputs.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    shown = [m for m in outputs if m["msg_type"] in ("display_data", "clear_output", "error")]
    md = final_markdown([m for m in shown if m["msg_type"] != "error"])
    assert "interrupted" in md and "word word" in md
    errors = [m for m in outputs if m["msg_type"] == "error"]
    assert len(errors) == 1 and len(errors[0]["content"]["traceback"]) == 1


def test_the_key_never_appears_in_any_output(kernel: Any, fake: tuple[FakeAnthropic, str]) -> None:
    _km, kc = kernel
    fake[0].add(HTTPError(401, message=f"invalid x-api-key: {KEY}"), Text("Explained."))
    seen: list[dict[str, Any]] = []
    for code in [
        "%claude",
        "%claude usage",
        "%claude models",
        "%%claude\nHello",  # 401 whose message echoes the key
        "import nbclaude\nnbclaude.get_session().client",
        "nbclaude.get_session()",
        "%claude history",
    ]:
        _, outputs = run(kc, code)
        seen += outputs
    assert KEY not in all_text(seen)
    # an error whose text holds the key: %claude fix must not send it to the model
    run(kc, "import os\nraise ValueError('key was ' + os.environ['ANTHROPIC_API_KEY'])")
    reply, outputs = run(kc, "%claude fix")
    assert reply["status"] == "ok"
    assert KEY not in json.dumps(fake[0].requests[-1].json)
    assert KEY not in all_text(outputs)

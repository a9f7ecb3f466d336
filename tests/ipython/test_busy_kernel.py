"""A ``%%claude`` cell run while another turn of the shared session waits for a tool call to
be approved in the chat widget says so, in a real kernel (every iopub message kept): "waiting
for your answer in the chat widget: get_weather — approve there, or interrupt". Once the call
is approved, that turn ends and the cell's own turn runs, showing none of the other turn's
tool calls; an interrupt during the wait ends the cell at once and nothing of it is sent.

The widget's side is played by a thread of the kernel that sends with an approver saying it
asks in the chat widget (as ``ChatWidget``'s does); the test answers it by creating a file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY
from ipython.kernel_support import (
    everything,
    final_markdown,
    final_outputs,
    loaded_kernel,
    loopback_env,
    printed,
    run,
    served_fake,
    shown,
)

from nbclaude.testing import FakeAnthropic, Text, ToolUse

pytestmark = pytest.mark.kernel

LINE = "waiting for your answer in the chat widget: get_weather — approve there, or interrupt"

WIDGET_TURN = """
import threading, time
from pathlib import Path
import nbclaude

s = nbclaude.get_session()
answer = Path({answer!r})

def get_weather(city: str) -> str:
    \"\"\"The weather in a city.\"\"\"
    return f"Sunny in {{city}}"

def approve(name, args):
    while not answer.exists():
        time.sleep(0.05)
    return True

approve.where = "the chat widget"
widget_turn = threading.Thread(
    target=lambda: s.send("Weather in Paris?", tools=[get_weather], approve=approve), daemon=True
)
widget_turn.start()
for _ in range(200):
    if s.waiting_for is not None:
        break
    time.sleep(0.05)
print(s.busy, s.waiting_for["name"])
"""


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with served_fake() as fake:
        yield fake


@pytest.fixture(scope="module")
def kc(fake: FakeAnthropic) -> Iterator[Any]:
    with loaded_kernel(loopback_env(fake.url)) as (km, kc):  # type: ignore[attr-defined]
        yield km, kc


def start_widget_turn(kc: Any, answer: Path) -> None:
    reply, outputs = run(kc, "%claude reset\n" + WIDGET_TURN.format(answer=str(answer)))
    assert reply["status"] == "ok", outputs
    assert "True get_weather" in "".join(shown(m) for m in outputs)


def until_idle(kc: Any, msg_id: str, *, when: str, then: Any, timeout: float = 30) -> list[Any]:
    """Every iopub message of ``msg_id`` until idle; ``then()`` once one shows ``when``."""
    outputs: list[dict[str, Any]] = []
    done = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        msg["at"] = time.monotonic()
        outputs.append(msg)
        if not done and when in shown(msg):
            done = True
            then()
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return outputs
    raise AssertionError("the kernel did not go idle")


def test_the_cell_says_where_to_answer_then_runs_its_own_turn(
    kc: Any, fake: FakeAnthropic, tmp_path: Path
) -> None:
    _km, client = kc
    answer = tmp_path / "approved"
    fake.add(ToolUse("get_weather", {"city": "Paris"}), Text("Sunny in Paris, says the tool."))
    start_widget_turn(client, answer)
    fake.add(Text("Rome is warm too."))
    msg_id = client.execute("%%claude\nAnd in Rome?")
    outputs = until_idle(client, msg_id, when=LINE, then=answer.touch)
    said = [shown(m) for m in outputs if m["msg_type"] in ("display_data", "update_display_data")]
    assert any(LINE in text for text in said), said
    assert "Rome is warm too." in final_markdown(outputs)
    assert all("waiting for" not in shown(m) for m in final_outputs(outputs))
    # the other turn's tool call and its result are not this cell's
    assert "get_weather" not in json.dumps([shown(m) for m in final_outputs(outputs)])
    assert "Sunny in Paris" not in everything(outputs)
    assert KEY not in everything(outputs)
    reply, history = run(
        client, "print([m['role'] for m in s.messages], s.messages[-2]['content'])"
    )
    assert reply["status"] == "ok"
    # the widget's turn (user, tool call, tool result, reply), then the cell's
    assert "['user', 'assistant', 'user', 'assistant', 'user', 'assistant']" in printed(history)
    assert "And in Rome?" in printed(history)


def test_an_interrupt_during_the_wait_ends_the_cell_and_sends_nothing(
    kc: Any, fake: FakeAnthropic, tmp_path: Path
) -> None:
    km, client = kc
    answer = tmp_path / "approved"
    fake.add(ToolUse("get_weather", {"city": "Oslo"}), Text("Rain in Oslo."))
    start_widget_turn(client, answer)
    asked: list[float] = []

    def interrupt() -> None:
        asked.append(time.monotonic())
        km.interrupt_kernel()

    msg_id = client.execute("%%claude\nNever sent?")
    outputs = until_idle(client, msg_id, when=LINE, then=interrupt)
    assert asked and time.monotonic() - asked[0] < 3
    [error] = [m for m in outputs if m["msg_type"] == "error"]
    assert error["content"]["ename"] == "Interrupted", shown(error)
    assert "nothing was recorded" in shown(error)
    last_clear = max(i for i, m in enumerate(outputs) if m["msg_type"] == "clear_output")
    after = [m["msg_type"] for m in outputs[last_clear + 1 :] if m["msg_type"] != "status"]
    assert after == ["error"], after
    answer.touch()  # the widget's turn goes on and ends
    reply, ended = run(client, "widget_turn.join(10); print(widget_turn.is_alive(), s.busy)")
    assert reply["status"] == "ok" and "False False" in printed(ended)
    bodies = json.dumps([r.json for r in fake.requests])
    assert "Never sent?" not in bodies
    assert "Oslo" in bodies  # the widget's turn was sent (so the requests are the ones looked at)

"""Bytes the ChatWidget sends over its comm for one streamed reply: per byte of reply, and as
the conversation grows.

A real kernel (jupyter_client) runs a ChatWidget on a session wired to the in-process fake
API, which streams a reply of N tokens at a fixed rate (200 tokens/s). This script
plays the front end: it opens a view (the ``sync`` message a new view sends, answered by the
whole transcript, which is not counted), sends the same ``send`` custom message the browser
sends, then counts
every iopub message of the widget's comm until the turn is over (and half a second after, so
nothing sent late is missed), serialised as it goes over the wire (all frames: header, parent
header, metadata, content, buffers, signature).

Budgets:

* reply size: ratio <= 30x at 2,000 tokens, and the 10,000-token ratio <= 1.5x the 2,000 one;
* history size: the comm bytes of one 200-token turn on a conversation of 2,000 messages
  <= 2x those of the same turn on 20 messages (the baseline, measured in the same run): a turn
  sends what changed, never the whole transcript again. The saved copy of the conversation
  (an ``update_display`` once per turn, not comm traffic: the notebook file keeps the whole
  chat) is printed beside it, outside the budget.

Run: ``python benchmarks/widget_bytes.py`` (about a minute at 200 tokens/s), or
``--rate 1000`` for a quicker run; ``--only history`` / ``--only reply`` for one budget;
``--json`` prints the numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import time
from typing import Any

#: What a view sends when it opens (js/view.js): the whole transcript, once.
SYNC = {"type": "sync", "transcript": True}

PARAGRAPH = (
    "The **derivative** of $f(x) = x^2$ is $f'(x) = 2x$. In code:\n\n"
    "```python\ndef f(x):\n    return x ** 2\n```\n\n"
    "Each step follows from the *power rule*, which you can check numerically. "
)


def make_reply(tokens: int) -> str:
    from nbclaude.testing._tokens import split_tokens

    pieces: list[str] = []
    while len(pieces) < tokens:
        pieces.extend(split_tokens(PARAGRAPH))
    return "".join(pieces[:tokens])


KERNEL_SETUP = """
import nbclaude
from nbclaude.testing import FakeAnthropic, Text
from IPython.display import display
fake = FakeAnthropic([Text({reply!r}, rate={rate})])
session = nbclaude.Session(model="claude-haiku-4-5", max_tokens=20000,
                           client=nbclaude.Client(api_key="sk-ant-bench", transport=fake))
for i in range({history} // 2):
    session.messages += [{{"role": "user", "content": f"Question {{i}}: what is {{i}} squared?"}},
                         {{"role": "assistant", "content": {paragraph!r}}}]
w = nbclaude.ChatWidget(session=session)
display(w)
"""


def wire_size(session: Any, msg: dict[str, Any]) -> int:
    """Bytes of a message as the kernel sends it on iopub (all ZMQ frames)."""
    frames = session.serialize(
        {
            "header": msg["header"],
            "parent_header": msg["parent_header"],
            "metadata": msg["metadata"],
            "content": msg["content"],
            "buffers": msg.get("buffers") or [],
        }
    )
    size = sum(len(f) for f in frames)
    return size + sum(len(b) for b in msg.get("buffers") or [])


def measure(tokens: int, rate: float, timeout: float, history: int = 0) -> dict[str, Any]:
    """One turn of ``tokens`` at ``rate`` tokens/s on a conversation of ``history`` messages."""
    from jupyter_client.manager import start_new_kernel

    from nbclaude.testing._wire import _pieces

    reply = make_reply(tokens)
    # the fake's rate is deltas per second; its deltas are word-ish pieces, not tokens
    delta_rate = rate * len(_pieces(reply, None)) / tokens
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        kc.execute(
            KERNEL_SETUP.format(reply=reply, rate=delta_rate, history=history, paragraph=PARAGRAPH)
        )
        comm_id = None
        deadline = time.monotonic() + 60
        while comm_id is None and time.monotonic() < deadline:
            msg = kc.get_iopub_msg(timeout=60)
            if msg["msg_type"] == "comm_open" and "ChatWidget" in json.dumps(
                msg["content"]["data"].get("state", {}).get("_anywidget_id", "")
            ):
                comm_id = msg["content"]["comm_id"]
        if comm_id is None:
            raise RuntimeError("the widget's comm did not open")
        # a view opens (it asks for the transcript, as js/view.js does); let the background
        # model-list load finish, then drain
        hello = {"comm_id": comm_id, "data": {"method": "custom", "content": SYNC}}
        kc.shell_channel.send(kc.session.msg("comm_msg", hello))
        time.sleep(1.0)
        while True:
            try:
                kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                break
        start = time.monotonic()
        content = {
            "comm_id": comm_id,
            "data": {
                "method": "custom",
                "content": {"type": "send", "text": "go", "attachments": []},
            },
        }
        kc.shell_channel.send(kc.session.msg("comm_msg", content))
        total = deltas = messages = saved = 0
        ended: float | None = None
        deadline = time.monotonic() + timeout
        while ended is None or time.monotonic() < ended + 0.5:  # and what comes just after
            if time.monotonic() > deadline:
                raise RuntimeError("the reply did not finish in time")
            try:
                msg = kc.get_iopub_msg(timeout=0.1 if ended else 1)
            except queue.Empty:
                continue
            if msg["msg_type"] == "update_display_data":  # the saved copy, outside the comm
                saved += wire_size(kc.session, msg)
                continue
            if msg["msg_type"] != "comm_msg" or msg["content"].get("comm_id") != comm_id:
                continue
            messages += 1
            total += wire_size(kc.session, msg)
            data = msg["content"]["data"]
            if data.get("method") == "custom":
                kind = data["content"].get("type")
                deltas += kind == "delta"
                if kind == "turn_end" and ended is None:
                    ended = time.monotonic()
        elapsed = (ended or time.monotonic()) - start
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    reply_bytes = len(reply.encode("utf-8"))
    return {
        "tokens": tokens,
        "history": history,
        "rate": rate,
        "reply_bytes": reply_bytes,
        "comm_bytes": total,
        "comm_messages": messages,
        "saved_copy_bytes": saved,
        "delta_messages": deltas,
        "seconds": round(elapsed, 2),
        "ratio": round(total / reply_bytes, 2),
    }


def reply_budget(rate: float) -> tuple[dict[str, Any], bool, list[str]]:
    small = measure(2_000, rate, timeout=60 + 2_000 / rate * 3)
    large = measure(10_000, rate, timeout=60 + 10_000 / rate * 3)
    growth = large["ratio"] / small["ratio"]
    ok = small["ratio"] <= 30 and growth <= 1.5
    lines = [
        f"{r['tokens']:>6} tokens at {r['rate']:.0f}/s: {r['comm_bytes']:>9,} comm bytes "
        f"for {r['reply_bytes']:>7,} reply bytes = {r['ratio']:5.2f}x "
        f"({r['comm_messages']} messages, {r['delta_messages']} deltas, {r['seconds']} s)"
        for r in (small, large)
    ]
    lines.append(
        f"budget: <= 30x at 2,000 tokens -> {small['ratio']:.2f}x; 10,000-token ratio <= 1.5x "
        f"the 2,000-token one -> {growth:.2f}x; {'OK' if ok else 'OVER BUDGET'}"
    )
    result = {"small": small, "large": large, "growth": round(growth, 3), "ok": ok}
    return result, ok, lines


def history_budget(rate: float) -> tuple[dict[str, Any], bool, list[str]]:
    timeout = 120 + 200 / rate * 3
    base = measure(200, rate, timeout=timeout, history=20)
    big = measure(200, rate, timeout=timeout, history=2_000)
    growth = big["comm_bytes"] / base["comm_bytes"]
    ok = growth <= 2.0
    lines = [
        f"one 200-token turn on {r['history']:>5,} messages: {r['comm_bytes']:>9,} comm bytes "
        f"({r['comm_messages']} messages, {r['delta_messages']} deltas, {r['seconds']} s); "
        f"the saved copy's update_display: {r['saved_copy_bytes']:,} bytes (not comm: the "
        "notebook file's copy of the whole chat, once per turn)"
        for r in (base, big)
    ]
    lines.append(
        f"budget: a turn at 2,000 messages <= 2x the same turn at 20 (baseline) -> "
        f"{growth:.2f}x; {'OK' if ok else 'OVER BUDGET'}"
    )
    return {"base": base, "big": big, "growth": round(growth, 3), "ok": ok}, ok, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="tokens per second (200)")
    parser.add_argument("--only", choices=["reply", "history"], help="measure one budget")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    lines: list[str] = []
    ok = True
    for name, budget in (("reply", reply_budget), ("history", history_budget)):
        if args.only in (None, name):
            result, passed, text = budget(args.rate)
            results[name] = result
            lines.extend(text)
            ok = ok and passed
    if args.json:
        print(json.dumps({**results, "ok": ok}))
    else:
        print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

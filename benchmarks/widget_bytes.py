"""Bytes the ChatWidget sends over its comm for one streamed reply, per byte of reply.

A real kernel (jupyter_client) runs a ChatWidget on a session wired to the in-process fake
API, which streams a reply of N tokens at a fixed rate (DESIGN §7: 200 tokens/s). This script
plays the front end: it sends the same ``send`` custom message the browser sends, then counts
every iopub message of the widget's comm until the turn is over, serialised as it goes over
the wire (all frames: header, parent header, metadata, content, buffers, signature).

Budget: ratio <= 30x at 2,000 tokens, and the 10,000-token ratio <= 1.5x the 2,000 one.

Run: ``python benchmarks/widget_bytes.py`` (about a minute at 200 tokens/s), or
``--rate 1000`` for a quicker run; ``--json`` prints the numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import textwrap
import time
from typing import Any

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


def measure(tokens: int, rate: float, timeout: float) -> dict[str, Any]:
    from jupyter_client.manager import start_new_kernel

    from nbclaude.testing._wire import _pieces

    reply = make_reply(tokens)
    # the fake's rate is deltas per second; its deltas are word-ish pieces, not tokens
    delta_rate = rate * len(_pieces(reply, None)) / tokens
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        kc.execute(KERNEL_SETUP.format(reply=reply, rate=delta_rate))
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
        # let the background model-list load finish, then drain
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
        total = deltas = messages = 0
        ended = False
        deadline = time.monotonic() + timeout
        while not ended:  # busy=False and the transcript are sent just before turn_end
            if time.monotonic() > deadline:
                raise RuntimeError("the reply did not finish in time")
            try:
                msg = kc.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
            if msg["msg_type"] != "comm_msg" or msg["content"].get("comm_id") != comm_id:
                continue
            messages += 1
            total += wire_size(kc.session, msg)
            data = msg["content"]["data"]
            if data.get("method") == "custom":
                kind = data["content"].get("type")
                deltas += kind == "delta"
                ended = kind == "turn_end"
        elapsed = time.monotonic() - start
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    reply_bytes = len(reply.encode("utf-8"))
    return {
        "tokens": tokens,
        "rate": rate,
        "reply_bytes": reply_bytes,
        "comm_bytes": total,
        "comm_messages": messages,
        "delta_messages": deltas,
        "seconds": round(elapsed, 2),
        "ratio": round(total / reply_bytes, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="tokens per second (200)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    small = measure(2_000, args.rate, timeout=60 + 2_000 / args.rate * 3)
    large = measure(10_000, args.rate, timeout=60 + 10_000 / args.rate * 3)
    growth = large["ratio"] / small["ratio"]
    ok = small["ratio"] <= 30 and growth <= 1.5
    if args.json:
        print(json.dumps({"small": small, "large": large, "growth": round(growth, 3), "ok": ok}))
    else:
        for r in (small, large):
            print(
                f"{r['tokens']:>6} tokens at {r['rate']:.0f}/s: {r['comm_bytes']:>9,} comm bytes "
                f"for {r['reply_bytes']:>7,} reply bytes = {r['ratio']:5.2f}x "
                f"({r['comm_messages']} messages, {r['delta_messages']} deltas, {r['seconds']} s)"
            )
        print(
            textwrap.dedent(f"""\
            budget: <= 30x at 2,000 tokens -> {small["ratio"]:.2f}x; 10,000-token ratio <= 1.5x
            the 2,000-token one -> {growth:.2f}x; {"OK" if ok else "OVER BUDGET"}""")
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

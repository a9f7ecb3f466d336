"""Bytes published to the front end by ``%%claude``, per byte of reply, in a real kernel.

The fake streams replies of 2,000 and 10,000 tokens at a fixed rate (200 tokens/s); every
iopub message of the cell is serialised as on the wire (``Session.serialize``) and counted.
For comparison, the same run measures a naive display that re-sends the whole reply on every
token (what the design avoids). Budget (docs/architecture.md, "Performance budgets"): <= 30x
at 2,000 tokens, and the 10,000-token ratio at most 1.5x the 2,000-token one (linear growth).

Run: python benchmarks/display_bytes.py [--rate 200] [--tokens 2000 10000]
"""

from __future__ import annotations

import argparse
import os
import random
from typing import Any

from nbclaude.testing import FakeAnthropic, Text

KEY = "sk-ant-bench-0000000000"


def reply_of(tokens: int, seed: int = 7) -> str:
    """A Markdown reply of ``tokens`` tokens (4 characters each, streamed one per delta):
    headings, paragraphs, lists and code blocks, like a real answer."""
    rng = random.Random(seed)
    words = [
        "the",
        "model",
        "reads",
        "each",
        "token",
        "and",
        "writes",
        "the",
        "next",
        "one",
        "while",
        "notebook",
        "shows",
        "it",
        "as",
        "soon",
        "arrives",
        "so",
        "students",
        "see",
        "progress",
    ]
    pieces: list[str] = []
    while sum(map(len, pieces)) < 4 * tokens:
        kind = rng.random()
        if kind < 0.1:
            pieces += ["## ", "Section ", f"{len(pieces)}", "\n\n"]
        elif kind < 0.25:
            for _ in range(rng.randint(2, 5)):
                item = [rng.choice(words) + " " for _ in range(rng.randint(3, 8))]
                pieces += ["- ", *item, "\n"]
            pieces.append("\n")
        elif kind < 0.35:
            pieces += ["```python\n"]
            for i in range(rng.randint(3, 10)):
                pieces += ["x", f"{i} = ", "compute(", f"{i})", "\n"]
            pieces += ["```\n\n"]
        else:
            pieces += [rng.choice(words) + " " for _ in range(rng.randint(20, 60))] + [".\n\n"]
    return "".join(pieces)[: 4 * tokens]


def measure(kc: Any, code: str, timeout: float) -> int:
    """Wire bytes of every iopub message the execution of ``code`` produced."""
    total = 0

    def count(msg: dict[str, Any]) -> None:
        nonlocal total
        total += sum(len(frame) for frame in kc.session.serialize(msg))

    reply = kc.execute_interactive(code, timeout=timeout, output_hook=count)
    assert reply["content"]["status"] == "ok", reply["content"]
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="tokens per second")
    parser.add_argument("--tokens", type=int, nargs="+", default=[2000, 10000])
    args = parser.parse_args()
    from jupyter_client.manager import start_new_kernel

    fake = FakeAnthropic(api_key=KEY)
    with fake.serve(port=0) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "NBCLAUDE_"))}
        env.update(
            ANTHROPIC_API_KEY=KEY, ANTHROPIC_BASE_URL=server.url, NBCLAUDE_MODEL="claude-haiku-4-5"
        )
        km, kc = start_new_kernel(kernel_name="python3", env=env)
        try:
            kc.execute_interactive("%load_ext nbclaude", timeout=60)
            ratios: dict[int, float] = {}
            for n in args.tokens:
                text = reply_of(n)
                fake.add(Text(text, chunk_size=4, rate=args.rate))
                sent = measure(
                    kc,
                    "%%claude --max-tokens 64000\nWrite a long answer.",
                    timeout=n / args.rate * 3 + 60,
                )
                ratios[n] = sent / len(text.encode())
                print(
                    f"%%claude, {n:>6,} tokens ({len(text.encode()):>7,} reply bytes): "
                    f"{sent:>10,} bytes published = {ratios[n]:6.1f}x the reply"
                )
            # baseline: re-send the whole reply on every token, same rate, same kernel
            n = args.tokens[0]
            naive = (
                "import time\nfrom IPython.display import Markdown, display\n"
                f"reply = {reply_of(n)!r}\n"
                "h = display(Markdown(''), display_id=True)\n"
                "for i in range(4, len(reply) + 4, 4):\n    h.update(Markdown(reply[:i]))\n"
                f"    time.sleep({1 / args.rate})\n"
            )
            naive_bytes = measure(kc, naive, timeout=n / args.rate * 3 + 60)
            reply_bytes = len(reply_of(n).encode())
            print(
                f"naive per-token re-send, {n:>6,} tokens: {naive_bytes:>10,} bytes = "
                f"{naive_bytes / reply_bytes:6.1f}x the reply"
            )
            first, *rest = args.tokens
            print(
                f"budget: <= 30x at {first:,} tokens: "
                f"{'OK' if ratios[first] <= 30 else 'OVER BUDGET'} ({ratios[first]:.1f}x)"
            )
            for m in rest:
                growth = ratios[m] / ratios[first]
                print(
                    f"budget: ratio at {m:,} <= 1.5x the ratio at {first:,}: "
                    f"{'OK' if growth <= 1.5 else 'OVER BUDGET'} ({growth:.2f}x)"
                )
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()

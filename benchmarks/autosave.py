"""Benchmark: a turn on a 500-turn conversation, autosave on vs off (budget: docs/architecture.md).

Two sessions hold the same 500-turn conversation (about 0.3 MB of JSON, 80,000 tokens) and
talk to the in-process fake API. Blocks of ``--turns`` consecutive turns run on each,
interleaved (off, on, off, on, ...), each block starting from the same 500 turns. Two ratios
against the baseline (autosave off) measured in the same run:

- **turn**: the median time of ``session.send(...)``, what the user waits for (autosave writes
  on its own thread, so this is the cost of sharing the interpreter with it);
- **durable**: a whole block, including waiting at its end until the last turn is on disk.

Budget: turn <= 1.2x. Exit status 1 when over budget.

Run: ``python benchmarks/autosave.py [--repeat N] [--turns N] [--history N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from nbclaude import Client, Session
from nbclaude._session.autosave import Autosave, Where
from nbclaude.testing import FakeAnthropic

BUDGET = 1.2
REPLY = "Here is a careful answer with a few sentences of explanation. " * 4


def conversation(turns: int) -> list[Any]:
    messages: list[Any] = []
    for i in range(turns):
        messages.append({"role": "user", "content": f"Question {i}: " + "why is that so? " * 4})
        messages.append({"role": "assistant", "content": f"Answer {i}: " + REPLY * 2})
    return messages


def session(history: list[Any]) -> Session:
    fake = FakeAnthropic(api_key="sk-ant-bench")  # its default reply, about 60 words
    s = Session(
        model="claude-haiku-4-5",
        client=Client(api_key="sk-ant-bench", transport=fake, max_retries=0),
    )
    s.messages = list(history)
    return s


def block(
    s: Session, history: list[Any], turns: int, keep: Autosave | None
) -> tuple[list[float], float]:
    s.messages = list(history)  # the same start for every block (no event: nothing is saved)
    fake = s.client.transport
    assert isinstance(fake, FakeAnthropic)
    fake.requests.clear()  # the fake records every request: keep memory flat
    sends: list[float] = []
    start = time.perf_counter()
    for i in range(turns):
        t = time.perf_counter()
        s.send(f"Follow-up {i}: and then?")
        sends.append(time.perf_counter() - t)
    if keep is not None:
        assert keep.flush(timeout=60)
    return sends, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=8, help="blocks of each kind")
    parser.add_argument("--turns", type=int, default=10, help="turns per block")
    parser.add_argument("--history", type=int, default=500, help="turns already in the chat")
    args = parser.parse_args()

    history = conversation(args.history)
    folder = Path(tempfile.mkdtemp(prefix="nbclaude-bench-"))
    path = folder / ".nbclaude" / "bench.json"
    off, on = session(history), session(history)
    keep = Autosave(on, lambda: Where(path, "benchmark"))
    for s, k in ((off, None), (on, keep)):  # warm up: imports, caches, the first write
        block(s, history, 2, k)

    sends: dict[str, list[float]] = {"off": [], "on": []}
    blocks: dict[str, list[float]] = {"off": [], "on": []}
    for _ in range(args.repeat):
        for name, s, k in (("off", off, None), ("on", on, keep)):
            times, total = block(s, history, args.turns, k)
            sends[name] += times
            blocks[name].append(total)
    keep.close()
    size = path.stat().st_size
    on.messages = list(history)
    saves = []
    for _ in range(5):
        t = time.perf_counter()
        on.save(path)
        saves.append(time.perf_counter() - t)

    turn = {n: statistics.median(v) for n, v in sends.items()}
    whole = {n: statistics.median(v) for n, v in blocks.items()}
    ratio, durable = turn["on"] / turn["off"], whole["on"] / whole["off"]
    print(f"conversation: {args.history} turns; autosave file {size / 1e6:.2f} MB ({os.name})")
    print(f"one save (check, JSON, write, fsync, replace): {statistics.median(saves) * 1e3:.1f} ms")
    print(f"turn, autosave off (baseline): {turn['off'] * 1e3:8.2f} ms median")
    print(f"turn, autosave on:             {turn['on'] * 1e3:8.2f} ms median")
    print(f"block of {args.turns} turns + last write on disk: off {whole['off'] * 1e3:.1f} ms, "
          f"on {whole['on'] * 1e3:.1f} ms")  # fmt: skip
    print(f"ratio turn: {ratio:.2f}x (budget <= {BUDGET}x) · durable: {durable:.2f}x")
    ok = ratio <= BUDGET
    print("OK" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

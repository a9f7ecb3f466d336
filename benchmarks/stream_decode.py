"""Stream decoding throughput: 20,000 text deltas from the loopback fake.

Three readers of the same SSE body, served by ``nbclaude.testing`` on 127.0.0.1:

- raw: httpx ``iter_lines`` + ``json.loads`` of each ``data:`` line (the floor: no accumulation);
- nbclaude: ``Client.stream`` -> ``text_stream`` -> ``get_final_message`` (decode + accumulate);
- sdk: the official SDK's ``messages.stream`` -> ``text_stream`` -> ``get_final_message``.

Also the time to the first text delta (raw vs nbclaude). Budgets (docs/architecture.md,
"Performance budgets"): nbclaude >= 0.9x raw throughput, >= 4x the SDK; first-token overhead
<= 5 ms.

Run: python benchmarks/stream_decode.py [--deltas 20000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import httpx

from nbclaude import Client
from nbclaude.testing import SSE, FakeAnthropic

KEY = "sk-ant-bench-0000000000"
BODY: dict[str, Any] = {
    "model": "claude-haiku-4-5",
    "max_tokens": 64000,
    "messages": [{"role": "user", "content": "Write a long essay."}],
}
HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01", "content-type": "application/json"}


def sse_body(deltas: int) -> bytes:
    def ev(data: dict[str, Any]) -> str:
        return f"event: {data['type']}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"

    words = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", "."]
    out = [
        ev(
            {
                "type": "message_start",
                "message": {
                    "id": "msg_bench",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-haiku-4-5-20251001",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 12, "output_tokens": 1},
                },
            }
        ),
        ev(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            }
        ),
        ev({"type": "ping"}),
    ]
    out += [
        ev(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": words[i % len(words)]},
            }
        )
        for i in range(deltas)
    ]
    out += [
        ev({"type": "content_block_stop", "index": 0}),
        ev(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": deltas},
            }
        ),
        ev({"type": "message_stop"}),
    ]
    return "".join(out).encode()


def run_raw(url: str) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    first = 0.0
    n = 0
    with (
        httpx.Client() as http,
        http.stream(
            "POST", url + "/v1/messages", headers=HEADERS, json={**BODY, "stream": True}
        ) as r,
    ):
        for line in r.iter_lines():
            if line.startswith("data:"):
                event = json.loads(line[5:])
                if event["type"] == "content_block_delta":
                    if not n:
                        first = time.perf_counter() - t0
                    n += 1
    return time.perf_counter() - t0, first, n


def run_ours(url: str) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    first = 0.0
    n = 0
    with Client(api_key=KEY, base_url=url) as client, client.stream(**BODY) as st:
        for _ in st.text_stream:
            if not n:
                first = time.perf_counter() - t0
            n += 1
        st.get_final_message()
    return time.perf_counter() - t0, first, n


def run_sdk(url: str) -> tuple[float, float, int]:
    import anthropic

    t0 = time.perf_counter()
    first = 0.0
    n = 0
    client = anthropic.Anthropic(api_key=KEY, base_url=url, max_retries=0)
    with client.messages.stream(**BODY) as st:
        for _ in st.text_stream:
            if not n:
                first = time.perf_counter() - t0
            n += 1
        st.get_final_message()
    client.close()
    return time.perf_counter() - t0, first, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deltas", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    body = sse_body(args.deltas)
    runners = {"raw httpx": run_raw, "nbclaude": run_ours, "official SDK": run_sdk}
    fake = FakeAnthropic(api_key=KEY)
    fake.add(*[SSE(body) for _ in range(len(runners) * (args.rounds + 1))])
    totals: dict[str, list[float]] = {k: [] for k in runners}
    firsts: dict[str, list[float]] = {k: [] for k in runners}
    with fake.serve(port=0) as server:
        for fn in runners.values():  # warm-up round (imports, connections)
            fn(server.url)
        for _ in range(args.rounds):
            for name, fn in runners.items():  # interleaved, so drift hits all alike
                total, first, n = fn(server.url)
                assert n == args.deltas, (name, n)
                totals[name].append(total)
                firsts[name].append(first)
    med = {k: statistics.median(v) for k, v in totals.items()}
    rate = {k: args.deltas / v for k, v in med.items()}
    print(
        f"{args.deltas:,} text deltas ({len(body) / 1e6:.1f} MB of SSE), loopback, "
        f"median of {args.rounds} rounds"
    )
    for name in runners:
        print(
            f"  {name:13s} {med[name] * 1000:8.1f} ms  {rate[name]:10,.0f} deltas/s  "
            f"first delta after {statistics.median(firsts[name]) * 1000:6.2f} ms"
        )
    vs_raw = rate["nbclaude"] / rate["raw httpx"]
    vs_sdk = rate["nbclaude"] / rate["official SDK"]
    extra = (statistics.median(firsts["nbclaude"]) - statistics.median(firsts["raw httpx"])) * 1000
    print(
        f"nbclaude / raw httpx throughput: {vs_raw:.2f}x   (budget >= 0.9x) "
        f"{'OK' if vs_raw >= 0.9 else 'OVER BUDGET'}"
    )
    print(
        f"nbclaude / official SDK throughput: {vs_sdk:.2f}x   (budget >= 4x) "
        f"{'OK' if vs_sdk >= 4 else 'OVER BUDGET'}"
    )
    print(
        f"first-delta overhead vs raw httpx: {extra:+.2f} ms   (budget <= 5 ms) "
        f"{'OK' if extra <= 5 else 'OVER BUDGET'}"
    )


if __name__ == "__main__":
    main()

"""Import cost: ``import nbclaude`` and ``%load_ext nbclaude`` vs ``import anthropic``.

Each measurement runs in a fresh process (a fresh kernel for ``%load_ext``) and times only the
import itself, so interpreter start-up is not counted. Budget (docs/architecture.md,
"Performance budgets"): <= 0.10x ``import anthropic``.

Run: python benchmarks/import_cost.py [--rounds 7] [--no-kernel]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

TIMED = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"


def in_fresh_process(stmt: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", TIMED.format(stmt=stmt)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def in_fresh_kernel(code: str) -> float:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        kc.execute_interactive(code, timeout=60, output_hook=lambda msg: _collect(msg, seen))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return float(seen.pop().strip().splitlines()[-1])


seen: list[str] = []


def _collect(msg: dict, out: list[str]) -> None:
    if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
        out.append(msg["content"]["text"])


def shell_load_ext() -> str:
    return (
        "from IPython.core.interactiveshell import InteractiveShell; "
        "s = InteractiveShell.instance(); import time; t = time.perf_counter(); "
        "s.run_line_magic('load_ext', 'nbclaude'); print(time.perf_counter() - t)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-kernel", action="store_true", help="skip the fresh-kernel part")
    args = parser.parse_args()

    def median_of(fn: object, *a: str) -> float:
        return statistics.median(fn(*a) for _ in range(args.rounds))  # type: ignore[operator]

    anthropic = median_of(in_fresh_process, "import anthropic")
    nbclaude = median_of(in_fresh_process, "import nbclaude")
    script = median_of(in_fresh_process, "from nbclaude.testing import Text, HTTPError")
    load_ext = statistics.median(
        float(
            subprocess.run(
                [sys.executable, "-c", shell_load_ext()], check=True, capture_output=True, text=True
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        for _ in range(args.rounds)
    )
    print(f"fresh processes, median of {args.rounds}:")
    print(f"  import anthropic               {anthropic * 1000:8.1f} ms")
    print(
        f"  import nbclaude                {nbclaude * 1000:8.1f} ms   "
        f"{nbclaude / anthropic:.3f}x  (budget <= 0.10x)"
    )
    print(
        f"  nbclaude.testing script items  {script * 1000:8.1f} ms   "
        f"{script / anthropic:.3f}x  (budget <= 0.10x)"
    )
    print(
        f"  %load_ext nbclaude (IPython)   {load_ext * 1000:8.1f} ms   "
        f"{load_ext / anthropic:.3f}x  (budget <= 0.10x)"
    )
    if not args.no_kernel:
        rounds = max(3, args.rounds // 2)
        k_anthropic = statistics.median(
            in_fresh_kernel(TIMED.format(stmt="import anthropic")) for _ in range(rounds)
        )
        k_load = statistics.median(
            in_fresh_kernel(
                "import time; t = time.perf_counter()\n"
                "get_ipython().run_line_magic('load_ext', 'nbclaude')\n"
                "print(time.perf_counter() - t)"
            )
            for _ in range(rounds)
        )
        print(f"fresh kernels, median of {rounds}:")
        print(f"  import anthropic               {k_anthropic * 1000:8.1f} ms")
        print(
            f"  %load_ext nbclaude             {k_load * 1000:8.1f} ms   "
            f"{k_load / k_anthropic:.3f}x  (budget <= 0.10x)"
        )
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, nbclaude; print(sorted(m for m in "
            "('httpx', 'PIL', 'numpy', 'anywidget', 'ipywidgets', 'matplotlib', 'markdown_it') "
            "if m in sys.modules))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"heavy modules loaded by 'import nbclaude': {heavy}")


if __name__ == "__main__":
    main()

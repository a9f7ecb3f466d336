"""Record a teaching notebook's exchanges with Claude into a cassette, or check a cassette.

A cassette (docs/api.md §14) lets a class without keys see Claude's real answers: a student's
kernel with ``NBCLAUDE_REPLAY`` set answers each recorded request with the recorded reply (see
README, "Teaching a class"). This script makes one for each notebook, by running it top to
bottom in a real kernel (nbclient) with ``NBCLAUDE_RECORD`` set, and writes
``notebooks/cassettes/<notebook>.jsonl`` (``--out`` for another folder)::

    python tools/record_cassettes.py notebooks/01-quickstart.ipynb          # the offline fake
    ANTHROPIC_API_KEY=sk-ant-... python tools/record_cassettes.py --real notebooks/*.ipynb

Without ``--real`` the kernel talks to nbclaude's offline fake served on 127.0.0.1 (a made-up
key, nothing leaves the machine): the cassette then holds the fake's answers, which is what CI
uses to check that recording and replaying are wired up. With ``--real`` it talks to the API
(``ANTHROPIC_API_KEY``, or ``ANTHROPIC_AUTH_TOKEN`` and ``ANTHROPIC_BASE_URL`` for a gateway)
and costs what running the notebook costs; the key is never written to the cassette. A
cassette is replaced only when its notebook ran: a failed run keeps the old one.

``--check`` records nothing: it runs each notebook in a fresh kernel that replays its cassette
with no key and no network, and fails if any request was not in it (a prompt changed since the
recording: record again).

Exit status: 0 when every notebook ran (and, with ``--check``, every request was replayed),
1 otherwise, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "notebooks" / "cassettes"
#: The key the loopback fake is given (and checks): a made-up one, never a real key.
FAKE_KEY = "sk-ant-record-cassettes-loopback-fake-0000"
#: Printed by the cell that ``--check`` adds at the end, with the replay counts as JSON.
CHECK_MARK = "nbclaude-replay-check:"
_CHECK_CELL = f"""
import gc, json
from nbclaude.testing import ReplayTransport
_players = [o for o in gc.get_objects() if isinstance(o, ReplayTransport)]
print({CHECK_MARK!r}, json.dumps({{"sessions": len(_players),
      "hits": sum(p.hits for p in _players), "misses": sum(p.misses for p in _players)}}))
"""
_OURS = ("ANTHROPIC_", "NBCLAUDE_")


def kernel_env(**values: str) -> dict[str, str]:
    """This process's environment without any ``ANTHROPIC_*`` / ``NBCLAUDE_*`` variable
    (a teacher's own settings do not leak into a recording), with ``values`` set, and no
    autosave (a recording leaves no chat file beside the notebook).

    Examples
    --------
    >>> env = kernel_env(NBCLAUDE_REPLAY="lesson.jsonl")
    >>> env["NBCLAUDE_REPLAY"], env["NBCLAUDE_AUTOSAVE"], "ANTHROPIC_API_KEY" in env
    ('lesson.jsonl', '0', False)
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    env["NBCLAUDE_AUTOSAVE"] = "0"
    env.update(values)
    return env


def run_notebook(path: Path, env: dict[str, str], *, timeout: float, check: bool = False) -> Any:
    """Execute the notebook at ``path`` in a new kernel with ``env`` (in its own folder, errors
    kept as outputs) and return it; ``check``: with the replay-count cell at the end."""
    import nbformat
    from nbclient import NotebookClient

    read: Any = nbformat.read  # untyped
    new_cell: Any = nbformat.v4.new_code_cell  # untyped
    nb = read(str(path), as_version=4)
    if check:
        nb.cells.append(new_cell(_CHECK_CELL.strip()))
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute(env=env)
    return nb


def problems_of(nb: Any, *, secrets: tuple[str, ...]) -> list[str]:
    """What went wrong in an executed notebook (a failed cell, a key shown)."""
    from nbclaude.testing.notebook import check_outputs

    return check_outputs(nb, secrets=secrets)


def record(
    notebook: Path, cassette: Path, *, real: bool = False, timeout: float = 300
) -> tuple[int, list[str]]:
    """Run ``notebook`` with every exchange recorded; the cassette is written to ``cassette``
    only if the notebook ran without problems. Returns the number of exchanges and the
    problems."""
    cassette.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{cassette.stem}-", suffix=".jsonl", dir=cassette.parent)
    os.close(fd)
    partial = Path(name)
    try:
        if real:
            given = {k: v for k, v in os.environ.items() if k.startswith("ANTHROPIC_")}
            if not (given.get("ANTHROPIC_API_KEY") or given.get("ANTHROPIC_AUTH_TOKEN")):
                return 0, ["--real needs ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) to be set"]
            secrets = tuple(
                v for k, v in given.items() if k in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
            )
            env = kernel_env(**given, NBCLAUDE_RECORD=str(partial))
            nb = run_notebook(notebook, env, timeout=timeout)
        else:
            from nbclaude.testing import FakeAnthropic

            secrets = (FAKE_KEY,)
            with FakeAnthropic(api_key=FAKE_KEY, keep_requests=0).serve(port=0) as server:
                env = kernel_env(
                    ANTHROPIC_API_KEY=FAKE_KEY,
                    ANTHROPIC_BASE_URL=server.url,
                    NBCLAUDE_RECORD=str(partial),
                )
                nb = run_notebook(notebook, env, timeout=timeout)
        problems = problems_of(nb, secrets=secrets)
        text = partial.read_text(encoding="utf-8")
        problems += [f"{cassette.name}: holds the key" for s in secrets if s and s in text]
        exchanges = sum(1 for line in text.splitlines() if line.strip())
        if not problems:
            os.replace(partial, cassette)
        return exchanges, problems
    finally:
        partial.unlink(missing_ok=True)


def check(
    notebook: Path, cassette: Path, *, timeout: float = 300
) -> tuple[dict[str, int], list[str]]:
    """Replay ``cassette`` for ``notebook`` in a fresh kernel, with no key and no network.
    Returns the counts (sessions, hits, misses) and the problems (a miss is one)."""
    if not cassette.is_file():
        return {}, [f"no cassette at {cassette}"]
    nb = run_notebook(
        notebook, kernel_env(NBCLAUDE_REPLAY=str(cassette.resolve())), timeout=timeout, check=True
    )
    counts: dict[str, int] = {}
    last = nb.cells.pop()  # the replay-count cell
    for output in last.get("outputs", []):
        for line in str(output.get("text", "")).splitlines():
            if line.startswith(CHECK_MARK):
                counts = json.loads(line[len(CHECK_MARK) :])
    problems = problems_of(nb, secrets=())
    if not counts:
        problems.append("the replay counts could not be read (see the last cell's output)")
    elif counts["misses"]:
        problems.append(
            f"{counts['misses']} request(s) not in {cassette.name}: the notebook changed since "
            "it was recorded; record it again"
        )
    elif not counts["hits"]:
        problems.append(f"nothing was replayed from {cassette.name}")
    return counts, problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="record_cassettes.py", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("notebooks", nargs="+", type=Path, help="the notebooks (.ipynb)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="the cassettes' folder (default: notebooks/cassettes)")  # fmt: skip
    parser.add_argument("--real", action="store_true",
                        help="record Claude's real answers (needs ANTHROPIC_API_KEY)")  # fmt: skip
    parser.add_argument("--check", action="store_true",
                        help="replay each cassette, failing on a request it lacks")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=300, help="seconds per cell")
    args = parser.parse_args(argv)
    if args.real and args.check:
        parser.error("--check replays; it records nothing, so --real has no meaning with it")
    failed = False
    for notebook in args.notebooks:
        if notebook.suffix != ".ipynb" or not notebook.is_file():
            parser.error(f"not a notebook: {notebook}")
        cassette = args.out / f"{notebook.stem}.jsonl"
        if args.check:
            counts, problems = check(notebook, cassette, timeout=args.timeout)
            said = (
                f"{counts['hits']} replayed, {counts['misses']} not in the cassette"
                if counts
                else "not replayed"
            )
        else:
            exchanges, problems = record(notebook, cassette, real=args.real, timeout=args.timeout)
            kept = "kept the old cassette" if problems else f"wrote {cassette}"
            said = f"{exchanges} exchange(s) recorded; {kept}"
        print(f"{notebook.name}: {said}")
        for problem in problems:
            print(f"  problem: {problem}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

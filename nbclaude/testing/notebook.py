"""Run a notebook headless in a real kernel and show what it printed.

``python -m nbclaude.testing.notebook NOTEBOOK [--timeout S] [--quiet]`` executes the notebook
with nbclient, prints every cell's outputs as text, and exits with status 1 if any cell failed,
any output holds a traceback, or the API key appears in any output. ``./quickstart.sh
--execute`` and the notebook tests use it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

__all__ = ["check_outputs", "execute", "main"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def execute(path: str | os.PathLike[str], *, timeout: float = 180, cwd: str | None = None) -> Any:
    """Execute the notebook at ``path`` (outputs kept; errors do not stop it) and return it.

    Examples
    --------
    >>> nb = execute("notebooks/01-quickstart.ipynb")  # doctest: +SKIP
    """
    import nbformat
    from nbclient import NotebookClient

    read: Any = nbformat.read  # untyped
    nb = read(str(path), as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": cwd or str(Path(path).parent)}},
    )
    client.execute()
    return nb


def check_outputs(nb: Any, *, secrets: tuple[str, ...] = ()) -> list[str]:
    """Problems in an executed notebook: error outputs, tracebacks, secrets shown.

    A cell tagged ``raises-exception`` may fail on purpose.
    """
    problems: list[str] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        expected_error = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        for output in cell.get("outputs", []):
            text = json.dumps(output)
            # metadata is data, not shown (a %claude fix turn quotes the traceback it sent)
            shown = json.dumps({k: v for k, v in output.items() if k != "metadata"})
            if output.get("output_type") == "error" and not expected_error:
                evalue = _ANSI.sub("", output.get("evalue", ""))
                problems.append(f"cell {index}: {output.get('ename')}: {evalue}")
            elif (
                "Traceback (most recent call last)" in shown
                and not expected_error
                and not _is_conversation_copy(output)
            ):
                problems.append(f"cell {index}: a traceback in the output")
            for secret in secrets:
                if secret and secret in text:
                    problems.append(f"cell {index}: the API key appears in an output")
    return problems


def _is_conversation_copy(output: Any) -> bool:
    """A ChatWidget's saved copy of its conversation: it may quote a traceback a turn sent
    (``%claude fix``), as the chat showed it."""
    meta = output.get("metadata") or {}
    turns = meta.get("nbclaude") if isinstance(meta, dict) else None
    return isinstance(turns, dict) and turns.get("kind") == "widget"


def _text_of(output: Any) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return str(output.get("text", ""))
    if kind == "error":
        return _ANSI.sub("", "\n".join(output.get("traceback", [])))
    data = output.get("data", {})
    for mime in ("text/markdown", "text/plain"):
        if mime in data:
            value = data[mime]
            return "".join(value) if isinstance(value, list) else str(value)
    return f"[{', '.join(sorted(data))}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nbclaude.testing.notebook")
    parser.add_argument("notebook")
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--quiet", action="store_true", help="print only problems")
    args = parser.parse_args(argv)
    nb = execute(args.notebook, timeout=args.timeout)
    if not args.quiet:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            print(f"--- [{index}] {first[:90]}")
            for output in cell.get("outputs", []):
                print(_text_of(output).rstrip())
    names = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")
    secrets = tuple(v for v in (os.environ.get(n) for n in names) if v)
    problems = check_outputs(nb, secrets=secrets)
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    if not problems:
        print(f"OK: {args.notebook} ran without errors.")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

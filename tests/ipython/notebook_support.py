"""Notebooks for the real-kernel tests that run whole notebooks (nbclient): write one from cell
sources, and read what a cell showed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def write_notebook(path: Path, *cells: str | tuple[str, bool]) -> Path:
    """Write a Python 3 notebook of ``cells`` to ``path``: each a source, or ``(source, fails on
    purpose)`` (tagged ``raises-exception``, so the run goes on)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    pairs = [(c, False) if isinstance(c, str) else c for c in cells]
    nb = new_notebook(
        cells=[
            new_code_cell(code, metadata={"tags": ["raises-exception"] if fails else []})
            for code, fails in pairs
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))
    return path


def cell_text(cell: Any) -> str:
    """Everything an executed cell showed: its streams, ``ename: evalue`` of an error, and the
    Markdown and plain text of its displays, ANSI colours removed."""
    out = []
    for o in cell.outputs:
        if o.output_type == "stream":
            out.append(o.text)
        elif o.output_type == "error":
            out.append(f"{o.ename}: {o.evalue}")
        else:
            out += [str(o.data[m]) for m in ("text/markdown", "text/plain") if m in o.data]
    return _ANSI.sub("", "\n".join(out))

"""Real kernels for the tests of what a cell shows while it runs: every iopub message kept.

``kernel(env)`` starts a python3 kernel (jupyter_client) with the ANTHROPIC_* / NBCLAUDE_*
variables of the test process removed and ``env`` set, as a hub would set them before the
kernel starts; ``run(kc, code)`` executes a cell and returns its reply and *every* iopub
message it caused (display, update, clear, stream, error), each stamped with the time it
arrived (``msg["at"]``, ``time.monotonic()``), not only the outputs that stay.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@contextlib.contextmanager
def kernel(env: dict[str, str], *, cwd: Path | None = None) -> Iterator[tuple[Any, Any]]:
    """A started kernel manager and its client; shut down afterwards."""
    from jupyter_client.manager import KernelManager

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "NBCLAUDE_"))}
    clean.update(env)
    km = KernelManager(kernel_name="python3")
    km.start_kernel(env=clean, cwd=str(cwd) if cwd is not None else None)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


@contextlib.contextmanager
def served_fake() -> Iterator[Any]:
    """A strict ``FakeAnthropic`` (the tests' key) served on 127.0.0.1; its address in ``.url``."""
    from conftest import KEY

    from nbclaude.testing import FakeAnthropic

    fake = FakeAnthropic(api_key=KEY)
    with fake.serve(port=0) as server:
        fake.url = server.url  # type: ignore[attr-defined]
        yield fake


def loopback_env(url: str) -> dict[str, str]:
    """A kernel's variables for the loopback fake at ``url``: the tests' key, Claude Haiku 4.5,
    and no autosave (a test leaves no chat file behind)."""
    from conftest import KEY

    return {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": url,
            "NBCLAUDE_MODEL": "claude-haiku-4-5", "NBCLAUDE_AUTOSAVE": "0"}  # fmt: skip


@contextlib.contextmanager
def loaded_kernel(env: dict[str, str], *, cwd: Path | None = None) -> Iterator[tuple[Any, Any]]:
    """:func:`kernel` with ``%load_ext nbclaude`` run (and checked) in it."""
    with kernel(env, cwd=cwd) as (km, kc):
        assert run(kc, "%load_ext nbclaude")[0]["status"] == "ok"
        yield km, kc


def run(kc: Any, code: str, timeout: float = 60) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Execute ``code``; its reply's content and every iopub message of it, time-stamped."""
    outputs: list[dict[str, Any]] = []

    def keep(msg: dict[str, Any]) -> None:
        msg["at"] = time.monotonic()
        outputs.append(msg)

    reply = kc.execute_interactive(code, timeout=timeout, output_hook=keep)
    return reply["content"], outputs


def collect(kc: Any, msg_id: str, timeout: float = 30) -> list[dict[str, Any]]:
    """Every iopub message of the request ``msg_id`` until its kernel is idle again."""
    outputs: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        msg["at"] = time.monotonic()
        outputs.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return outputs
    raise AssertionError("the kernel did not go idle")


def shown(msg: dict[str, Any]) -> str:
    """What one iopub message shows, as text (Markdown and plain), ANSI removed."""
    content = msg["content"]
    kind = msg["msg_type"]
    if kind == "stream":
        return ANSI.sub("", str(content.get("text", "")))
    if kind == "error":
        return ANSI.sub("", "\n".join(content.get("traceback", [])))
    data = content.get("data", {}) if isinstance(content, dict) else {}
    return "\n".join(str(data[m]) for m in ("text/markdown", "text/plain") if m in data)


def final_outputs(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the cell shows at the end: the display messages after the last clear_output."""
    kept: list[dict[str, Any]] = []
    for msg in outputs:
        if msg["msg_type"] == "clear_output":
            kept = []
        elif msg["msg_type"] in ("display_data", "execute_result", "stream", "error"):
            kept.append(msg)
    return kept


def final_markdown(outputs: list[dict[str, Any]]) -> str:
    """The one Markdown output the cell keeps."""
    found = [
        m["content"]["data"]["text/markdown"]
        for m in final_outputs(outputs)
        if "text/markdown" in m["content"].get("data", {})
    ]
    assert len(found) == 1, found
    return str(found[0])


def printed(outputs: list[dict[str, Any]]) -> str:
    return "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")


def everything(outputs: list[dict[str, Any]]) -> str:
    """All the messages' contents as one string (to look for what must never be there)."""
    return json.dumps([m["content"] for m in outputs], default=str)


def readable(text: str) -> str:
    """Markdown as it reads: backslash escapes and character references undone."""
    return html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text))

"""Shared test setup.

Every test runs with the ANTHROPIC_* and NBCLAUDE_* environment variables removed, so a
developer's real key can never reach a test, and nothing falls back to the network.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

#: A key-shaped secret used by the tests: it must never appear in any output, error or repr.
KEY = "sk-ant-test-N0tAR3alK3y-but-secret-0123456789"

_ENV = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "NBCLAUDE_OFFLINE",
    "NBCLAUDE_MODEL",
    "NBCLAUDE_BUDGET",
    "NBCLAUDE_POLICY",
    "NBCLAUDE_AUTOSAVE",
    "NBCLAUDE_RECORD",
    "NBCLAUDE_REPLAY",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ENV:
        # setenv first, so monkeypatch records the variable's state and restores it (absent)
        # after the test even if the code under test sets it (%claude offline does).
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    # Proxies would route loopback traffic elsewhere.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def run_async(coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
    """Run a coroutine to completion on a fresh thread with its own event loop.

    The browser tests keep Playwright's event loop running on the main thread for the whole
    session, so ``asyncio.run`` there fails; a thread of its own never depends on test order.
    """
    out: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            out.append(asyncio.run(coro))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout)
    if errors:
        raise errors[0]
    assert out, "the coroutine did not finish in time"
    return out[0]


@pytest.fixture(scope="session")
def marked() -> Any:
    """The real ``marked`` (JupyterLab's Markdown parser) in one node process for the session:
    a ``render_harness.Marked``, called with Markdown, returning HTML.

    Skips when node or the pinned package is missing (run ``npm ci``); see render_harness.py.
    """
    from render_harness import start_marked

    with start_marked() as renderer:
        yield renderer

"""Fixtures of the InteractiveShell tests: a shell with nbclaude loaded, and a fresh shared
session on the strict fake (a module may define its own ``ip`` or ``fake`` instead)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import KEY
from IPython.core.interactiveshell import InteractiveShell

import nbclaude
import nbclaude._session.shared as session_module
from nbclaude import Client
from nbclaude.testing import FakeAnthropic


@pytest.fixture(scope="module")
def ip() -> Iterator[InteractiveShell]:
    """The shell, with ``%load_ext nbclaude`` for the module's tests."""
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "nbclaude")
    yield shell
    shell.run_line_magic("unload_ext", "nbclaude")


@pytest.fixture
def fake(ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch) -> FakeAnthropic:
    """A new shared session on Claude Haiku 4.5, talking to this fake (no retries)."""
    fake = FakeAnthropic(api_key=KEY)
    monkeypatch.setattr(session_module, "_default", None)
    session = nbclaude.get_session()
    session.client = Client(api_key=KEY, transport=fake, max_retries=0)
    session.model = "claude-haiku-4-5"
    return fake

"""Fixtures for the fake API's tests: raw httpx clients (in process and over loopback)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from nbclaude.testing import FakeAnthropic

FIXTURES = Path("/work/shared/fixtures")
KEY = "sk-ant-test-fake-0123456789"
HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
MODEL = "claude-haiku-4-5"


def body(text: str = "Hi", **extra: object) -> dict[str, object]:
    """A minimal valid /v1/messages body."""
    return {
        "model": MODEL,
        "max_tokens": 200,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


@pytest.fixture
def fake() -> FakeAnthropic:
    return FakeAnthropic()


@pytest.fixture
def client(fake: FakeAnthropic) -> Iterator[httpx.Client]:
    with httpx.Client(transport=fake, base_url="https://api.anthropic.com", headers=HEADERS) as c:
        yield c


@pytest.fixture
def server(fake: FakeAnthropic) -> Iterator[object]:
    with fake.serve() as s:
        yield s


@pytest.fixture
def loop_client(server: object) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=HEADERS, timeout=10) as c:  # type: ignore[attr-defined]
        yield c


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leaked = [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and t.name.startswith("nbclaude-fake")
    ]
    assert not leaked, f"leaked threads: {leaked}"

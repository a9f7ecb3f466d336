"""Fixtures for the fake API's tests: a fresh fake, raw httpx on it (in process, and ``http``:
in process and over loopback), no leaked threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from nbclaude.testing import FakeAnthropic

HEADERS = {"x-api-key": "sk-ant-test-fake-0123456789", "anthropic-version": "2023-06-01"}


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> FakeAnthropic:
    """A fresh fake; ``@pytest.mark.parametrize("fake", [{"today": ...}], indirect=True)``
    passes constructor options."""
    return FakeAnthropic(**getattr(request, "param", {}))


@pytest.fixture
def client(fake: FakeAnthropic) -> Iterator[httpx.Client]:
    """Raw httpx on the fake, in process."""
    with httpx.Client(transport=fake, base_url="https://api.anthropic.com", headers=HEADERS) as c:
        yield c


@pytest.fixture(params=["in-process", "loopback"])
def http(request: pytest.FixtureRequest, fake: FakeAnthropic) -> Iterator[httpx.Client]:
    """Raw httpx on the fake twice: in process (as a transport) and over loopback HTTP."""
    if request.param == "in-process":
        with httpx.Client(
            transport=fake, base_url="https://api.anthropic.com", headers=HEADERS
        ) as c:
            yield c
    else:
        with (
            fake.serve() as server,
            httpx.Client(base_url=server.url, headers=HEADERS, timeout=10) as c,
        ):
            yield c


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """Every server a test starts is shut down with all its threads."""
    before = set(threading.enumerate())
    yield
    leaked = [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and t.name.startswith("nbclaude-fake")
    ]
    assert not leaked, f"leaked threads: {leaked}"

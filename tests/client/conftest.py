"""Fixtures for the client's tests: a fake that checks the key, it served on loopback, and a
client on it twice (in process and over loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from client.support import fast
from conftest import KEY

from nbclaude import Client
from nbclaude.testing import FakeAnthropic


@pytest.fixture
def fake() -> FakeAnthropic:
    return FakeAnthropic(api_key=KEY)


@pytest.fixture
def server(fake: FakeAnthropic) -> Iterator[Any]:
    with fake.serve(port=0) as srv:
        yield srv


@pytest.fixture(params=["in-process", "loopback"])
def client(request: pytest.FixtureRequest, fake: FakeAnthropic) -> Iterator[Client]:
    if request.param == "in-process":
        yield fast(Client(api_key=KEY, transport=fake))
    else:
        with fake.serve(port=0) as srv:
            c = fast(Client(api_key=KEY, base_url=srv.url))
            yield c
            c.close()

"""Fixtures of the widget tests: every widget made here talks to a recording comm."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nbclaude._widget.widget import ChatWidget

from .frontend import RecordingComm, comm


@pytest.fixture(autouse=True)
def recording_comm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comm, "create_comm", lambda *a, **k: RecordingComm(*a, **k))


@pytest.fixture
def widgets() -> Iterator[list[ChatWidget]]:
    made: list[ChatWidget] = []
    yield made
    for w in made:
        w.close()

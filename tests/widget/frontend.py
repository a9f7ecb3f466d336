"""The front end, played from the kernel: a recording comm and what ``js/view.js`` sends.

The "front end" here speaks exactly what ``js/`` speaks: custom messages in through the
widget's real comm entry point (``_handle_msg``), trait updates and custom messages out
through the comm. The fixtures that install it are in this folder's ``conftest.py``.
"""

from __future__ import annotations

import io
import json
import threading
import time
from typing import Any

import pytest
from conftest import KEY

import nbclaude
from nbclaude._widget.widget import ChatWidget
from nbclaude.testing import FakeAnthropic

comm = pytest.importorskip("comm")
from comm.base_comm import BaseComm  # noqa: E402


class RecordingComm(BaseComm):  # type: ignore[misc]
    """A comm that keeps what the kernel would publish to the front end."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.published: list[tuple[str, dict[str, Any], list[Any]]] = []
        self.lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def publish_msg(
        self,
        msg_type: str,
        data: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        buffers: list[Any] | None = None,
        **keys: Any,
    ) -> None:
        with self.lock:
            self.published.append((msg_type, data or {}, list(buffers or [])))


class FrontEnd:
    """What js/view.js does, seen from the kernel."""

    def __init__(self, widget: ChatWidget) -> None:
        self.widget = widget
        self.comm: RecordingComm = widget.comm

    def send(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        msg = {
            "content": {"data": {"method": "custom", "content": content}},
            "buffers": buffers or [],
        }
        self.widget._handle_msg(msg)

    def set(self, **state: Any) -> None:
        msg = {"content": {"data": {"method": "update", "state": state, "buffer_paths": []}}}
        self.widget._handle_msg({**msg, "buffers": []})

    def customs(self, kind: str | None = None) -> list[dict[str, Any]]:
        with self.comm.lock:
            out = [d["content"] for t, d, _ in self.comm.published if d.get("method") == "custom"]
        return [m for m in out if kind is None or m.get("type") == kind]

    def updates(self, name: str) -> list[Any]:
        with self.comm.lock:
            return [
                d["state"][name]
                for t, d, _ in self.comm.published
                if d.get("method") == "update" and name in d.get("state", {})
            ]

    def wire_bytes(self) -> int:
        with self.comm.lock:
            return sum(len(json.dumps(d)) for t, d, _ in self.comm.published if t == "comm_msg")


def session_with(*script: Any, **kwargs: Any) -> tuple[nbclaude.Session, FakeAnthropic]:
    fake = FakeAnthropic(list(script))
    client = nbclaude.Client(api_key=KEY, transport=fake, max_retries=0)
    kwargs.setdefault("model", "claude-haiku-4-5")
    return nbclaude.Session(client=client, **kwargs), fake


def open_widget(session: nbclaude.Session, made: list[ChatWidget]) -> FrontEnd:
    widget = ChatWidget(session=session)
    made.append(widget)
    _wait_idle(widget)  # the model list loads in the background
    return FrontEnd(widget)


def _wait_idle(widget: ChatWidget, timeout: float = 10.0) -> bool:
    """Wait until the widget's worker threads (turns, image conversion, model list) are done."""
    deadline = time.monotonic() + timeout
    for thread in list(widget._workers):
        thread.join(max(0.0, deadline - time.monotonic()))
    return all(not t.is_alive() for t in widget._workers)


def posts(fake: FakeAnthropic) -> list[dict[str, Any]]:
    """The bodies of the POST /v1/messages requests the fake received."""
    return [r.json for r in fake.requests if r.method == "POST" and r.path == "/v1/messages"]


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.005)


def png_bytes(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()

"""Test support: the recorded fixtures, and the official SDK as an oracle for our parser.

The SDK is a test-only dependency. It runs on ``httpx2`` (its own HTTP stack), so in-memory it
gets its bytes from an ``httpx2.MockTransport``; over loopback it talks to the fake server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "recorded"


def restore_blank_line(body: str) -> str:
    """Two recorded files lack the final blank line (a file artifact, docs/api.md §4.1)."""
    return body.rstrip("\r\n") + "\n\n"


def _is_sse(text: str) -> bool:
    return text.lstrip().startswith("event:")


def sse_fixtures() -> Iterator[tuple[str, str]]:
    """Every raw SSE body in the fixtures: (name, body with the final blank line restored)."""
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix in (".txt", ".sse"):
            text = path.read_text()
            if _is_sse(text):
                yield path.relative_to(FIXTURES).as_posix(), restore_blank_line(text)
        elif path.suffix == ".json":
            data = json.loads(path.read_text())
            if not isinstance(data, list):
                continue
            for i, item in enumerate(data):
                body = None
                if isinstance(item, str) and _is_sse(item):
                    body = item
                elif isinstance(item, dict):
                    resp = item.get("response") or {}
                    if isinstance(resp.get("body"), str) and _is_sse(resp["body"]):
                        body = resp["body"]
                if body is not None:
                    name = f"{path.relative_to(FIXTURES).as_posix()}[{i}]"
                    yield name, restore_blank_line(body)


def exchange_fixtures() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Recorded request/response exchanges (Python SDK inline-snapshot format)."""
    for path in sorted((FIXTURES / "anthropic-sdk-python").glob("*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, list) and data and isinstance(data[0], dict):
            yield path.name, data


def sdk_final_message(body: str | bytes) -> dict[str, Any]:
    """The official SDK's final Message for an SSE body (in memory), as a plain dict.

    It uses the SDK's *beta* stream: its types are a superset of the GA ones, so beta blocks
    in the fixtures (``compaction``, ``fallback``) are accumulated rather than dropped.
    """
    import anthropic
    import httpx2

    raw = body.encode() if isinstance(body, str) else body

    def handler(request: Any) -> Any:
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream; charset=utf-8"}, content=raw
        )

    client = anthropic.Anthropic(
        api_key="sk-ant-oracle",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        max_retries=0,
    )
    with client.beta.messages.stream(
        model="claude-haiku-4-5", max_tokens=16, messages=[{"role": "user", "content": "x"}]
    ) as stream:
        for _ in stream:
            pass
        return stream.get_final_message().to_dict()


def drop_none(value: Any) -> Any:
    """Remove ``None``-valued keys recursively (the SDK's models fill absent keys with None)."""
    if isinstance(value, dict):
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_none(v) for v in value]
    return value


def comparable(message: dict[str, Any]) -> dict[str, Any]:
    """The parts of a Message the oracle comparison looks at."""
    keys = ("id", "model", "role", "content", "stop_reason", "stop_sequence", "usage")
    return drop_none({k: message.get(k) for k in keys})

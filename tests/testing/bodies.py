"""Request bodies and calls for the fake's validation tests: post a body, read its error."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import httpx

from nbclaude.testing import FakeAnthropic

HEADERS = {"x-api-key": "sk-ant-test-fake-0123456789", "anthropic-version": "2023-06-01"}
RECORDED = Path(__file__).parents[1] / "fixtures" / "recorded" / "anthropic-sdk-python"
HAIKU = "claude-haiku-4-5"  # accepts prefill and budget thinking


def post(payload: Any, path: str = "/v1/messages", **kw: Any) -> httpx.Response:
    fake = kw.pop("fake", None) or FakeAnthropic()
    with httpx.Client(transport=fake, base_url="https://api.anthropic.com", headers=HEADERS) as c:
        if isinstance(payload, (bytes, str)):
            return c.post(path, content=payload, headers={"content-type": "application/json"})
        return c.post(path, json=payload, **kw)


def error(payload: Any, path: str = "/v1/messages", **kw: Any) -> tuple[int, str, str]:
    r = post(payload, path, **kw)
    assert r.status_code >= 400, r.text
    assert r.headers["x-should-retry"] == "false"
    env = r.json()
    assert env["type"] == "error" and env["request_id"] == r.headers["request-id"]
    return r.status_code, env["error"]["type"], env["error"]["message"]


def bad(payload: Any, path: str = "/v1/messages", **kw: Any) -> str:
    status, kind, message = error(payload, path, **kw)
    assert (status, kind) == (400, "invalid_request_error"), message
    return message


def req(*messages: Any, model: str = HAIKU, max_tokens: int = 1000, **extra: Any) -> dict[str, Any]:
    msgs = [
        m if isinstance(m, dict) else {"role": "user", "content": m} for m in messages or ["Hi"]
    ]
    return {"model": model, "max_tokens": max_tokens, "messages": msgs, **extra}


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def assistant(content: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": content}


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (4, 3)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, fmt)
    return buf.getvalue()


def image_block(data: bytes, media_type: str = "image/png") -> dict[str, Any]:
    return {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": media_type,
            "data": base64.b64encode(data).decode(),
        },
    }


def tool_use(tid: str = "toolu_A", name: str = "get_weather") -> dict[str, Any]:
    return {"type": "tool_use", "id": tid, "name": name, "input": {"city": "Paris"}}


def tool_result(tid: str = "toolu_A") -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": tid, "content": "sunny"}

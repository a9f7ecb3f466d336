"""Calls and bodies for the fake's Message Batches tests."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

HEADERS = {"x-api-key": "sk-ant-test-fake-0123456789", "anthropic-version": "2023-06-01"}
FIXTURES = Path(__file__).parent.parent / "fixtures" / "recorded"
BATCH_KEYS = {
    "id",
    "type",
    "processing_status",
    "request_counts",
    "created_at",
    "expires_at",
    "ended_at",
    "cancel_initiated_at",
    "archived_at",
    "results_url",
}


def params(text: str = "Hello", **extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def requests_of(*texts: str) -> list[dict[str, Any]]:
    return [{"custom_id": f"r{i}", "params": params(t)} for i, t in enumerate(texts)]


def create(http: httpx.Client, requests: list[dict[str, Any]]) -> dict[str, Any]:
    r = http.post("/v1/messages/batches", json={"requests": requests})
    assert r.status_code == 200, r.text
    return dict(r.json())


def poll(http: httpx.Client, batch_id: str) -> dict[str, Any]:
    r = http.get(f"/v1/messages/batches/{batch_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def results(http: httpx.Client, batch_id: str) -> list[dict[str, Any]]:
    r = http.get(f"/v1/messages/batches/{batch_id}/results")
    assert r.status_code == 200, r.text
    assert r.text.endswith("\n")
    return [json.loads(line) for line in r.text.splitlines()]


def by_id(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {line["custom_id"]: line["result"] for line in lines}


def error_of(r: httpx.Response) -> tuple[int, str, str]:
    body = r.json()
    return r.status_code, body["error"]["type"], body["error"]["message"]


def parse_time(text: str) -> datetime:
    assert text.endswith("Z")
    return datetime.fromisoformat(text[:-1] + "+00:00")


# -- shapes ------------------------------------------------------------------------------------

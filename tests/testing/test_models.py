"""GET /v1/models and /v1/models/{id}: pagination, shape, resolution, extra models."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from nbclaude._api.models import MODELS
from nbclaude.testing import FakeAnthropic

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}


def get(path: str, fake: FakeAnthropic | None = None, **params: Any) -> httpx.Response:
    with httpx.Client(
        transport=fake or FakeAnthropic(), base_url="https://x", headers=HEADERS
    ) as c:
        return c.get(path, params=params)


def all_ids(fake: FakeAnthropic | None = None) -> list[str]:
    return [m["id"] for m in get("/v1/models", fake, limit=1000).json()["data"]]


def test_first_page() -> None:
    page = get("/v1/models").json()
    assert set(page) == {"data", "has_more", "first_id", "last_id"}
    assert len(page["data"]) == min(20, len(MODELS))
    assert page["first_id"] == page["data"][0]["id"]
    assert page["last_id"] == page["data"][-1]["id"]


def test_every_table_model_is_listed_once_newest_first() -> None:
    ids = all_ids()
    assert len(ids) == len(MODELS) == len(set(ids))
    assert {
        "claude-haiku-4-5-20251001",
        "claude-sonnet-4-5-20250929",
        "claude-opus-4-5-20251101",
    } <= set(ids)
    assert "claude-haiku-4-5" not in ids  # aliases resolve, the list shows snapshot ids
    data = get("/v1/models", limit=1000).json()["data"]
    dates = [m["created_at"] for m in data]
    assert dates == sorted(dates, reverse=True)


def test_model_info_shape() -> None:
    info = get("/v1/models/claude-opus-4-7").json()
    assert info["type"] == "model" and info["id"] == "claude-opus-4-7"
    assert info["display_name"] == "Claude Opus 4.7"
    assert info["created_at"].endswith("T00:00:00Z")
    assert info["max_tokens"] == 128_000 and info["max_input_tokens"] == 1_000_000
    caps = info["capabilities"]
    assert caps["image_input"] == {"supported": True}
    assert caps["thinking"]["types"] == {
        "adaptive": {"supported": True},
        "enabled": {"supported": False},
    }
    assert caps["effort"]["xhigh"] == {"supported": True}
    haiku = get("/v1/models/claude-haiku-4-5").json()
    assert haiku["id"] == "claude-haiku-4-5-20251001" and haiku["max_tokens"] == 64_000
    assert haiku["capabilities"]["thinking"]["types"]["enabled"] == {"supported": True}
    assert haiku["capabilities"]["effort"]["supported"] is False


def test_unknown_model_is_404() -> None:
    r = get("/v1/models/claude-nope")
    assert r.status_code == 404
    assert r.json()["error"] == {"type": "not_found_error", "message": "model: claude-nope"}


def test_pagination_forwards_and_backwards() -> None:
    ids = all_ids()
    got: list[str] = []
    after = None
    while True:
        page = get("/v1/models", limit=4, **({"after_id": after} if after else {})).json()
        got += [m["id"] for m in page["data"]]
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert got == ids
    back = get("/v1/models", limit=4, before_id=ids[10]).json()
    assert [m["id"] for m in back["data"]] == ids[6:10]
    assert back["has_more"] is True
    first = get("/v1/models", limit=4, before_id=ids[3]).json()
    assert [m["id"] for m in first["data"]] == ids[:3] and first["has_more"] is False
    end = get("/v1/models", after_id=ids[-1]).json()
    assert end == {"data": [], "has_more": False, "first_id": None, "last_id": None}


@pytest.mark.parametrize("limit", ["0", "1001", "x"])
def test_limit_bounds(limit: str) -> None:
    r = get("/v1/models", limit=limit)
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"


def test_extra_models_are_listed_and_usable() -> None:
    extra = [f"claude-test-{i:04d}" for i in range(50)]
    fake = FakeAnthropic(
        models=[
            *extra,
            {"id": "claude-new-9", "display_name": "New", "created_at": "2030-01-01T00:00:00Z"},
        ]
    )
    ids = all_ids(fake)
    assert ids[0] == "claude-new-9"  # newest first
    assert set(extra) <= set(ids)
    assert get("/v1/models/claude-test-0007", fake).json()["display_name"] == "claude-test-0007"

"""GET /v1/models and /v1/models/{id}: pagination, shape, resolution, extra models."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from nbclaude._api.models import MODELS, lifecycle
from nbclaude.testing import FakeAnthropic

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
TODAY = "2026-12-04"
#: The table's models the list shows on TODAY (retired ones only when asked for).
LISTED = [m for m in MODELS if lifecycle(m, today=TODAY) != "retired"]
RETIRED = [m for m in MODELS if lifecycle(m, today=TODAY) == "retired"]


def get(path: str, fake: FakeAnthropic | None = None, **params: Any) -> httpx.Response:
    with httpx.Client(
        transport=fake or FakeAnthropic(today=TODAY), base_url="https://x", headers=HEADERS
    ) as c:
        return c.get(path, params=params)


def all_ids(fake: FakeAnthropic | None = None) -> list[str]:
    return [m["id"] for m in get("/v1/models", fake, limit=1000).json()["data"]]


def test_first_page() -> None:
    page = get("/v1/models").json()
    assert set(page) == {"data", "has_more", "first_id", "last_id"}
    assert len(page["data"]) == min(20, len(LISTED))
    assert page["first_id"] == page["data"][0]["id"]
    assert page["last_id"] == page["data"][-1]["id"]


def test_every_table_model_is_listed_once_newest_first() -> None:
    ids = all_ids()
    assert len(ids) == len(LISTED) == len(set(ids))
    assert {"claude-haiku-4-5-20251001", "claude-opus-4-5-20251101"} <= set(ids)
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
        "between_tools": {"supported": False},
        "disabled": {"supported": True},
    }
    assert info["lifecycle"] == "active" and info["retires_at"] is None
    assert info["line"] == "opus"
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


# -- lifecycle (issue #15 gap 2) ------------------------------------------------------------


def test_retired_models_are_not_listed_unless_asked_for() -> None:
    """Failed before: claude-sonnet-4-5 was listed (and answered) after its end of life."""
    assert RETIRED and "claude-sonnet-4-5" in RETIRED
    assert "claude-sonnet-4-5-20250929" not in all_ids()
    retired = get("/v1/models", **{"lifecycle[]": "retired", "limit": 1000}).json()["data"]
    assert {m["id"] for m in retired} == {MODELS[m].snapshot or m for m in RETIRED}
    assert all(m["lifecycle"] == "retired" for m in retired)
    sonnet = next(m for m in retired if m["id"] == "claude-sonnet-4-5-20250929")
    assert sonnet["retires_at"] == "2026-11-30T00:00:00Z"
    both = get("/v1/models", **{"lifecycle[]": ["active", "retired"], "limit": 1000}).json()
    assert "claude-sonnet-4-5-20250929" in {m["id"] for m in both["data"]}
    assert "claude-opus-4-5-20251101" not in {m["id"] for m in both["data"]}  # deprecated


def test_deprecated_models_are_listed_with_their_dates() -> None:
    info = get("/v1/models/claude-opus-4-5").json()
    assert info["lifecycle"] == "deprecated"
    assert info["deprecated_at"] == "2026-11-23T00:00:00Z"
    assert info["retires_at"] == "2027-01-22T00:00:00Z"


def test_a_retired_model_still_has_its_catalogue_entry() -> None:
    info = get("/v1/models/claude-sonnet-4-5").json()
    assert info["id"] == "claude-sonnet-4-5-20250929" and info["lifecycle"] == "retired"


@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "claude-sonnet-4-5-20250929"])
def test_a_retired_model_answers_404_from_its_retirement_day(model: str) -> None:
    body = {"model": model, "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}]}
    for today, status in (("2026-11-29", 200), ("2026-11-30", 404), (TODAY, 404)):
        with httpx.Client(
            transport=FakeAnthropic(today=today), base_url="https://x", headers=HEADERS
        ) as c:
            r = c.post("/v1/messages", json=body)
        assert r.status_code == status, today
    assert r.json()["error"] == {"type": "not_found_error", "message": f"model: {model}"}


def test_the_default_day_is_the_real_utc_date() -> None:
    import datetime as dt

    real = dt.datetime.now(dt.timezone.utc).date().isoformat()
    fake = FakeAnthropic()
    ids = all_ids(fake)
    assert ("claude-sonnet-4-5-20250929" in ids) == (real < "2026-11-30")


def test_bad_lifecycle_filter_is_400() -> None:
    r = get("/v1/models", **{"lifecycle[]": "gone"})
    assert r.status_code == 400 and "lifecycle" in r.json()["error"]["message"]

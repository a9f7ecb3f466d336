"""The fake rejects what the real API rejects, with the same status, type and message: the
body's shape, models, ``max_tokens``, sizes, ``cache_control``, ``count_tokens`` (``_validate.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from nbclaude.testing import FakeAnthropic

from .bodies import (
    HAIKU,
    bad,
    error,
    post,
    req,
    user,
)


def test_a_valid_request_passes() -> None:
    assert post(req()).status_code == 200


# -- body shape ------------------------------------------------------------------------------


def test_invalid_json() -> None:
    assert bad(b'{"model": ') == (
        "The request body is not valid JSON: Expecting value: line 1 column 11 (char 10)"
    )


@pytest.mark.parametrize("missing", ["model", "max_tokens", "messages"])
def test_required_fields(missing: str) -> None:
    body = req()
    del body[missing]
    assert bad(body) == f"{missing}: Field required"


def test_unknown_top_level_key() -> None:
    assert bad(req(prompt="x")) == "prompt: Extra inputs are not permitted"
    assert bad(req(betas=["x"])) == "betas: Extra inputs are not permitted"


def test_beta_only_keys_need_the_beta_flag() -> None:
    body = req(context_management={"edits": []})
    assert bad(body) == "context_management: Extra inputs are not permitted"
    assert post(body, "/v1/messages?beta=true").status_code == 200
    assert (
        post(body, headers={"anthropic-beta": "context-management-2025-06-27"}).status_code == 200
    )


def test_unknown_model_is_404() -> None:
    assert error(req(model="sonnet4")) == (404, "not_found_error", "model: sonnet4")


@pytest.mark.parametrize(
    "model",
    [
        HAIKU,
        "claude-haiku-4-5-20251001",
        "claude-sonnet-4-5-20250929",
        "claude-opus-4-5-20251101",
        "claude-sonnet-5-5",
        "claude-opus-4-8",
    ],
)
def test_known_models(model: str) -> None:
    fake = FakeAnthropic(today="2026-11-29")  # the day before claude-sonnet-4-5 retired
    assert post(req(model=model), fake=fake).status_code == 200


def test_extra_models() -> None:
    fake = FakeAnthropic(models=["claude-test-1", {"id": "claude-test-2", "max_tokens": 100}])
    assert post(req(model="claude-test-1"), fake=fake).status_code == 200
    assert bad(req(model="claude-test-2", max_tokens=101), fake=fake) == (
        "max_tokens: 101 > 100, which is the maximum allowed number of output tokens for "
        "claude-test-2"
    )


def test_max_tokens_over_the_model_limit() -> None:
    assert bad(req(max_tokens=64001)) == (
        "max_tokens: 64001 > 64000, which is the maximum allowed number of output tokens for "
        "claude-haiku-4-5-20251001"
    )
    assert post(req(max_tokens=64000)).status_code == 200
    assert post(req(model="claude-opus-5", max_tokens=128000)).status_code == 200


def test_max_tokens_zero_is_valid() -> None:
    r = post(req(max_tokens=0))
    assert r.status_code == 200
    assert r.json()["content"] == [] and r.json()["stop_reason"] == "max_tokens"
    assert r.json()["usage"]["output_tokens"] == 0


@pytest.mark.parametrize("value", ["100", 1.5, True, -1])
def test_max_tokens_type(value: Any) -> None:
    assert bad(req(max_tokens=value)).startswith("max_tokens: Input should be")


def test_request_too_large() -> None:
    huge = req("x" * (32 * 1024 * 1024))
    assert error(huge) == (
        413,
        "request_too_large",
        "Request exceeds the maximum allowed number of bytes.",
    )


# -- cache_control ---------------------------------------------------------------------------


def test_at_most_four_cache_control_blocks() -> None:
    cc = {"type": "ephemeral"}
    system = [{"type": "text", "text": f"s{i}", "cache_control": cc} for i in range(2)]
    blocks = [{"type": "text", "text": f"t{i}", "cache_control": cc} for i in range(3)]
    assert bad(req(user(blocks), system=system)) == (
        "A maximum of 4 blocks with cache_control may be provided. Found 5."
    )
    assert post(req(user(blocks[:2]), system=system)).status_code == 200


def test_prompt_too_long() -> None:
    body = req(" a" * 200_001)
    message = bad(body)
    assert message.startswith("prompt is too long: ") and message.endswith(" > 200000 maximum")
    assert post(req(" a" * 150_000)).status_code == 200


# -- count_tokens ----------------------------------------------------------------------------

COUNT = "/v1/messages/count_tokens"


def test_count_tokens_is_validated_too() -> None:
    body = {"model": HAIKU, "messages": [user("hello")]}
    assert post(body, COUNT).json() == {"input_tokens": post(body, COUNT).json()["input_tokens"]}
    assert bad({**body, "max_tokens": 10}, COUNT) == "max_tokens: Extra inputs are not permitted"
    assert bad({"model": HAIKU}, COUNT) == "messages: Field required"
    assert bad({"model": HAIKU, "messages": [user(" ")]}, COUNT) == (
        "messages: text content blocks must contain non-whitespace text"
    )
    assert error({"model": "nope", "messages": [user("x")]}, COUNT) == (
        404,
        "not_found_error",
        "model: nope",
    )

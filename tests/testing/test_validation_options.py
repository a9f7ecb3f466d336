"""The fake's checks of the request's options (``_options.py``): tool definitions, thinking,
sampling, tool_choice and the small fields; the real API's texts."""

from __future__ import annotations

import pytest

from .bodies import (
    bad,
    post,
    req,
)


def test_tool_definitions() -> None:
    tool = {"name": "bad name!", "input_schema": {"type": "object"}}
    assert bad(req(tools=[tool])).startswith("tools.0.custom.name: String should match pattern")
    assert bad(req(tools=[{"name": "t"}])) == "tools.0.custom.input_schema: Field required"
    twice = [{"name": "t", "input_schema": {"type": "object"}}] * 2
    assert bad(req(tools=twice)) == "tools: Tool names must be unique."
    server_tool = {"type": "web_search_20250305", "name": "web_search"}
    assert post(req(tools=[server_tool])).status_code == 200


# -- thinking and sampling -------------------------------------------------------------------


def test_thinking_budget_rules() -> None:
    assert bad(req(thinking={"type": "enabled", "budget_tokens": 1000}, max_tokens=4000)) == (
        "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
    )
    assert bad(req(thinking={"type": "enabled", "budget_tokens": 2000}, max_tokens=2000)) == (
        "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our "
        "documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
        "#max-tokens-and-context-window-size"
    )
    assert (
        post(req(thinking={"type": "enabled", "budget_tokens": 1024}, max_tokens=2000)).status_code
        == 200
    )


@pytest.mark.parametrize("model", ["claude-opus-4-7", "claude-opus-5", "claude-sonnet-5-5"])
def test_enabled_thinking_on_adaptive_only_models(model: str) -> None:
    body = req(model=model, thinking={"type": "enabled", "budget_tokens": 2000}, max_tokens=4000)
    assert bad(body) == (
        '"thinking.type.enabled" is not supported for this model. Use '
        '"thinking.type.adaptive" and "output_config.effort" to control thinking behavior.'
    )
    assert post(req(model=model, thinking={"type": "adaptive"})).status_code == 200


def test_enabled_thinking_still_works_on_4_6() -> None:
    body = req(
        model="claude-sonnet-4-6",
        thinking={"type": "enabled", "budget_tokens": 2000},
        max_tokens=4000,
    )
    assert post(body).status_code == 200


def test_temperature_with_thinking() -> None:
    body = req(
        thinking={"type": "enabled", "budget_tokens": 2000}, max_tokens=4000, temperature=0.5
    )
    assert bad(body).startswith(
        "`temperature` may only be set to 1 when thinking is enabled. Please consult our "
        "documentation at https://docs.claude.com/"
    )
    body["temperature"] = 1
    assert post(body).status_code == 200


def test_forced_tool_choice_with_thinking() -> None:
    tool = {"name": "t", "input_schema": {"type": "object"}}
    body = req(
        thinking={"type": "enabled", "budget_tokens": 2000},
        max_tokens=4000,
        tools=[tool],
        tool_choice={"type": "any"},
    )
    assert bad(body) == "Thinking may not be enabled when tool_choice forces tool use."


def test_sampling_parameters_removed_from_4_7_on() -> None:
    assert bad(req(model="claude-opus-4-7", temperature=0.2)) == (
        "`temperature` is deprecated for this model."
    )
    assert bad(req(model="claude-sonnet-5-5", top_k=5)) == "`top_k` is deprecated for this model."
    assert post(req(model="claude-opus-4-7", temperature=1)).status_code == 200
    assert post(req(model="claude-sonnet-4-6", temperature=0.2)).status_code == 200


def test_temperature_range() -> None:
    assert bad(req(temperature=1.5)) == "temperature: Input should be less than or equal to 1"


def test_small_fields() -> None:
    assert bad(req(metadata={"user_id": "u1", "email": "x"})) == (
        "metadata.email: Extra inputs are not permitted"
    )
    assert post(req(metadata={"user_id": "u1"})).status_code == 200
    assert (
        bad(req(service_tier="fast")) == "service_tier: Input should be 'auto' or 'standard_only'"
    )
    tool = {"name": "t", "input_schema": {"type": "object"}}
    assert bad(req(tools=[tool], tool_choice={"type": "none", "name": "t"})) == (
        "tool_choice.none.name: Extra inputs are not permitted"
    )
    ok = req(tools=[tool], tool_choice={"type": "auto", "disable_parallel_tool_use": True})
    assert post(ok).status_code == 200
    assert bad(req(tools=[tool], tool_choice={"type": "tool", "name": "other"})).startswith(
        "tool_choice.tool.name:"
    )

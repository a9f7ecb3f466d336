"""The fake's checks of ``messages`` (``_messages.py``): turns, content, prefill, the same-role
merge, tool_use/tool_result pairing, thinking blocks; the real API's texts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from nbclaude.testing import FakeAnthropic

from .bodies import (
    HAIKU,
    RECORDED,
    assistant,
    bad,
    error,
    post,
    req,
    tool_result,
    tool_use,
    user,
)

# -- messages --------------------------------------------------------------------------------


def test_no_messages() -> None:
    assert bad(req() | {"messages": []}) == "messages: at least one message is required"


def test_bad_role() -> None:
    assert bad(req({"role": "system", "content": "x"})) == (
        "messages.0.role: Input should be 'user' or 'assistant'"
    )


def test_unknown_message_key() -> None:
    assert bad(req({"role": "user", "content": "x", "name": "bob"})) == (
        "messages.0.name: Extra inputs are not permitted"
    )


def test_unknown_block_key() -> None:
    block = {**tool_use(), "text": "hi"}
    msgs = [user("q"), assistant([block]), user([tool_result()])]
    assert bad(req(*msgs)) == "messages.1.content.0.tool_use.text: Extra inputs are not permitted"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ([{"type": "text", "text": ""}], "messages: text content blocks must be non-empty"),
        (
            [{"type": "text", "text": " \n\t"}],
            "messages: text content blocks must contain non-whitespace text",
        ),
        ("   ", "messages: text content blocks must contain non-whitespace text"),
        (
            [{"type": "text", "text": "ok"}, {"type": "text", "text": " "}],
            "messages: text content blocks must contain non-whitespace text",
        ),
    ],
)
def test_empty_and_whitespace_text(content: Any, message: str) -> None:
    assert bad(req(user(content))) == message


def test_empty_text_inside_a_tool_result() -> None:
    result = {
        "type": "tool_result",
        "tool_use_id": "toolu_A",
        "content": [{"type": "text", "text": ""}],
    }
    msgs = [user("q"), assistant([tool_use()]), user([result])]
    assert bad(req(*msgs)) == "messages: text content blocks must be non-empty"


@pytest.mark.parametrize("empty", [[], ""])
def test_empty_content(empty: Any) -> None:
    msgs = [user("a"), assistant(empty), user("b")]
    assert bad(req(*msgs)) == (
        "messages.1: all messages must have non-empty content except for the optional final "
        "assistant message"
    )
    assert bad(req(user(empty))) == (
        "messages.0: all messages must have non-empty content except for the optional final "
        "assistant message"
    )


def test_empty_final_assistant_is_allowed() -> None:
    assert post(req(user("a"), assistant([]))).status_code == 200


def test_trailing_whitespace_prefill() -> None:
    assert bad(req(user("a"), assistant("The answer is "))) == (
        "messages: final assistant content cannot end with trailing whitespace"
    )
    assert bad(req(user("a"), assistant([{"type": "text", "text": "x\n"}]))) == (
        "messages: final assistant content cannot end with trailing whitespace"
    )
    assert post(req(user("a"), assistant("The answer is"))).status_code == 200


@pytest.mark.parametrize("model", ["claude-sonnet-4-6", "claude-opus-4-6", "claude-sonnet-5-5"])
def test_prefill_on_models_that_reject_it(model: str) -> None:
    assert bad(req(user("a"), assistant("The answer is ("), model=model)) == (
        "This model does not support assistant message prefill. The conversation must end with "
        "a user message."
    )


@pytest.mark.parametrize("model", [HAIKU, "claude-sonnet-4-5", "claude-opus-4-5"])
def test_prefill_on_models_that_accept_it(model: str) -> None:
    fake = FakeAnthropic(today="2026-11-29")  # claude-sonnet-4-5 retired the day after
    body = req(user("a"), assistant("The answer is ("), model=model)
    assert post(body, fake=fake).status_code == 200


# -- same-role merge -------------------------------------------------------------------------


def test_consecutive_same_role_turns_are_merged_not_rejected() -> None:
    assert (
        post(req(user("a"), user("b"), assistant("c"), assistant("d"), user("e"))).status_code
        == 200
    )


def test_error_paths_use_merged_indices() -> None:
    # Request indices 0,1 are users (merged into 0), 2 is the assistant: merged index 1.
    msgs = [user("a"), user("b"), assistant([tool_use()]), user("no result")]
    assert bad(req(*msgs)) == (
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: "
        "toolu_A. Each `tool_use` block must have a corresponding `tool_result` block in the "
        "next message."
    )
    # An orphan tool_result in the second of two user turns: merged path messages.0.content.1.
    msgs = [user("a"), user([tool_result("toolu_X")])]
    assert bad(req(*msgs)) == (
        "messages.0.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_X. "
        "Each `tool_result` block must have a corresponding `tool_use` block in the previous "
        "message."
    )


def test_recorded_400_is_reproduced_exactly() -> None:
    """The real API's answer to a recorded request with two user turns (fixture f59a9391)."""
    exchanges = json.loads((RECORDED / "f59a9391-643b-422c-96dc-1f28bc7ea4d7.json").read_text())
    recorded = exchanges[1]
    assert recorded["response"]["status_code"] == 400
    assert error(recorded["request"]["body"]) == (
        400,
        recorded["response"]["body"]["error"]["type"],
        recorded["response"]["body"]["error"]["message"],
    )


def test_recorded_requests_that_succeeded_are_accepted() -> None:
    ok = 0
    for path in sorted(RECORDED.glob("*.json")):
        for exchange in json.loads(path.read_text()):
            if exchange["response"]["status_code"] == 200 and exchange["request"]["body"]:
                url = exchange["request"]["url"]
                target = "/v1/messages?beta=true" if "beta=true" in url else "/v1/messages"
                headers = {
                    "anthropic-beta": exchange["request"]["headers"].get("anthropic-beta", "")
                }
                body = exchange["request"]["body"]
                if "messages" not in body:
                    continue
                r = post(
                    body,
                    target,
                    headers={k: v for k, v in headers.items() if v},
                    fake=FakeAnthropic(today="2026-03-01"),  # when they were recorded
                )
                assert r.status_code == 200, (path.name, r.text)
                ok += 1
    assert ok >= 20


# -- tools -----------------------------------------------------------------------------------


def test_tool_results_must_come_first() -> None:
    msgs = [
        user("q"),
        assistant([tool_use()]),
        user([{"type": "text", "text": "here"}, tool_result()]),
    ]
    assert bad(req(*msgs)) == (
        "messages.2: Did not find 1 tool_result block(s) at the beginning of this message. "
        "Messages following tool_use blocks must begin with a matching number of tool_result "
        "blocks."
    )


def test_parallel_tool_use_needs_all_results() -> None:
    msgs = [
        user("q"),
        assistant([tool_use("toolu_A"), tool_use("toolu_B", "get_time")]),
        user([tool_result("toolu_A")]),
    ]
    assert bad(req(*msgs)).startswith(
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: "
        "toolu_B."
    )
    msgs[2] = user([tool_result("toolu_B"), tool_result("toolu_A"), {"type": "text", "text": "ok"}])
    assert post(req(*msgs)).status_code == 200


def test_tool_use_as_the_final_message() -> None:
    assert bad(req(user("q"), assistant([tool_use()]))).startswith(
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after"
    )


def test_final_block_cannot_be_thinking() -> None:
    thinking = {"type": "thinking", "thinking": "hmm", "signature": "sig"}
    msgs = [user("a"), assistant([thinking]), user("b")]
    assert (
        bad(req(*msgs))
        == "messages.1: The final block in an assistant message cannot be `thinking`."
    )


def test_thinking_in_a_final_assistant_message_without_thinking() -> None:
    thinking = {"type": "thinking", "thinking": "hmm", "signature": "sig"}
    msgs = [user("a"), assistant([thinking, {"type": "text", "text": "so"}])]
    assert bad(req(*msgs)) == (
        "messages.1.content.0: When thinking is disabled, an `assistant` message in the final "
        "position cannot contain `thinking`."
    )


def test_thinking_must_lead_a_tool_use_turn_being_continued() -> None:
    msgs = [user("q"), assistant([tool_use()]), user([tool_result()])]
    body = req(*msgs, thinking={"type": "enabled", "budget_tokens": 2000}, max_tokens=4000)
    assert bad(body).startswith(
        "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
        "`tool_use`. When `thinking` is enabled, a final `assistant` message must start with a "
        "thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks)."
    )
    msgs[1] = assistant([{"type": "thinking", "thinking": "t", "signature": "s"}, tool_use()])
    body = req(*msgs, thinking={"type": "enabled", "budget_tokens": 2000}, max_tokens=4000)
    assert post(body).status_code == 200


def test_thinking_signatures_made_by_the_fake_are_checked() -> None:
    fake = FakeAnthropic()
    body = req("Why?", thinking={"type": "enabled", "budget_tokens": 1024}, max_tokens=2000)
    first = post(body, fake=fake).json()
    body["messages"] += [{"role": "assistant", "content": first["content"]}, user("And then?")]
    assert post(body, fake=fake).status_code == 200  # sent back unchanged: fine
    edited = json.loads(json.dumps(body))
    edited["messages"][1]["content"][0]["thinking"] += " (edited)"
    assert bad(edited) == "messages.1.content.0: Invalid `signature` in `thinking` block"
    emptied = json.loads(json.dumps(body))
    emptied["messages"][1]["content"][0]["signature"] = ""
    assert bad(emptied) == "messages.1.content.0: Invalid `signature` in `thinking` block"
    foreign = json.loads(json.dumps(body))
    foreign["messages"][1]["content"][0]["signature"] = "EqQBCgIYAhIM-from-the-real-API"
    assert post(foreign).status_code == 200  # cannot be checked offline

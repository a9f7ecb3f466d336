"""The fake rejects what the real API rejects, with the same status, type and message."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

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
    assert post(req(model=model)).status_code == 200


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
    assert post(req(user("a"), assistant("The answer is ("), model=model)).status_code == 200


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
                r = post(body, target, headers={k: v for k, v in headers.items() if v})
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


def test_tool_definitions() -> None:
    tool = {"name": "bad name!", "input_schema": {"type": "object"}}
    assert bad(req(tools=[tool])).startswith("tools.0.custom.name: String should match pattern")
    assert bad(req(tools=[{"name": "t"}])) == "tools.0.custom.input_schema: Field required"
    twice = [{"name": "t", "input_schema": {"type": "object"}}] * 2
    assert bad(req(tools=twice)) == "tools: Tool names must be unique."
    server_tool = {"type": "web_search_20250305", "name": "web_search"}
    assert post(req(tools=[server_tool])).status_code == 200


# -- images ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_images_of_every_format_pass(fmt: str, media_type: str) -> None:
    r = post(req(user([image_block(image_bytes(fmt), media_type), {"type": "text", "text": "?"}])))
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("fmt", "declared", "actual"),
    [
        ("PNG", "image/jpeg", "image/png"),
        ("JPEG", "image/png", "image/jpeg"),
        ("WEBP", "image/gif", "image/webp"),
        ("GIF", "image/webp", "image/gif"),
    ],
)
def test_image_media_type_must_match_the_bytes(fmt: str, declared: str, actual: str) -> None:
    msgs = [user([{"type": "text", "text": "look"}, image_block(image_bytes(fmt), declared)])]
    assert bad(req(*msgs)) == (
        f"messages.0.content.1.image.source.base64: The image was specified using the "
        f"{declared} media type, but the image appears to be a {actual} image"
    )


def test_unsupported_media_type() -> None:
    assert bad(req(user([image_block(image_bytes(), "image/bmp")]))) == (
        "messages.0.content.0.image.source.base64.media_type: Input should be 'image/jpeg', "
        "'image/png', 'image/gif' or 'image/webp'"
    )


def test_bytes_that_are_no_image() -> None:
    assert bad(req(user([image_block(b"hello, not an image")]))) == (
        "messages.0.content.0.image.source.base64.data: Could not process image"
    )
    block = image_block(b"x")
    block["source"]["data"] = "data:image/png;base64,iVBOR"
    assert bad(req(user([block]))).startswith("messages.0.content.0.image.source.base64.data:")


def test_base64_over_the_limit() -> None:
    block = image_block(image_bytes())
    block["source"]["data"] = "A" * 5_242_881
    assert bad(req(user([{"type": "text", "text": "x"}, block]))) == (
        "messages.0.content.1.image.source.base64: image exceeds 5 MB maximum: 5242881 bytes > "
        "5242880 bytes"
    )


def test_dimensions_over_8000_px() -> None:
    assert bad(req(user([image_block(image_bytes(size=(8001, 2)))]))) == (
        "messages.0.content.0.image.source.base64.data: At least one of the image dimensions "
        "exceed max allowed size: 8000 pixels"
    )
    assert post(req(user([image_block(image_bytes(size=(8000, 2)))]))).status_code == 200


def test_dimensions_over_2000_px_with_more_than_20_images() -> None:
    small = image_block(image_bytes())
    wide = image_block(image_bytes(size=(2001, 2)))
    assert post(req(user([small] * 19 + [wide]))).status_code == 200  # 20 images: fine
    msgs = [user([small] * 10), assistant("ok"), user([small] * 10 + [wide])]
    assert bad(req(*msgs)) == (
        "messages.2.content.10.image.source.base64.data: At least one of the image dimensions "
        "exceed max allowed size for many-image requests: 2000 pixels"
    )


def test_more_than_100_images() -> None:
    small = image_block(image_bytes())
    assert post(req(user([small] * 100))).status_code == 200
    assert bad(req(user([small] * 101))) == "too many images and documents: 101 + 0 > 100"


def test_images_plus_document_pages_over_100() -> None:
    pdf = b"%PDF-1.4\n" + b"<< /Type /Page >>\n" * 11 + b"<< /Type /Pages >>\n%%EOF"
    doc = {
        "type": "document",
        "source": {
            "type": "base64",
            "media_type": "application/pdf",
            "data": base64.b64encode(pdf).decode(),
        },
    }
    small = image_block(image_bytes())
    assert (
        bad(req(user([doc] + [small] * 90)))
        == "Too much media: 11 document pages + 90 images > 100"
    )


def test_images_inside_tool_results_are_checked() -> None:
    result = {
        "type": "tool_result",
        "tool_use_id": "toolu_A",
        "content": [{"type": "text", "text": "chart"}, image_block(image_bytes(), "image/jpeg")],
    }
    msgs = [user("q"), assistant([tool_use()]), user([result])]
    assert bad(req(*msgs)).startswith(
        "messages.2.content.0.tool_result.content.1.image.source.base64: The image was specified "
        "using the image/jpeg media type"
    )


def test_url_images_are_accepted_unfetched() -> None:
    block = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
    assert post(req(user([block, {"type": "text", "text": "?"}]))).status_code == 200


# -- cache_control ---------------------------------------------------------------------------


def test_at_most_four_cache_control_blocks() -> None:
    cc = {"type": "ephemeral"}
    system = [{"type": "text", "text": f"s{i}", "cache_control": cc} for i in range(2)]
    blocks = [{"type": "text", "text": f"t{i}", "cache_control": cc} for i in range(3)]
    assert bad(req(user(blocks), system=system)) == (
        "A maximum of 4 blocks with cache_control may be provided. Found 5."
    )
    assert post(req(user(blocks[:2]), system=system)).status_code == 200


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

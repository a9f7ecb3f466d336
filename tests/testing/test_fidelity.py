"""Issue #15: the fake as strict and as informative as the real API, one test per gap (each
failed before the change that closed it): forced tool choice per model (1), retired models
(2, also tests/testing/test_models.py), the SDK's ``thread`` (3), ``between_tools`` (4),
prompt caching (5), citations (6), ``tool_choice: auto`` (7) and the one-token answer (8) in
test_default.py, rate-limit headers and non-http(s) image URLs (9)."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from nbclaude._api.models import MODELS
from nbclaude.testing import FakeAnthropic

from .bodies import HEADERS, bad, error, post, req

WEATHER = {
    "name": "get_weather",
    "description": "Get the current weather in a given location",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}
BETA = {"anthropic-beta": "message-threads-2026-08-12"}


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


# -- 1. forced tool choice -------------------------------------------------------------------


@pytest.mark.parametrize("model", ["claude-sonnet-5-5", "claude-opus-5-5", "claude-fable-5-1"])
@pytest.mark.parametrize("choice", [{"type": "any"}, {"type": "tool", "name": "get_weather"}])
def test_forced_tool_choice_is_refused_where_the_docs_say(model: str, choice: Any) -> None:
    message = bad(req("Weather in Paris?", model=model, tools=[WEATHER], tool_choice=choice))
    assert message.startswith(f'"tool_choice.type.{choice["type"]}" is not supported')


@pytest.mark.parametrize("model", ["claude-haiku-4-5", "claude-sonnet-5", "claude-opus-4-8"])
def test_forced_tool_choice_works_elsewhere(model: str) -> None:
    body = req("x", model=model, tools=[WEATHER], tool_choice={"type": "any"})
    assert post(body).json()["stop_reason"] == "tool_use"


def test_the_table_says_which_models_refuse_forcing() -> None:
    refusing = {m for m, spec in MODELS.items() if not spec.forced_tool_choice}
    assert {"claude-sonnet-5-5", "claude-opus-5-5", "claude-fable-5-1"} <= refusing
    assert "claude-haiku-4-5" not in refusing and "claude-sonnet-5" not in refusing


# -- 4. thinking types -----------------------------------------------------------------------


def test_between_tools_on_sonnet_5_5() -> None:
    """Failed before: 400 "thinking: Input tag ... does not match"."""
    body = req("Hi", model="claude-sonnet-5-5", thinking={"type": "between_tools"})
    msg = post(body).json()
    assert msg["stop_reason"] == "end_turn"
    assert [b["type"] for b in msg["content"]] == ["text"]  # no tools: text only
    effort = {**body, "output_config": {"effort": "max"}}
    assert "effort" in bad(effort)


@pytest.mark.parametrize(
    ("model", "kind", "words"),
    [
        ("claude-sonnet-5-5", "disabled", "between_tools"),
        ("claude-opus-5-5", "disabled", '"thinking.type.adaptive"'),
        ("claude-fable-5-1", "enabled", '"thinking.type.adaptive"'),
        ("claude-opus-5", "between_tools", "not supported"),
        ("claude-haiku-4-5", "between_tools", "not supported"),
        ("claude-haiku-4-5", "adaptive", '"thinking.type.enabled"'),
    ],
)
def test_thinking_types_each_model_refuses(model: str, kind: str, words: str) -> None:
    thinking: dict[str, Any] = {"type": kind}
    if kind == "enabled":
        thinking["budget_tokens"] = 1024
    message = bad(req("Hi", model=model, max_tokens=2000, thinking=thinking))
    assert message.startswith(f'"thinking.type.{kind}" is not supported') and words in message


def test_disabled_where_it_is_accepted() -> None:
    for model in ("claude-haiku-4-5", "claude-opus-5", "claude-sonnet-4-6"):
        body = req("Hi", model=model, thinking={"type": "disabled"})
        assert post(body).status_code == 200, model


# -- 3. the SDK's thread field ---------------------------------------------------------------


def test_thread_create_and_continue_keep_the_conversation() -> None:
    fake = FakeAnthropic()
    first = req("What is the weather in Paris?", tools=[WEATHER], thread={"type": "create"})
    first["system"] = "Be brief."
    r1 = post(first, headers=BETA, fake=fake)
    assert r1.status_code == 200, r1.text
    call = r1.json()["content"][-1]
    result = {"type": "tool_result", "tool_use_id": call["id"], "content": "Sunny, 21 C"}
    second = {
        "model": first["model"],
        "max_tokens": 100,
        "messages": [user([result])],
        "thread": {"type": "continue", "previous_message_id": r1.json()["id"]},
    }
    r2 = post(second, headers=BETA, fake=fake)
    assert r2.status_code == 200, r2.text
    assert "Sunny, 21 C" in r2.json()["content"][0]["text"]  # it saw the whole conversation
    sent = fake.requests[-1].json
    assert "system" not in sent and len(sent["messages"]) == 1  # only the new turn went out
    again = post(second, headers=BETA, fake=fake).json()
    assert again["error"]["details"] == {"error_code": "thread_already_continued"}


def test_thread_errors_carry_the_sdks_error_codes() -> None:
    cont = {"type": "continue", "previous_message_id": "msg_nope"}
    status, kind, _ = error(req("Hi", thread=cont), headers=BETA)
    assert (status, kind) == (404, "not_found_error")
    body = post(req("Hi", thread=cont), headers=BETA).json()
    assert body["error"]["details"] == {"error_code": "thread_not_found"}
    auto = post(
        req("Hi", thread={"type": "create"}, cache_control={"type": "ephemeral"}), headers=BETA
    ).json()
    assert auto["error"]["details"] == {
        "error_code": "thread_unsupported_request",
        "unsupported": ["cache_control"],
    }


def test_thread_needs_the_beta() -> None:
    assert bad(req("Hi", thread={"type": "create"})) == "thread: Extra inputs are not permitted"


def test_threads_grow_linearly() -> None:
    """Each stored turn holds only its own messages, never the history."""
    fake = FakeAnthropic()
    body = req("turn 0", thread={"type": "create"})
    last = post(body, headers=BETA, fake=fake).json()
    for n in range(1, 30):
        nxt = {
            "model": body["model"],
            "max_tokens": 50,
            "messages": [user(f"turn {n}")],
            "thread": {"type": "continue", "previous_message_id": last["id"]},
        }
        last = post(nxt, headers=BETA, fake=fake).json()
        assert "error" not in last, last
    assert "59 messages" in last["content"][0]["text"]
    assert len(fake.threads) == 30


# -- 5. prompt caching -----------------------------------------------------------------------

LONG = "The quick brown fox jumps over the lazy dog. " * 120  # about 1,200 tokens


def cached(fake: FakeAnthropic, *, model: str = "claude-sonnet-5-5", **extra: Any) -> Any:
    system = [{"type": "text", "text": LONG, "cache_control": {"type": "ephemeral"}}]
    return post(req("Summarise.", model=model, system=system, **extra), fake=fake).json()["usage"]


def test_a_breakpoint_writes_then_reads_the_cache() -> None:
    """Failed before: cache writes and reads were always 0."""
    fake = FakeAnthropic()
    first = cached(fake)
    assert first["cache_creation_input_tokens"] > 1000 and first["cache_read_input_tokens"] == 0
    assert (
        first["cache_creation"]["ephemeral_5m_input_tokens"]
        == (first["cache_creation_input_tokens"])
    )
    second = cached(fake)
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]
    assert second["cache_creation_input_tokens"] == 0
    whole = sum(first[k] for k in ("input_tokens", "cache_creation_input_tokens"))
    assert second["input_tokens"] + second["cache_read_input_tokens"] == whole
    fake.prompt_cache.advance(301)  # past the 5-minute TTL
    assert cached(fake)["cache_read_input_tokens"] == 0


def test_a_prefix_under_the_models_minimum_is_not_cached() -> None:
    fake = FakeAnthropic()
    assert cached(fake, model="claude-haiku-4-5")["cache_creation_input_tokens"] == 0  # 4,096
    assert cached(fake, model="claude-opus-4-8")["cache_creation_input_tokens"] > 0  # 1,024


def test_the_one_hour_ttl_and_the_cost() -> None:
    from nbclaude._api.models import cost

    fake = FakeAnthropic()
    system = [{"type": "text", "text": LONG, "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    body = req("Summarise.", model="claude-sonnet-5-5", system=system)
    first = post(body, fake=fake).json()["usage"]
    assert first["cache_creation"]["ephemeral_1h_input_tokens"] > 1000
    fake.prompt_cache.advance(1800)
    second = post(body, fake=fake).json()["usage"]
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]
    first_cost = cost("claude-sonnet-5-5", first)
    second_cost = cost("claude-sonnet-5-5", second)
    assert first_cost is not None and second_cost is not None and second_cost < first_cost / 3


def test_automatic_caching_follows_a_growing_conversation() -> None:
    """Top-level cache_control: each turn reads what the turn before wrote (lookback)."""
    fake = FakeAnthropic()
    messages: list[dict[str, Any]] = [user(LONG)]
    reads = []
    for n in range(3):
        body = req(*messages, model="claude-sonnet-5-5", cache_control={"type": "ephemeral"})
        msg = post(body, fake=fake).json()
        reads.append(msg["usage"]["cache_read_input_tokens"])
        messages += [{"role": "assistant", "content": msg["content"]}, user(f"And {n}?")]
    assert reads[0] == 0 and 0 < reads[1] < reads[2]


# -- 6. citations ----------------------------------------------------------------------------


def test_citations_of_a_text_document() -> None:
    """Failed before: no citations were ever returned."""
    text = "The grass is green. The sky is blue."
    doc = {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": text},
        "title": "My Document",
        "citations": {"enabled": True},
    }
    msg = post(req(user([doc, {"type": "text", "text": "What color is the grass?"}]))).json()
    cites = [c for b in msg["content"] for c in b.get("citations") or []]
    assert cites == [
        {
            "type": "char_location",
            "cited_text": "The grass is green. ",
            "document_index": 0,
            "document_title": "My Document",
            "start_char_index": 0,
            "end_char_index": 20,
        }
    ]
    assert text[0:20] == cites[0]["cited_text"]


def test_citations_of_pdf_custom_content_and_search_results() -> None:
    pdf = (
        b"%PDF-1.4\n1 0 obj << /Type /Page >> endobj\nBT /F1 12 Tf (Ants are insects.) Tj ET\n%%EOF"
    )
    docs = [
        {"type": "document", "citations": {"enabled": True}, "source": {
            "type": "base64", "media_type": "application/pdf",
            "data": base64.b64encode(pdf).decode()}},
        {"type": "document", "citations": {"enabled": True}, "title": "Notes", "source": {
            "type": "content", "content": [{"type": "text", "text": "First."},
                                           {"type": "text", "text": "Second."}]}},
        {"type": "search_result", "source": "https://example.com/a", "title": "A",
         "content": [{"type": "text", "text": "Found it."}], "citations": {"enabled": True}},
    ]  # fmt: skip
    msg = post(req(user([*docs, {"type": "text", "text": "Summarise."}]))).json()
    cites = [c for b in msg["content"] for c in b.get("citations") or []]
    assert [c["type"] for c in cites] == [
        "page_location",
        "content_block_location",
        "search_result_location",
    ]
    page, block, found = cites
    assert page == {
        "type": "page_location",
        "cited_text": "Ants are insects.",
        "document_index": 0,
        "document_title": None,
        "start_page_number": 1,
        "end_page_number": 2,
    }
    assert (block["document_index"], block["start_block_index"], block["end_block_index"]) == (
        1,
        0,
        1,
    )
    assert found == {
        "type": "search_result_location",
        "cited_text": "Found it.",
        "search_result_index": 0,
        "source": "https://example.com/a",
        "title": "A",
        "start_block_index": 0,
        "end_block_index": 1,
    }


def test_no_citations_unless_enabled() -> None:
    doc = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x."}}
    msg = post(req(user([doc, {"type": "text", "text": "?"}]))).json()
    assert all("citations" not in b for b in msg["content"])


# -- 9. rate-limit headers, image URLs -------------------------------------------------------


def test_rate_limit_headers_like_the_recorded_ones() -> None:
    """Failed before: no anthropic-ratelimit-* headers."""
    fake = FakeAnthropic()
    with httpx.Client(transport=fake, base_url="https://x", headers=HEADERS) as c:
        first = c.post("/v1/messages", json=req("Hi")).headers
        second = c.post("/v1/messages", json=req("Hi")).headers
    for name in ("requests", "tokens", "input-tokens", "output-tokens"):
        for part in ("limit", "remaining", "reset"):
            assert f"anthropic-ratelimit-{name}-{part}" in first
    assert first["anthropic-ratelimit-requests-limit"] == "50"
    assert first["anthropic-ratelimit-requests-remaining"] == "49"
    assert second["anthropic-ratelimit-requests-remaining"] == "48"
    assert first["anthropic-ratelimit-tokens-limit"] == "38000"
    assert int(first["anthropic-ratelimit-input-tokens-remaining"]) % 1000 == 0
    assert first["anthropic-ratelimit-requests-reset"].endswith("Z")


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/a.png", "data:image/png;base64,AAAA", "x.png"]
)
def test_non_http_image_urls_are_refused(url: str) -> None:
    """Failed before: a file:// URL was accepted."""
    image = {"type": "image", "source": {"type": "url", "url": url}}
    message = bad(req(user([image, {"type": "text", "text": "What is it?"}])))
    assert message.startswith("messages.0.content.0.image.source.url.url: URL scheme should be")
    ok = {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}
    assert post(req(user([ok, {"type": "text", "text": "?"}]))).status_code == 200


def test_image_dimension_errors_carry_the_sdks_details() -> None:
    """Re-checked against SDK 2.17: ``image_dimensions_too_large`` with the limit and paths
    (failed before: no ``details``)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (8001, 2)).save(buf, "PNG")
    data = base64.b64encode(buf.getvalue()).decode()
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}
    body = post(req(user([{"type": "text", "text": "?"}, image]))).json()
    assert body["error"]["message"].endswith("exceed max allowed size: 8000 pixels")
    assert body["error"]["details"] == {
        "error_code": "image_dimensions_too_large",
        "max_side_length_pixels": 8000,
        "paths": ["messages.0.content.1"],
    }

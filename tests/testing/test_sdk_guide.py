"""The official Python SDK (2.17, test-only) drives the loopback fake through the seed guide's
examples ("Using the Messages API": a basic request, multi-turn, prefill, vision) and the
cookbook patterns issue #15 checked (tool loops, the SDK's tool runner, forced tool choice,
prompt caching, citations, rate-limit headers). The guide's model, ``claude-sonnet-4-5``,
reached end of life on 2026-11-30: the fake answers it 404, as the API does."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import pytest

from nbclaude.testing import FakeAnthropic, FakeServer

anthropic = pytest.importorskip("anthropic")

KEY = "sk-ant-test-fake-0123456789"
MODEL = "claude-sonnet-5-5"  # what replaced the guide's model
PREFILL = "claude-haiku-4-5"  # prefill is refused from the 4.6 generation on
WEATHER = {
    "name": "get_weather",
    "description": "Get the current weather in a given location",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string", "description": "The city and state"}},
        "required": ["location"],
    },
}


@pytest.fixture
def fake() -> FakeAnthropic:
    return FakeAnthropic()


@pytest.fixture
def server(fake: FakeAnthropic) -> Iterator[FakeServer]:
    with fake.serve() as s:
        yield s


@pytest.fixture
def sdk(server: FakeServer) -> Iterator[Any]:
    client = anthropic.Anthropic(base_url=server.url, api_key=KEY, max_retries=0)
    yield client
    client.close()


def png() -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


# -- the guide -------------------------------------------------------------------------------


def test_basic_request(sdk: Any) -> None:
    message = sdk.messages.create(
        model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": "Hello, Claude"}]
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.content[0].text.startswith("*(offline fake")
    assert message.stop_reason == "end_turn" and message.usage.input_tokens > 0
    assert message._request_id.startswith("req_")


def test_the_guides_model_is_retired(sdk: Any) -> None:
    with pytest.raises(anthropic.NotFoundError) as info:
        sdk.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=1024,
            messages=[{"role": "user", "content": "Hello, Claude"}],
        )
    assert info.value.body["error"] == {
        "type": "not_found_error",
        "message": "model: claude-sonnet-4-5",
    }
    assert "claude-sonnet-4-5-20250929" not in [m.id for m in sdk.models.list(limit=1000)]


def test_multi_turn(sdk: Any, fake: FakeAnthropic) -> None:
    message = sdk.messages.create(
        model=MODEL,
        max_tokens=1024,
        messages=[
            {"role": "user", "content": "Hello, Claude"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Can you describe LLMs to me?"},
        ],
    )
    assert "received 3 messages" in message.content[0].text
    assert "Can you describe LLMs to me?" in message.content[0].text
    assert len(fake.requests[-1].json["messages"]) == 3


def test_prefill_multiple_choice(sdk: Any) -> None:
    """The guide's "latin for Ant" with ``max_tokens=1``: the correct option, C."""
    message = sdk.messages.create(
        model=PREFILL,
        max_tokens=1,
        messages=[
            {
                "role": "user",
                "content": "What is latin for Ant? (A) Apoidea, (B) Rhopalocera, (C) Formicidae",
            },
            {"role": "assistant", "content": "The answer is ("},
        ],
    )
    assert [b.text for b in message.content] == ["C"]
    assert message.stop_reason == "max_tokens" and message.usage.output_tokens == 1
    with pytest.raises(anthropic.BadRequestError, match="does not support assistant message"):
        sdk.messages.create(
            model=MODEL,
            max_tokens=1,
            messages=[
                {"role": "user", "content": "What is latin for Ant?"},
                {"role": "assistant", "content": "The answer is ("},
            ],
        )


def test_vision(sdk: Any) -> None:
    data = png()
    message = sdk.messages.create(
        model=MODEL,
        max_tokens=1024,
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": data},
                    },
                    {"type": "text", "text": "What is in the above image?"},
                ],
            }
        ],
    )
    assert "image/png, 64×48 px" in message.content[0].text  # noqa: RUF001
    url = {"type": "image", "source": {"type": "url", "url": "https://example.com/ant.jpg"}}
    by_url = sdk.messages.create(
        model=MODEL,
        max_tokens=1024,
        messages=[{"role": "user", "content": [url, {"type": "text", "text": "And this?"}]}],
    )
    assert "by URL https://example.com/ant.jpg" in by_url.content[0].text
    local = {"type": "image", "source": {"type": "url", "url": "file:///home/me/ant.jpg"}}
    with pytest.raises(anthropic.BadRequestError, match="URL scheme"):
        sdk.messages.create(
            model=MODEL,
            max_tokens=10,
            messages=[{"role": "user", "content": [local, {"type": "text", "text": "?"}]}],
        )


def test_streaming_text(sdk: Any) -> None:
    with sdk.messages.stream(
        model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": "Hello"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == final.content[0].text and text.startswith("*(offline fake")


# -- cookbook patterns -----------------------------------------------------------------------


def test_tool_use_loop(sdk: Any) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "What is the weather like in San Francisco?"}
    ]
    first = sdk.messages.create(model=MODEL, max_tokens=1024, tools=[WEATHER], messages=messages)
    assert first.stop_reason == "tool_use"
    call = next(b for b in first.content if b.type == "tool_use")
    messages += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "15 C, fog"}],
        },
    ]
    final = sdk.messages.create(model=MODEL, max_tokens=1024, tools=[WEATHER], messages=messages)
    assert final.stop_reason == "end_turn" and "15 C, fog" in final.content[0].text


def test_no_tool_when_none_is_needed(sdk: Any) -> None:
    """Issue #15 gap 7: "Claude decided not to use a tool"."""
    message = sdk.messages.create(
        model=MODEL,
        max_tokens=1024,
        tools=[WEATHER],
        messages=[{"role": "user", "content": "What color is the sky?"}],
    )
    assert message.stop_reason == "end_turn"
    assert [b.type for b in message.content] == ["text"]


def test_forced_tool_choice(sdk: Any) -> None:
    """Issue #15 gap 1: the standard cookbook pattern works where the API takes it."""
    body: dict[str, Any] = {
        "max_tokens": 1024,
        "tools": [WEATHER],
        "tool_choice": {"type": "tool", "name": "get_weather"},
        "messages": [{"role": "user", "content": "Use the weather tool for Paris."}],
    }
    with pytest.raises(anthropic.BadRequestError, match="tool_choice"):
        sdk.messages.create(model=MODEL, **body)
    message = sdk.messages.create(model=PREFILL, **body)
    assert [b.type for b in message.content] == ["tool_use"]


def test_the_sdks_tool_runner(sdk: Any, fake: FakeAnthropic) -> None:
    """Issue #15 gap 3: the runner's default ``thread: {"type": "create"}`` and continues."""
    seen: list[str] = []

    @anthropic.beta_tool
    def get_weather(location: str) -> str:
        """Get the current weather in a given location."""
        seen.append(location)
        return "Sunny, 21 C"

    runner = sdk.beta.messages.tool_runner(
        model=MODEL,
        max_tokens=1024,
        tools=[get_weather],
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
    )
    replies = list(runner)
    assert seen and replies[-1].stop_reason == "end_turn"
    assert "Sunny, 21 C" in replies[-1].content[0].text
    threads = [r.json.get("thread") for r in fake.requests if r.path == "/v1/messages"]
    assert threads[0] == {"type": "create"}
    assert threads[1]["type"] == "continue"
    assert threads[1]["previous_message_id"] == replies[0].id


def test_prompt_caching(sdk: Any) -> None:
    """Issue #15 gap 5: the caching lesson's numbers move."""
    book = "It is a truth universally acknowledged, that a single man ... " * 200
    body: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 1024,
        "system": [
            {"type": "text", "text": "You analyse literary works."},
            {"type": "text", "text": book, "cache_control": {"type": "ephemeral"}},
        ],
        "messages": [{"role": "user", "content": "Analyse the major themes."}],
    }
    first = sdk.messages.create(**body).usage
    second = sdk.messages.create(**body).usage
    assert first.cache_creation_input_tokens > 2000 and first.cache_read_input_tokens == 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.cache_creation_input_tokens == 0
    assert second.cache_creation.ephemeral_5m_input_tokens == 0


def test_citations(sdk: Any) -> None:
    """Issue #15 gap 6, parsed into the SDK's own citation types."""
    message = sdk.messages.create(
        model=MODEL,
        max_tokens=1024,
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "document",
                        "source": {
                            "type": "text",
                            "media_type": "text/plain",
                            "data": "The grass is green. The sky is blue.",
                        },
                        "title": "My Document",
                        "citations": {"enabled": True},
                    },
                    {"type": "text", "text": "What color is the grass and sky?"},
                ],
            }
        ],
    )
    cited = [c for b in message.content if b.type == "text" for c in b.citations or []]
    assert [type(c).__name__ for c in cited] == ["CitationCharLocation"]
    assert (cited[0].cited_text, cited[0].start_char_index, cited[0].end_char_index) == (
        "The grass is green. ",
        0,
        20,
    )
    with sdk.messages.stream(
        model=MODEL,
        max_tokens=1024,
        messages=[{"role": "user", "content": message_content_of(sdk)}],
    ) as stream:
        final = stream.get_final_message()
    assert any(b.citations for b in final.content if b.type == "text")


def message_content_of(sdk: Any) -> list[dict[str, Any]]:
    return [
        {
            "type": "search_result",
            "source": "https://example.com/ants",
            "title": "Ants",
            "content": [{"type": "text", "text": "Ants are eusocial insects."}],
            "citations": {"enabled": True},
        },
        {"type": "text", "text": "What are ants?"},
    ]


def test_rate_limit_headers(sdk: Any) -> None:
    raw = sdk.messages.with_raw_response.create(
        model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "Hi"}]
    )
    assert raw.headers["anthropic-ratelimit-requests-limit"] == "50"
    assert int(raw.headers["anthropic-ratelimit-tokens-remaining"]) <= 38000
    assert raw.parse().type == "message"

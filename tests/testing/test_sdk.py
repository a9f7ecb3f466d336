"""The official ``anthropic`` SDK (2.x: ``Authorization: Bearer``, ``anthropic-version:
2026-10-21``) against the loopback fake: it parses every stream the fake sends, and its stream
accumulation gives exactly the Message the fake answers without streaming."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from nbclaude.testing import (
    Cut,
    FakeAnthropic,
    FakeServer,
    HTTPError,
    Message,
    RedactedThinking,
    Reply,
    StreamErrorEvent,
    Text,
    Thinking,
    ToolUse,
)

anthropic = pytest.importorskip("anthropic")

KEY = "sk-ant-test-fake-0123456789"
BODY: dict[str, Any] = {
    "model": "claude-haiku-4-5",
    "max_tokens": 1000,
    "messages": [{"role": "user", "content": "Hello"}],
}
WEATHER = {
    "name": "get_weather",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string"}, "units": {"enum": ["c", "f"]}},
        "required": ["location", "units"],
    },
}
WHOLE = {
    "content": [
        {"type": "text", "text": "Searching."},
        {
            "type": "server_tool_use",
            "id": "srvtoolu_1",
            "name": "web_search",
            "input": {"query": "q"},
        },
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
        {"type": "text", "text": "Found nothing."},
    ],
    "stop_reason": "end_turn",
}


@pytest.fixture
def server(fake: FakeAnthropic) -> Iterator[FakeServer]:
    with fake.serve() as s:
        yield s


@pytest.fixture
def sdk(server: FakeServer) -> Iterator[Any]:
    client = anthropic.Anthropic(base_url=server.url, api_key=KEY, max_retries=0)
    yield client
    client.close()


def comparable(msg: dict[str, Any]) -> dict[str, Any]:
    """Drop ids (counter based), and keys that are None (absent on the wire, None in the
    SDK's model)."""
    out = {k: v for k, v in msg.items() if k != "id" and v is not None}
    out["content"] = [
        {
            k: v
            for k, v in b.items()
            if v is not None and k != "parsed_output" and not str(v).startswith("toolu_01Fake")
        }
        for b in msg["content"]
    ]
    return out


CASES: dict[str, tuple[Any, dict[str, Any]]] = {
    "text": (Text("Hello there, how are you today?"), {}),
    "text-chunks": (Text("Hello there", chunk_size=1), {}),
    "text-truncated": (Text("one two three four five six"), {"max_tokens": 3}),
    "stop-sequence": (Text("yes. STOP no"), {"stop_sequences": ["STOP"]}),
    "citations": (
        Text(
            "Green.",
            citations=[
                {
                    "type": "char_location",
                    "cited_text": "The grass is green.",
                    "document_index": 0,
                    "document_title": "Doc",
                    "start_char_index": 0,
                    "end_char_index": 20,
                }
            ],
        ),
        {},
    ),
    "tool-use": (
        ToolUse("get_weather", {"location": "Paris, FR", "units": "c"}, text="Checking."),
        {},
    ),
    "tool-use-truncated": (ToolUse("write", {"text": "long input " * 30}), {"max_tokens": 6}),
    "parallel-tools": (
        Reply([ToolUse("a", {"x": 1}), ToolUse("b", {"y": [1, 2]}, id="toolu_b")]),
        {},
    ),
    "thinking": (Thinking("Let me think about it step by step.", "Done."), {}),
    "redacted-thinking": (RedactedThinking("EmwKAhgBEgy3va3pzix", "Done."), {}),
    "refusal": (
        Reply(
            [Text("")],
            stop_reason="refusal",
            stop_details={"type": "refusal", "category": "cyber", "explanation": "No."},
        ),
        {},
    ),
    "whole-message": (Message(WHOLE), {}),
    "default": (None, {}),
    "default-tools": (None, {"tools": [WEATHER]}),
    "default-thinking": (
        None,
        {"thinking": {"type": "enabled", "budget_tokens": 1024}, "max_tokens": 2000},
    ),
    "default-json": (
        None,
        {
            "output_config": {
                "format": {
                    "type": "json_schema",
                    "schema": {
                        "type": "object",
                        "properties": {"n": {"type": "integer"}},
                        "required": ["n"],
                        "additionalProperties": False,
                    },
                }
            }
        },
    ),
    "default-truncated": (None, {"max_tokens": 7}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_sdk_stream_accumulates_to_the_json_message(
    case: str, fake: FakeAnthropic, sdk: Any
) -> None:
    item, extra = CASES[case]
    if item is not None:
        fake.add(item, item)
    body = {**BODY, **extra}
    created = sdk.messages.create(**body).to_dict()
    with sdk.messages.stream(**body) as st:
        texts = list(st.text_stream)
        final = st.get_final_message().to_dict()
    assert final["stop_reason"] is not None
    assert "".join(texts) == "".join(
        b.get("text", "") for b in final["content"] if b["type"] == "text"
    )
    assert comparable(final) == comparable(created), case


def test_sdk_sends_bearer_and_new_version(fake: FakeAnthropic, sdk: Any) -> None:
    sdk.messages.create(**BODY)
    headers = fake.requests[0].headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["anthropic-version"] == "2026-10-21"


def test_sdk_with_a_wrong_key(server: FakeServer) -> None:
    fake = FakeAnthropic(api_key="the-right-key")
    with fake.serve() as srv:
        client = anthropic.Anthropic(base_url=srv.url, api_key="wrong", max_retries=0)
        with pytest.raises(anthropic.AuthenticationError) as info:
            client.messages.create(**BODY)
        client.close()
    assert info.value.status_code == 401
    assert info.value.request_id and info.value.request_id.startswith("req_")


def test_sdk_errors(fake: FakeAnthropic, sdk: Any) -> None:
    fake.add(HTTPError(429), HTTPError(529))
    with pytest.raises(anthropic.RateLimitError):
        sdk.messages.create(**BODY)
    with pytest.raises(anthropic.OverloadedError):
        sdk.messages.create(**BODY)
    with pytest.raises(anthropic.BadRequestError, match="non-whitespace"):
        sdk.messages.create(**{**BODY, "messages": [{"role": "user", "content": " "}]})
    with pytest.raises(anthropic.NotFoundError, match="model: nope"):
        sdk.messages.create(**{**BODY, "model": "nope"})


def test_sdk_retries_obey_the_fake(server: FakeServer, fake: FakeAnthropic) -> None:
    fake.add(
        HTTPError(529, headers={"retry-after-ms": "10"}),
        HTTPError(500, headers={"retry-after-ms": "10"}),
        Text("third time"),
    )
    client = anthropic.Anthropic(base_url=server.url, api_key=KEY, max_retries=2)
    msg = client.messages.create(**BODY)
    client.close()
    assert msg.content[0].text == "third time"
    assert [r.headers["x-stainless-retry-count"] for r in fake.requests] == ["0", "1", "2"]


def test_sdk_does_not_retry_when_told_not_to(server: FakeServer, fake: FakeAnthropic) -> None:
    fake.add(HTTPError(529, headers={"x-should-retry": "false"}), Text("never"))
    client = anthropic.Anthropic(base_url=server.url, api_key=KEY, max_retries=2)
    with pytest.raises(anthropic.OverloadedError):
        client.messages.create(**BODY)
    client.close()
    assert len(fake.requests) == 1


def test_sdk_sees_a_mid_stream_error(fake: FakeAnthropic, sdk: Any) -> None:
    fake.add(StreamErrorEvent(after="Partial"))
    got = []
    with pytest.raises(anthropic.APIStatusError) as info, sdk.messages.stream(**BODY) as st:
        for text in st.text_stream:
            got.append(text)
    assert "".join(got) == "Partial"
    assert info.value.body["error"]["type"] == "overloaded_error"


def test_sdk_and_a_cut_connection(fake: FakeAnthropic, sdk: Any) -> None:
    """The SDK's own HTTP stack (httpx2) sees the drop exactly as a real dropped connection."""
    httpx2 = pytest.importorskip("httpx2")
    fake.add(Cut(after="Half a sent"))
    got = []
    # SDK 2.16 lets httpx2's error through; 2.17 wraps it in APIConnectionError (from it).
    with (
        pytest.raises(
            (httpx2.RemoteProtocolError, anthropic.APIConnectionError),
            match="incomplete chunked read",
        ) as info,
        sdk.messages.stream(**BODY) as st,
    ):
        for text in st.text_stream:
            got.append(text)
    assert "".join(got) == "Half a sent"
    cause = (
        info.value if isinstance(info.value, httpx2.RemoteProtocolError) else info.value.__cause__
    )
    assert isinstance(cause, httpx2.RemoteProtocolError)


@pytest.mark.parametrize("fake", [{"today": "2026-12-04"}], indirect=True)
def test_sdk_models_auto_pagination(sdk: Any, fake: FakeAnthropic) -> None:
    from nbclaude._api.models import MODELS, lifecycle

    listed = [m for m in MODELS if lifecycle(m, today="2026-12-04") != "retired"]
    everything = [m.id for m in sdk.models.list(limit=1000)]
    paged = [m.id for m in sdk.models.list(limit=3)]
    assert paged == everything and len(everything) == len(listed) >= 17
    retired = [m.id for m in sdk.models.list(lifecycle=["retired"])]  # SDK 2.17's filter
    assert "claude-sonnet-4-5-20250929" in retired and "claude-sonnet-4-5-20250929" not in paged
    assert all(m.lifecycle == "retired" for m in sdk.models.list(lifecycle=["retired"]))
    assert len([r for r in fake.requests if r.path == "/v1/models"]) >= 1 + -(-len(everything) // 3)
    assert everything[0] == "claude-fable-5-2"
    assert "claude-haiku-4-5-20251001" in everything
    dates = [m.created_at for m in sdk.models.list(limit=1000)]
    assert dates == sorted(dates, reverse=True)  # newest first
    info = sdk.models.retrieve("claude-haiku-4-5")
    assert info.id == "claude-haiku-4-5-20251001" and info.display_name == "Claude Haiku 4.5"
    with pytest.raises(anthropic.NotFoundError):
        sdk.models.retrieve("claude-nope")


def test_sdk_count_tokens(sdk: Any) -> None:
    counted = sdk.messages.count_tokens(
        model=BODY["model"], messages=BODY["messages"], tools=[WEATHER]
    )
    used = sdk.messages.create(**BODY, tools=[WEATHER], tool_choice={"type": "none"}).usage
    assert counted.input_tokens == used.input_tokens > 300

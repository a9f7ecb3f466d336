"""The default reply (no script): deterministic, marked offline, describes the request, and has
the right shape for tools, structured outputs, thinking and prefill."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import httpx
import pytest

from nbclaude.testing import MARKER, FakeAnthropic

jsonschema = pytest.importorskip("jsonschema")  # present via nbformat

HEADERS = {"x-api-key": "sk-ant-test-fake-0123456789", "anthropic-version": "2023-06-01"}
HAIKU = "claude-haiku-4-5"


def post(body: dict[str, Any], fake: FakeAnthropic | None = None) -> dict[str, Any]:
    with httpx.Client(
        transport=fake or FakeAnthropic(), base_url="https://x", headers=HEADERS
    ) as c:
        r = c.post("/v1/messages", json=body)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def stream(body: dict[str, Any]) -> list[dict[str, Any]]:
    with (
        httpx.Client(transport=FakeAnthropic(), base_url="https://x", headers=HEADERS) as c,
        c.stream("POST", "/v1/messages", json={**body, "stream": True}) as r,
    ):
        assert r.status_code == 200
        return [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]


def req(*messages: Any, model: str = HAIKU, max_tokens: int = 1000, **extra: Any) -> dict[str, Any]:
    msgs = [m if isinstance(m, dict) else {"role": "user", "content": m} for m in messages]
    return {"model": model, "max_tokens": max_tokens, "messages": msgs, **extra}


def png(size: tuple[int, int], fmt: str = "PNG") -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (10, 200, 10)).save(buf, fmt)
    return base64.b64encode(buf.getvalue()).decode()


def text_of(msg: dict[str, Any]) -> str:
    return "".join(b["text"] for b in msg["content"] if b["type"] == "text")


def test_marked_offline_and_describes_turns_and_model() -> None:
    msg = post(req("Hello", {"role": "assistant", "content": "Hi!"}, "What is a photon?"))
    text = text_of(msg)
    assert text.startswith(MARKER)
    assert MARKER == "*(offline fake — no model was called)*"
    assert "3 messages" in text  # "turn" means an exchange elsewhere: here it counts messages
    assert "turn" not in text
    assert "`claude-haiku-4-5`" in text
    assert "“What is a photon?”" in text
    assert msg["stop_reason"] == "end_turn"


def test_deterministic() -> None:
    body = req("Describe", system="Be brief.")
    first = post(body)
    second = post(body)
    assert first == second  # same request to a fresh fake: same reply, same ids
    fake = FakeAnthropic()
    a, b = post(body, fake), post(body, fake)
    assert text_of(a) == text_of(b) and a["usage"] == b["usage"]
    assert a["id"] != b["id"]  # counter based within one fake


def test_describes_images_with_media_type_size_and_base64_size() -> None:
    data_png = png((640, 480))
    data_jpg = png((30, 20), "JPEG")
    content = [
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": data_png},
        },
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/jpeg", "data": data_jpg},
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
        {"type": "text", "text": "Compare these."},
    ]
    text = text_of(post(req({"role": "user", "content": content})))
    assert f"Image 1: image/png, 640×480 px, {len(data_png):,} base64 characters" in text  # noqa: RUF001
    assert f"Image 2: image/jpeg, 30×20 px, {len(data_jpg):,} base64 characters" in text  # noqa: RUF001
    assert "Image 3: by URL https://example.com/cat.jpg (not fetched)" in text
    assert "“Compare these.”" in text


def test_describes_documents_and_system_prompt() -> None:
    pdf = base64.b64encode(b"%PDF-1.4\n<< /Type /Page >>\n<< /Type /Page >>\n%%EOF").decode()
    content = [
        {
            "type": "document",
            "title": "Lab notes",
            "source": {"type": "base64", "media_type": "application/pdf", "data": pdf},
        },
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "abc"}},
        {"type": "text", "text": "Summarise."},
    ]
    text = text_of(post(req({"role": "user", "content": content}, system="You are a tutor.")))
    assert (
        f"Document 1: “Lab notes”, application/pdf, 2 pages, {len(pdf)} base64 characters" in text
    )
    assert "Document 2: text/plain, 3 characters" in text
    assert "System prompt: “You are a tutor.”" in text


def test_long_last_message_is_shortened() -> None:
    text = text_of(post(req("word " * 100)))
    quoted = text.split("Last user message: ")[1].split("\n")[0]
    assert quoted.endswith("…”") and len(quoted) <= 82


def test_max_tokens_truncates_the_default_reply() -> None:
    """Cut at a word, never a stray ``*(offline fake`` (issue #14 item 8: failed before, the
    text was ``*(offline fake``)."""
    msg = post(req("Hello", max_tokens=5))
    assert msg["stop_reason"] == "max_tokens"
    assert msg["usage"]["output_tokens"] == 5
    assert text_of(msg) == "offline fake"
    for n in range(1, 60):
        text = text_of(
            post(req("Hello", {"role": "assistant", "content": "Hi"}, "More", max_tokens=n))
        )
        assert text.count("*") % 2 == 0 and text.count("`") % 2 == 0, (n, text)
        assert text.count("(") <= text.count(")"), (n, text)
        assert text == text.strip() and not text.endswith(("offl", "fa")), (n, text)


def test_stop_sequences_on_the_default_reply() -> None:
    msg = post(req("Hello", stop_sequences=["fake"]))
    assert text_of(msg) == "*(offline "
    assert msg["stop_reason"] == "stop_sequence" and msg["stop_sequence"] == "fake"


def test_multiple_choice_prefill_with_one_token() -> None:
    """The guide's multiple-choice prefill: 'The answer is (' and max_tokens=1."""
    question = "What is 2 + 2?\n(A) 3\n(B) 5\n(C) 4\n(D) 22"
    msg = post(req(question, {"role": "assistant", "content": "The answer is ("}, max_tokens=1))
    assert msg["content"] == [{"type": "text", "text": "C"}]
    assert msg["stop_reason"] == "max_tokens" and msg["usage"]["output_tokens"] == 1
    longer = text_of(post(req(question, {"role": "assistant", "content": "The answer is ("})))
    assert longer.startswith("C) ") and MARKER in longer


def test_multiple_choice_it_cannot_tell_is_visibly_not_an_answer() -> None:
    """Issue #15 gap 8 (failed before: the fake answered a confident "C" or the last letter)."""
    msg = post(req("Pick (A) yes or (B) no", {"role": "assistant", "content": "("}, max_tokens=1))
    assert text_of(msg) == "?"
    question = "Who wrote Hamlet? (A) Marlowe (B) Shakespeare (C) Jonson"
    longer = text_of(post(req(question, {"role": "assistant", "content": "The answer is ("})))
    assert longer.startswith("?) ") and MARKER in longer and "cannot tell" in longer


@pytest.mark.parametrize(
    ("question", "letter"),
    [
        ("What is latin for Ant? (A) Apoidea, (B) Rhopalocera, (C) Formicidae", "C"),
        ("What is latin for Ant? (A) Formicidae, (B) Rhopalocera, (C) Apoidea", "A"),
        ("What's the Greek name for Sun? (A) Sol (B) Helios (C) Sun", "B"),
        ("What is 6 * 7?\n(A) 36\n(B) 42\n(C) 48", "B"),
        ("What is 12 - 5? A) 7 B) 8 C) 17", "A"),
        ("What is 9 / 3? (A) 3 (B) 27", "A"),
    ],
)
def test_multiple_choice_picks_the_correct_option(question: str, letter: str) -> None:
    """Issue #15 gap 8: the correct letter when the fake can tell (failed before: always "C")."""
    msg = post(req(question, {"role": "assistant", "content": "The answer is ("}, max_tokens=1))
    assert msg["content"] == [{"type": "text", "text": letter}]


def test_prefill_is_continued() -> None:
    brace = text_of(post(req("Give JSON", {"role": "assistant", "content": "{"})))
    assert json.loads("{" + brace)["offline"] is True
    other = text_of(
        post(req("Write a haiku", {"role": "assistant", "content": "Here is a haiku:"}))
    )
    assert other.startswith(" " + MARKER)


WEATHER = {
    "name": "get_weather",
    "description": "",
    "input_schema": {
        "additionalProperties": False,
        "properties": {
            "location": {"title": "Location", "type": "string"},
            "units": {"enum": ["c", "f"], "title": "Units", "type": "string"},
        },
        "required": ["location", "units"],
        "type": "object",
    },
}

TRICKY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "$defs": {
        "Point": {
            "type": "object",
            "properties": {
                "x": {"type": "number", "minimum": 10},
                "y": {"type": "integer", "exclusiveMaximum": 0},
            },
            "required": ["x", "y"],
            "additionalProperties": False,
        }
    },
    "properties": {
        "points": {"type": "array", "items": {"$ref": "#/$defs/Point"}, "minItems": 2},
        "when": {"type": "string", "format": "date"},
        "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "name": {"type": "string", "minLength": 20},
        "choice": {"anyOf": [{"type": "null"}, {"type": "integer", "multipleOf": 7, "minimum": 8}]},
        "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True, "minItems": 3},
        "flag": {"type": "boolean"},
        "fixed": {"const": "v1"},
    },
    "required": ["points", "when", "code", "name", "choice", "tags", "flag", "fixed"],
    "additionalProperties": False,
}


@pytest.mark.parametrize("schema", [WEATHER["input_schema"], TRICKY_SCHEMA])
def test_calls_the_first_tool_with_a_valid_input(schema: dict[str, Any]) -> None:
    tools = [
        {"name": "tool_a", "input_schema": schema},
        {"name": "other", "input_schema": {"type": "object"}},
    ]
    msg = post(req("Do it", tools=tools, tool_choice={"type": "any"}))
    assert msg["stop_reason"] == "tool_use"
    [call] = msg["content"]  # forced: no preamble
    assert call["type"] == "tool_use" and call["name"] == "tool_a"
    assert call["id"].startswith("toolu_")
    jsonschema.validate(call["input"], schema)


def test_auto_calls_a_tool_the_prompt_needs_after_a_preamble() -> None:
    msg = post(req("What's the weather in Paris?", tools=[WEATHER]))
    assert msg["stop_reason"] == "tool_use"
    assert msg["content"][0]["text"].startswith(MARKER)
    assert msg["content"][1]["name"] == "get_weather"
    jsonschema.validate(msg["content"][1]["input"], WEATHER["input_schema"])


@pytest.mark.parametrize("prompt", ["What color is the sky?", "Hello!", "Do it"])
def test_auto_answers_in_text_when_no_tool_is_needed(prompt: str) -> None:
    """Issue #15 gap 7 (failed before: tool_choice auto always called the first tool)."""
    for choice in (None, {"type": "auto"}):
        extra = {"tool_choice": choice} if choice else {}
        msg = post(req(prompt, tools=[WEATHER], **extra))
        assert msg["stop_reason"] == "end_turn"
        assert [b["type"] for b in msg["content"]] == ["text"]
        assert "`get_weather` (none called" in text_of(msg)


def test_tool_choice_is_honoured() -> None:
    tools = [WEATHER, {"name": "get_time", "input_schema": {"type": "object", "properties": {}}}]
    forced = post(req("x", tools=tools, tool_choice={"type": "tool", "name": "get_time"}))
    assert [b["type"] for b in forced["content"]] == ["tool_use"]  # no preamble when forced
    assert forced["content"][0]["name"] == "get_time"
    none = post(req("x", tools=tools, tool_choice={"type": "none"}))
    assert none["stop_reason"] == "end_turn" and text_of(none).startswith(MARKER)


def test_only_server_tools_means_a_text_reply() -> None:
    msg = post(req("x", tools=[{"type": "web_search_20250305", "name": "web_search"}]))
    assert msg["stop_reason"] == "end_turn"


def test_after_tool_results_the_reply_mentions_them() -> None:
    first = post(req("Weather in Paris?", tools=[WEATHER]))
    call = first["content"][-1]
    history = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": first["content"]},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": call["id"], "content": "18 C and sunny"}
            ],
        },
    ]
    msg = post(req(*history, tools=[WEATHER]))
    assert msg["stop_reason"] == "end_turn"
    text = text_of(msg)
    assert text.startswith(MARKER)
    assert "`get_weather` returned: “18 C and sunny”" in text


def test_tool_error_results_are_reported() -> None:
    history = [
        {"role": "user", "content": "x"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "calc", "input": {}}],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "is_error": True,
                    "content": [{"type": "text", "text": "division by zero"}],
                }
            ],
        },
    ]
    assert "`calc` reported an error: “division by zero”" in text_of(post(req(*history)))


@pytest.mark.parametrize("schema", [TRICKY_SCHEMA, {"type": "array", "items": {"type": "integer"}}])
def test_structured_output_is_json_valid_against_the_schema(schema: dict[str, Any]) -> None:
    msg = post(req("Extract", output_config={"format": {"type": "json_schema", "schema": schema}}))
    jsonschema.validate(json.loads(text_of(msg)), schema)


def test_structured_output_beta_form() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    body = req("Extract", output_format={"type": "json_schema", "schema": schema})
    with httpx.Client(transport=FakeAnthropic(), base_url="https://x", headers=HEADERS) as c:
        r = c.post("/v1/messages?beta=true", json=body)
    jsonschema.validate(json.loads(text_of(r.json())), schema)


def test_thinking_block_comes_first_with_a_signature() -> None:
    body = req(
        "Why is the sky blue?", thinking={"type": "enabled", "budget_tokens": 1024}, max_tokens=2000
    )
    msg = post(body)
    thinking, _text = msg["content"]
    assert thinking["type"] == "thinking" and thinking["thinking"] and thinking["signature"]
    assert text_of(msg).startswith(MARKER)
    events = stream(body)
    kinds = [
        e["delta"]["type"] for e in events if e["type"] == "content_block_delta" and e["index"] == 0
    ]
    assert kinds[-1] == "signature_delta" and set(kinds[:-1]) == {"thinking_delta"}


def test_adaptive_thinking_with_omitted_display() -> None:
    body = req("Hi", model="claude-opus-5", thinking={"type": "adaptive", "display": "omitted"})
    thinking = post(body)["content"][0]
    assert thinking == {"type": "thinking", "thinking": "", "signature": thinking["signature"]}


def test_thinking_history_can_be_sent_back() -> None:
    """A reply from the fake, put back into the history, is a valid next request."""
    body = req(
        "Weather?",
        tools=[WEATHER],
        thinking={"type": "enabled", "budget_tokens": 1024},
        max_tokens=2000,
    )
    first = post(body)
    assert [b["type"] for b in first["content"]] == ["thinking", "text", "tool_use"]
    call = first["content"][-1]
    body["messages"] += [
        {"role": "assistant", "content": first["content"]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call["id"], "content": "rain"}],
        },
    ]
    second = post(body)
    assert "returned: “rain”" in text_of(second)


def test_usage_counts_the_whole_request() -> None:
    small = post(req("Hi"))["usage"]["input_tokens"]
    with_system = post(req("Hi", system="word " * 100))["usage"]["input_tokens"]
    with_tools = post(req("Hi", tools=[WEATHER]))["usage"]["input_tokens"]
    image = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": png((750, 100))},
    }
    with_image = post(req({"role": "user", "content": [image, {"type": "text", "text": "Hi"}]}))
    assert with_system > small + 100 and with_tools > small + 300
    assert with_image["usage"]["input_tokens"] == small + 100  # ceil(750 * 100 / 750)
    events = stream(req("Hi"))
    assert events[0]["message"]["usage"]["output_tokens"] == 1
    final = events[-2]["usage"]
    assert final["input_tokens"] == small and final["output_tokens"] > 20


def test_count_tokens_matches_usage() -> None:
    body = req("How many tokens is this?", system="sys")
    usage = post(body)["usage"]["input_tokens"]
    with httpx.Client(transport=FakeAnthropic(), base_url="https://x", headers=HEADERS) as c:
        count = c.post(
            "/v1/messages/count_tokens",
            json={k: v for k, v in body.items() if k != "max_tokens"},
        ).json()
    assert count == {"input_tokens": usage}

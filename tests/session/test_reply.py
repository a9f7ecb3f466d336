"""Reply: fields, footer, safe rendering, citations as footnotes."""

from __future__ import annotations

from typing import Any

from nbclaude import Reply
from nbclaude._session.reply import citation_label, footer_text


def message(content: list[dict[str, Any]], **extra: Any) -> Any:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": content,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 100, "output_tokens": 20},
        **extra,
    }


def test_fields() -> None:
    r = Reply(
        message(
            [
                {"type": "thinking", "thinking": "hmm", "signature": "s"},
                {"type": "text", "text": "Hello"},
                {"type": "text", "text": " there"},
            ]
        ),
        request_id="req_1",
        prefill="P: ",
    )
    assert (r.text, r.thinking, r.id, r.model, r.request_id) == (
        "Hello there",
        "hmm",
        "msg_1",
        "claude-haiku-4-5",
        "req_1",
    )
    assert (
        r.usage == {"input_tokens": 100, "output_tokens": 20} and r.cost == (100 * 1 + 20 * 5) / 1e6
    )
    assert str(r) == "Hello there" and "Hello there" in repr(r)


def test_footer() -> None:
    assert (
        footer_text(
            model="m",
            usage={"input_tokens": 1200, "output_tokens": 3},
            cost=None,
            stop_reason="max_tokens",
        )
        == "m · 1,200 in / 3 out tokens · max_tokens"
    )
    assert footer_text(
        model="m",
        usage={"input_tokens": 1, "output_tokens": 1},
        cost=0.5,
        stop_reason=None,
        interrupted=True,
    ).endswith("$0.5000 · interrupted")


def test_citations_become_numbered_footnotes() -> None:
    doc = {
        "type": "char_location",
        "cited_text": "The grass is green.",
        "document_index": 0,
        "document_title": "Example Document",
        "start_char_index": 0,
        "end_char_index": 20,
    }
    web = {
        "type": "web_search_result_location",
        "cited_text": "Sky is blue",
        "url": "https://example.org/sky",
        "title": "Sky facts",
        "encrypted_index": "x",
    }
    r = Reply(
        message(
            [
                {"type": "text", "text": "According to the document, "},
                {"type": "text", "text": "the grass is green", "citations": [doc]},
                {"type": "text", "text": " and "},
                {"type": "text", "text": "the sky is blue", "citations": [web, doc]},
                {"type": "text", "text": "."},
            ]
        )
    )
    md = r.markdown
    assert md.startswith(
        "According to the document, the grass is green[1] and the sky is blue[2][1]."
    )
    assert "**Sources**" in md
    assert "1. “The grass is green.” — Example Document" in md
    assert "2. “Sky is blue” — [Sky facts](https://example.org/sky)" in md
    assert r.text == "According to the document, the grass is green and the sky is blue."
    rendered = r._repr_mimebundle_()["text/markdown"]
    assert "Sources" in rendered and "example.org/sky" in rendered


def test_citation_labels() -> None:
    assert (
        citation_label(
            {
                "type": "page_location",
                "cited_text": "x",
                "document_index": 1,
                "start_page_number": 2,
                "end_page_number": 5,
            }
        )
        == "“x” — document 2, pp. 2-4"
    )
    assert (
        citation_label(
            {"type": "search_result_location", "cited_text": "", "source": "s", "title": "T"}
        )
        == "T"
    )

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
    ).endswith("$0.50 · interrupted")


def test_footer_money_is_plain_decimals() -> None:
    def foot(cost: float) -> str:
        return footer_text(model="m", usage={}, cost=cost, stop_reason="end_turn")

    assert foot(4.6e-05) == "m · 0 in / 0 out tokens · $0.000046 · end_turn"  # was $4.6e-05
    assert foot(0.0046).endswith(" · $0.0046 · end_turn")
    assert foot(1.2449).endswith(" · $1.24 · end_turn")


def test_a_stopped_reply_estimates_its_output() -> None:
    """A reply stopped mid-stream has only message_start's usage (1 output token): the
    footer says about how long it was instead of claiming 1 token after a paragraph."""
    text = "word " * 200
    r = Reply(
        {"id": "m", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
         "content": [{"type": "text", "text": text}], "stop_reason": None,
         "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1}},
        interrupted=True,
    )  # fmt: skip
    assert r.output_estimated and r.output_tokens == 250
    assert " / ≈250 out tokens · ≈$" in r.footer() and r.footer().endswith("interrupted")
    finished = Reply({**r.message, "stop_reason": "end_turn"})
    assert not finished.output_estimated and finished.output_tokens == 1


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

"""Every path model text takes to ``text/markdown`` is safe, TeX included.

The paths: the cell's final output (``Reply.display_markdown``, ``final_bundle``: text,
citation footnotes, thinking, tool calls and results, footer), the live streaming output of
``%%claude`` (``LiveMarkdown``: committed blocks and the live tail, as each update is sent) and
``%claude history``. Each is fed hostile text and every bundle it publishes is checked with the
render harness (CommonMark, VS Code, marked, JupyterLab's pre-pass + marked + MathJax's scan).
"""

from __future__ import annotations

from typing import Any

import pytest
from render_harness import ATTACKS, Marked, assert_safe

from nbclaude._ipython.display import LiveMarkdown, final_bundle
from nbclaude._session.reply import Reply

TEX = [v["markdown"] for v in ATTACKS if v["id"].startswith("tex-")]
HOSTILE = "\n\n".join(TEX)


def message(content: list[dict[str, Any]], model: str = "claude-haiku-4-5") -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 2},
        "content": content,
    }


def citations(text: str) -> list[dict[str, Any]]:
    return [
        {"type": "page_location", "cited_text": text, "document_title": text,
         "document_index": 0, "start_page_number": 1, "end_page_number": 2},
        {"type": "web_search_result_location", "cited_text": text, "title": text,
         "url": "https://ok.example/$\\unicode[x;position:fixed]{x41}$"},
        {"type": "search_result_location", "cited_text": text, "title": text, "source": text},
    ]  # fmt: skip


@pytest.mark.parametrize("attack", TEX[::3])
def test_reply_text_thinking_and_citations(attack: str, marked: Marked) -> None:
    reply = Reply(
        message(
            [
                {"type": "thinking", "thinking": attack, "signature": "s"},
                {"type": "text", "text": attack, "citations": citations(attack)},
            ],
            model=attack.replace("\n", " "),  # the server names the model: not trusted either
        ),
        prefill="Sure: $\\def\\x{1}$",
    )
    bundle = reply._repr_mimebundle_()
    assert_safe(bundle["text/markdown"], marked)
    final = final_bundle(
        markdown=reply.display_markdown(),
        plain=reply.text,
        footer=reply.footer(),
        warnings=[attack],
    )
    assert_safe(final["text/markdown"], marked)


def test_tool_input_and_result(marked: Marked) -> None:
    attack = "$\\unicode[x;position:fixed;inset:0]{x41}$ \\begin{x}\\style{left:0}{y}\\end{x}"
    call = {"type": "tool_use", "id": "t1", "name": "search", "input": {"q": attack}}
    first = Reply(message([{"type": "text", "text": attack}, call]))
    reply = Reply(
        message([{"type": "text", "text": attack}]),
        steps=[first],
        tool_results=[
            {
                "type": "tool_result",
                "tool_use_id": "t1",
                "content": [{"type": "text", "text": attack}],
            }
        ],
    )
    assert_safe(reply._repr_mimebundle_()["text/markdown"], marked)


def test_tool_name(marked: Marked) -> None:
    name = "$\\unicode[x;position:fixed;inset:0]{x41}$"
    call = {"type": "tool_use", "id": "t1", "name": name, "input": {}}
    reply = Reply(message([call]))
    assert_safe(reply._repr_mimebundle_()["text/markdown"], marked)


class _Handle:
    def __init__(self, sent: list[Any], obj: Any) -> None:
        self.sent = sent
        sent.append(obj)

    def update(self, obj: Any) -> None:
        self.sent.append(obj)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Everything LiveMarkdown sends to the front end, in order."""
    import IPython.display

    sent: list[Any] = []

    def display(obj: Any, *, display_id: bool = False, raw: bool = False) -> _Handle:
        return _Handle(sent, obj)

    monkeypatch.setattr(IPython.display, "display", display)
    monkeypatch.setattr(IPython.display, "clear_output", lambda wait=False: None)
    return sent


def markdown_of(obj: Any) -> str:
    bundle = obj if isinstance(obj, dict) else obj._repr_mimebundle_()
    return str(bundle.get("text/markdown", ""))


@pytest.mark.parametrize("size", [1, 7, 40])
def test_live_streaming_output(size: int, published: list[Any], marked: Marked) -> None:
    live = LiveMarkdown(interval=0)
    for k in range(0, len(HOSTILE), size):
        live.feed(HOSTILE[k : k + size])
    live.flush()
    reply = Reply(message([{"type": "text", "text": HOSTILE}]))
    live.finish(final_bundle(markdown=reply.display_markdown(), plain=reply.text, footer="f"))
    shown = [markdown_of(obj) for obj in published]
    assert len(shown) > len(TEX)  # the tail was re-sent as it grew
    # (checking every distinct update with node's marked is slow: the Python renderers see all
    # of them, marked and JupyterLab's pre-pass every 5th and the final output)
    distinct = list(dict.fromkeys(shown))
    for i, markdown in enumerate(distinct):
        assert_safe(markdown, marked if i % 5 == 0 or i == len(distinct) - 1 else None)

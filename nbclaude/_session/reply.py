"""``Reply``: one finished (or stopped) turn, which renders itself safely in a notebook."""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from nbclaude._api.models import cost as price
from nbclaude._types import Message

from .money import usd

__all__ = ["Reply", "citation_label", "details", "fenced", "footer_text", "tool_details"]


def citation_label(citation: Mapping[str, Any]) -> str:
    """One footnote: the quoted cited text and where it comes from.

    Examples
    --------
    >>> citation_label({"type": "page_location", "cited_text": "Water boils at 100 °C.",
    ...                 "document_title": "Physics notes", "start_page_number": 3,
    ...                 "end_page_number": 4})
    '“Water boils at 100 °C.” — Physics notes, p. 3'
    """
    cited = " ".join(str(citation.get("cited_text") or "").split())
    if len(cited) > 200:
        cited = cited[:197] + "…"
    kind = citation.get("type")
    if kind == "web_search_result_location":
        title = str(citation.get("title") or citation.get("url") or "web page")
        where = f"[{title}]({citation.get('url', '')})"
    elif kind == "search_result_location":
        where = str(citation.get("title") or citation.get("source") or "search result")
    else:
        index = citation.get("document_index")
        where = str(
            citation.get("document_title")
            or (f"document {index + 1}" if isinstance(index, int) else "document")
        )
        start, end = citation.get("start_page_number"), citation.get("end_page_number")
        if isinstance(start, int):
            last = end - 1 if isinstance(end, int) and end > start else start
            where += f", p. {start}" if last == start else f", pp. {start}-{last}"
    return f"“{cited}” — {where}" if cited else where


def footer_text(
    *,
    model: str,
    usage: Mapping[str, Any],
    cost: float | None,
    stop_reason: str | None,
    interrupted: bool = False,
    estimated: bool = False,
    replayed: bool = False,
) -> str:
    """The one-line footer: model · input/output tokens · cost · stop reason.

    ``estimated``: the output count (and so the cost) is an estimate, marked ``≈`` (a reply
    stopped before the API said how long it was). ``replayed``: the reply came from a
    cassette (``%claude replay``), not from the model just now; said at the end.

    Examples
    --------
    >>> footer_text(model="claude-haiku-4-5", usage={"input_tokens": 12, "output_tokens": 30},
    ...             cost=0.000162, stop_reason="end_turn")
    'claude-haiku-4-5 · 12 in / 30 out tokens · $0.00016 · end_turn'
    >>> footer_text(model="m", usage={"input_tokens": 12, "output_tokens": 250}, cost=0.0013,
    ...             stop_reason=None, interrupted=True, estimated=True)
    'm · 12 in / ≈250 out tokens · ≈$0.0013 · interrupted'
    >>> footer_text(model="m", usage={"input_tokens": 3, "output_tokens": 4}, cost=None,
    ...             stop_reason="end_turn", replayed=True)
    'm · 3 in / 4 out tokens · end_turn · replayed'
    """
    about = "≈" if estimated else ""
    total_in = sum(
        int(usage.get(k) or 0)
        for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )
    out = int(usage.get("output_tokens") or 0)
    parts = [model, f"{total_in:,} in / {about}{out:,} out tokens"]
    cached = int(usage.get("cache_read_input_tokens") or 0)
    if cached:
        parts[-1] += f" ({cached:,} cached)"
    if cost is not None:
        parts.append(about + usd(cost))
    if interrupted:
        parts.append("interrupted")
    elif stop_reason:
        parts.append(stop_reason)
    if replayed:
        parts.append("replayed")
    return " · ".join(parts)


class Reply:
    """A reply from Claude: the API's Message plus what nbclaude knows about the turn.

    In a notebook it renders as Markdown (made safe: no HTML from the model, no remote images,
    no ``javascript:`` links) with a one-line footer.

    Attributes
    ----------
    message : dict
        The API's Message (for a stopped reply, as far as it got).
    prefill : str or None
        The prefill this turn continued; :attr:`text` does not include it.
    request_id : str or None
        The ``request-id`` of the response.
    interrupted : bool
        Whether the reply was stopped before it finished.
    images : list of dict
        The image blocks sent with this turn (for thumbnails).
    steps : list of Reply
        Earlier replies of this turn that called tools (the tool loop); empty otherwise.
    tool_results : list of dict
        The ``tool_result`` blocks sent during this turn, in order (``ToolResult`` objects:
        ``.name``, ``.input``, ``.value``, ``.is_error``).
    schema : Any
        The structured-output schema the turn asked for (``send(..., schema=...)``), if any.

    Examples
    --------
    >>> r = Reply({"id": "msg_1", "type": "message", "role": "assistant",
    ...            "model": "claude-haiku-4-5", "stop_reason": "end_turn",
    ...            "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 2},
    ...            "content": [{"type": "text", "text": "Hi!"}]})
    >>> r.text, r.stop_reason
    ('Hi!', 'end_turn')
    """

    def __init__(
        self,
        message: Message,
        *,
        prefill: str | None = None,
        request_id: str | None = None,
        interrupted: bool = False,
        images: Sequence[Mapping[str, Any]] = (),
        steps: Sequence[Reply] = (),
        tool_results: Sequence[Mapping[str, Any]] = (),
        schema: Any = None,
    ) -> None:
        self.message = message
        self.prefill = prefill
        self.request_id = request_id
        self.interrupted = interrupted
        self.images = list(images)
        self.steps: list[Reply] = list(steps)
        self.tool_results: list[dict[str, Any]] = [
            dict(r) if not isinstance(r, dict) else r for r in tool_results
        ]
        self.schema = schema
        self._data: Any = None
        self._has_data = False

    @property
    def data(self) -> Any:
        """The parsed structured output.

        With ``schema=`` the reply text is parsed as JSON and validated against the schema (and
        turned into the dataclass / TypedDict / type you gave); a reply that does not fit raises
        :class:`~nbclaude.StructuredOutputError` saying where and why. ``%%claude -f json`` sets
        it to the parsed JSON. ``None`` when the turn asked for neither.
        """
        if not self._has_data and self.schema is not None:
            from nbclaude._schema import parse_output

            self._data = parse_output(self.text, self.schema)
            self._has_data = True
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        self._data = value
        self._has_data = True

    # -- the Message's fields -----------------------------------------------------------------

    @property
    def content(self) -> list[dict[str, Any]]:
        """The Message's content blocks."""
        return self.message["content"]

    @property
    def text(self) -> str:
        """The generated text (all text blocks joined; without the prefill)."""
        return "".join(b.get("text") or "" for b in self.content if b.get("type") == "text")

    @property
    def markdown(self) -> str:
        """The generated text as Markdown, with citations as numbered footnotes.

        Each text block that cites sources is followed by its markers (``[1]``), and a
        "Sources" list ends the text: quoted cited text, then the document title and page, or
        the web page as a link. This is what the notebook shows (made safe by the renderer).
        """
        pieces: list[str] = []
        sources: dict[str, int] = {}
        for block in self.content:
            if block.get("type") != "text":
                continue
            pieces.append(str(block.get("text") or ""))
            marks: dict[int, None] = {}
            for citation in block.get("citations") or []:
                if isinstance(citation, dict):
                    label = citation_label(citation)
                    marks[sources.setdefault(label, len(sources) + 1)] = None
            pieces.extend(f"[{n}]" for n in marks)
        text = "".join(pieces)
        if sources:
            notes = "\n".join(f"{n}. {label}" for label, n in sources.items())
            text += f"\n\n**Sources**\n\n{notes}"
        return text

    @property
    def thinking(self) -> str:
        """The visible thinking, if any (all thinking blocks joined)."""
        return "\n\n".join(
            b.get("thinking") or "" for b in self.content if b.get("type") == "thinking"
        )

    @property
    def usage(self) -> dict[str, Any]:
        """Token counts of this turn (the API's ``usage``)."""
        return dict(self.message["usage"])

    @property
    def stop_reason(self) -> str | None:
        """``end_turn``, ``max_tokens``, ``stop_sequence``, ``tool_use``, ``refusal``, ...;
        ``None`` when the reply was interrupted."""
        return self.message.get("stop_reason")

    @property
    def model(self) -> str:
        """The model that answered (the resolved id, e.g. with a date suffix)."""
        return str(self.message.get("model") or "")

    @property
    def id(self) -> str:
        """The Message id (``msg_...``)."""
        return str(self.message.get("id") or "")

    @property
    def cost(self) -> float | None:
        """The price of this turn in USD, or ``None`` for a model without a known price."""
        return price(self.model, self.usage)

    # -- display ------------------------------------------------------------------------------

    @property
    def output_estimated(self) -> bool:
        """Whether :attr:`output_tokens` is an estimate: the reply was stopped before the API
        reported its length (its ``usage`` still says what the stream began with)."""
        return self.interrupted and self.stop_reason is None

    @property
    def output_tokens(self) -> int:
        """Output tokens: the API's count, or for a stopped reply an estimate from what
        arrived (about 4 characters a token)."""
        counted = int(self.usage.get("output_tokens") or 0)
        if not self.output_estimated:
            return counted
        chars = sum(
            len(str(b.get("text") or b.get("thinking") or json.dumps(b.get("input") or "")))
            for b in self.content
        )
        return max(counted, math.ceil(chars / 4))

    def footer(self) -> str:
        """The one-line summary shown under the reply."""
        usage, cost = self.usage, self.cost
        if self.output_estimated:
            usage = {**usage, "output_tokens": self.output_tokens}
            cost = price(self.model, usage)
        return footer_text(
            model=self.model,
            usage=usage,
            cost=cost,
            stop_reason=self.stop_reason,
            interrupted=self.interrupted,
            estimated=self.output_estimated,
            replayed=self.replayed,
        )

    @property
    def replayed(self) -> bool:
        """Whether this reply came from a cassette (``%claude replay``, ``NBCLAUDE_REPLAY``),
        not from the model: its ``request-id`` says so (``nbclaude.testing.is_replayed``)."""
        if not self.request_id:
            return False
        from nbclaude.testing import is_replayed

        return is_replayed(self.request_id)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        text = self.text
        short = text if len(text) <= 60 else text[:57] + "..."
        flag = ", interrupted=True" if self.interrupted else ""
        return (
            f"Reply(model={self.model!r}, stop_reason={self.stop_reason!r}{flag}, text={short!r})"
        )

    def display_markdown(self) -> str:
        """Everything this turn showed, as safe Markdown: for each step its thinking
        (collapsed), its text (with citation footnotes) and its tool calls (collapsed)."""
        from nbclaude._markdown import safe_markdown

        results = {r.get("tool_use_id"): r for r in self.tool_results}
        parts: list[str] = []
        for i, step in enumerate([*self.steps, self]):
            if step.thinking.strip():
                parts.append(details("Thinking", safe_markdown(step.thinking)))
            text = ((self.prefill or "") if i == 0 else "") + step.markdown
            if text.strip():
                parts.append(safe_markdown(text))
            for block in step.content:
                if block.get("type") == "tool_use":
                    parts.append(tool_details(block, results.get(block.get("id"))))
        return "\n\n".join(parts)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from nbclaude._markdown import escape_text

        body = self.display_markdown()
        foot = f"<sub>{escape_text(self.footer())}</sub>"
        markdown = f"{body}\n\n{foot}" if body.strip() else foot
        plain = (self.prefill or "") + self.text
        return {"text/markdown": markdown, "text/plain": f"{plain}\n\n[{self.footer()}]"}


def details(summary: str, body: str) -> str:
    """A collapsed section (our own HTML around already-safe Markdown)."""
    return f"<details><summary>{html.escape(summary)}</summary>\n\n{body}\n\n</details>"


def fenced(code: str, lang: str = "") -> str:
    """``code`` in a fence no backtick run inside it can close."""
    longest = max((len(m) for m in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{code.rstrip()}\n{fence}"


def tool_details(call: Mapping[str, Any], result: Mapping[str, Any] | None) -> str:
    """A tool call and its result, collapsed: the summary names the tool and the outcome."""
    name = str(call.get("name", "tool"))
    if result is None:
        state = "not run"
    elif getattr(result, "declined", False):
        state = "declined"
    else:
        state = "failed" if result.get("is_error") else "done"
    body = [
        f"Input:\n\n{fenced(json.dumps(call.get('input'), indent=2, ensure_ascii=False), 'json')}"
    ]
    if result is not None:
        content = result.get("content")
        if isinstance(content, list):
            pieces = [
                str(b.get("text", "")) if b.get("type") == "text" else f"[{b.get('type')}]"
                for b in content
                if isinstance(b, Mapping)
            ]
            content = "\n".join(pieces)
        body.append(f"Result:\n\n{fenced(str(content or ''))}")
    return details(f"🔧 {_inert(name)} — {state}", "\n\n".join(body))


def _inert(text: str) -> str:
    """Text MathJax (which scans the page, ``<summary>`` included) shows as it is."""
    return text.replace("\\", "\\\\").replace("$", "\\$")

"""``Reply``: one finished (or stopped) turn, which renders itself safely in a notebook."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._models_info import cost as price
from ._types import Message

__all__ = ["Reply", "citation_label", "footer_text"]


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
) -> str:
    """The one-line footer: model · input/output tokens · cost · stop reason.

    Examples
    --------
    >>> footer_text(model="claude-haiku-4-5", usage={"input_tokens": 12, "output_tokens": 30},
    ...             cost=0.000162, stop_reason="end_turn")
    'claude-haiku-4-5 · 12 in / 30 out tokens · $0.00016 · end_turn'
    """
    total_in = sum(
        int(usage.get(k) or 0)
        for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    )
    parts = [model, f"{total_in:,} in / {int(usage.get('output_tokens') or 0):,} out tokens"]
    cached = int(usage.get("cache_read_input_tokens") or 0)
    if cached:
        parts[-1] += f" ({cached:,} cached)"
    if cost is not None:
        parts.append(f"${cost:.2g}" if cost < 0.01 else f"${cost:.4f}")
    if interrupted:
        parts.append("interrupted")
    elif stop_reason:
        parts.append(stop_reason)
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
    data : Any
        Parsed structured output, when the turn asked for it (``%%claude -f json``);
        ``None`` otherwise.

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
    ) -> None:
        self.message = message
        self.prefill = prefill
        self.request_id = request_id
        self.interrupted = interrupted
        self.images = list(images)
        self.data: Any = None

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

    def footer(self) -> str:
        """The one-line summary shown under the reply."""
        return footer_text(
            model=self.model,
            usage=self.usage,
            cost=self.cost,
            stop_reason=self.stop_reason,
            interrupted=self.interrupted,
        )

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        text = self.text
        short = text if len(text) <= 60 else text[:57] + "..."
        flag = ", interrupted=True" if self.interrupted else ""
        return (
            f"Reply(model={self.model!r}, stop_reason={self.stop_reason!r}{flag}, text={short!r})"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from ._render import escape_text, safe_markdown

        # The prefill is shown joined to the reply, as it reads in the history.
        full = (self.prefill or "") + self.markdown
        foot = f"<sub>{escape_text(self.footer())}</sub>"
        markdown = f"{safe_markdown(full)}\n\n{foot}" if full.strip() else foot
        return {"text/markdown": markdown, "text/plain": f"{full}\n\n[{self.footer()}]"}

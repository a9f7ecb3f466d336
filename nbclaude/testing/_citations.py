"""Citations in the default reply: it quotes the documents and search results it received.

With ``citations: {"enabled": true}`` on a document or a ``search_result`` block, the default
reply quotes the first sentence of each (up to five) in a text block that carries one citation
of the real shape (docs/api.md §3; the SDK's ``citation_*_location.py`` types):

* a plain-text document: ``char_location`` (``start_char_index`` / ``end_char_index``, the end
  exclusive);
* a PDF: ``page_location`` (``start_page_number`` 1-based, ``end_page_number`` exclusive), its
  ``cited_text`` read from the page's text operators when the PDF is simple enough;
* a custom-content document: ``content_block_location`` (block indices, the end exclusive);
* a search result: ``search_result_location`` (``search_result_index``, ``source``, ``title``,
  block indices).

``document_index`` counts every document of the request in order, ``search_result_index``
every search result; ``document_title`` is the document's ``title`` or ``None``.
"""

from __future__ import annotations

import re
from typing import Any

from ._request import DocumentRef, ParsedRequest, SearchResultRef

__all__ = ["cited_blocks"]

_SENTENCE = re.compile(r"\S.*?(?:[.!?](?=\s|$)|$)", re.DOTALL)
_PDF_TEXT = re.compile(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj")
_MAX = 5


def _first_sentence(text: str) -> tuple[int, int]:
    """Where the first sentence of ``text`` starts and ends (end exclusive, at most 300)."""
    m = _SENTENCE.search(text)
    if m is None:
        return 0, 0
    start = m.start()
    end = min(m.end(), start + 300)
    while end < len(text) and text[end : end + 1] in (" ", "\n"):
        end += 1  # the API's cited_text keeps the whitespace after the sentence
    return start, end


def _pdf_text(raw: bytes) -> str:
    parts = [m.group(1).decode("latin-1") for m in _PDF_TEXT.finditer(raw)]
    return re.sub(r"\\(.)", r"\1", " ".join(parts)).strip()


def _document(doc: DocumentRef, index: int) -> dict[str, Any] | None:
    common = {"document_index": index, "document_title": doc.title}
    if doc.source_type == "text" and doc.text.strip():
        start, end = _first_sentence(doc.text)
        return {
            "type": "char_location",
            "cited_text": doc.text[start:end],
            **common,
            "start_char_index": start,
            "end_char_index": end,
        }
    if doc.source_type == "base64" and doc.media_type == "application/pdf":
        text = _pdf_text(doc.raw)
        start, end = _first_sentence(text)
        return {
            "type": "page_location",
            "cited_text": text[start:end],
            **common,
            "start_page_number": 1,
            "end_page_number": 2,
        }
    if doc.source_type == "content" and doc.blocks:
        k = next((i for i, b in enumerate(doc.blocks) if b.strip()), 0)
        return {
            "type": "content_block_location",
            "cited_text": doc.blocks[k],
            **common,
            "start_block_index": k,
            "end_block_index": k + 1,
        }
    return None


def _search_result(result: SearchResultRef, index: int) -> dict[str, Any] | None:
    k = next((i for i, b in enumerate(result.blocks) if b.strip()), None)
    if k is None:
        return None
    return {
        "type": "search_result_location",
        "cited_text": result.blocks[k],
        "search_result_index": index,
        "source": result.source,
        "title": result.title,
        "start_block_index": k,
        "end_block_index": k + 1,
    }


def _label(citation: dict[str, Any]) -> str:
    if citation["type"] == "search_result_location":
        return f"The search result {citation['title']!r} says: "
    title = citation.get("document_title")
    return f"Document {citation['document_index'] + 1}{f' ({title})' if title else ''} says: "


def cited_blocks(parsed: ParsedRequest, intro: str) -> list[dict[str, Any]] | None:
    """The text blocks of a reply that quotes what it may cite, or ``None`` when the request
    enables citations nowhere."""
    citations = [
        c
        for i, d in enumerate(parsed.documents)
        if d.citations and (c := _document(d, i)) is not None
    ]
    citations += [
        c
        for i, r in enumerate(parsed.search_results)
        if r.citations and (c := _search_result(r, i)) is not None
    ]
    if not citations:
        return None
    blocks: list[dict[str, Any]] = [{"type": "text", "text": intro}]
    for citation in citations[:_MAX]:
        quote = citation["cited_text"].strip() or "(this part)"
        blocks.append({"type": "text", "text": _label(citation)})
        blocks.append({"type": "text", "text": quote, "citations": [citation]})
    return blocks

"""A request's worst case in dollars, worked out before it is sent: what a budget is kept with.

nbclaude does not ask the API how many tokens a request has (``count_tokens`` is a network call
with its own rate limit, one more for every turn). It bounds them instead, cheaply and from
above, so a request it lets through cannot cost more than it said:

- **text** (messages, the system prompt, tool definitions and calls, structured-output
  schemas): one token per UTF-8 byte, keys included. A token always covers at least one byte,
  so this is a true upper bound (English text is about 4 bytes a token: the bound is about 4x
  the real count).
- **images**: 4,784 tokens each, the most the API lets one image cost on any model (it scales
  larger ones down; docs/api.md §6).
- **PDF documents**: 6,000 tokens a page (the page as an image, plus a full page of text); the
  pages are counted in the file, and a PDF whose pages cannot be counted (or one sent by URL)
  counts as its size in 50 KB steps, at most 100 pages (the API's limit).
- **tools**: 1,000 tokens more when a request offers tools (the API's tool-use system prompt).
- **output**: ``max_tokens`` (which includes any thinking budget) at the output price.
- **prompt caching**: with any ``cache_control`` in the request, input is priced as a cache
  write (1.25x, or 2x with a one-hour ``ttl``), the most it can cost.

A batch is the sum of its requests at the batch price. Fees of server tools (web search, code
execution) are not counted. A model without a known price has no worst case: with a budget,
such a request is refused.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from nbclaude._api.models import model_spec

__all__ = [
    "IMAGE_TOKENS",
    "PDF_PAGE_TOKENS",
    "Estimate",
    "estimate",
    "estimate_batch",
    "input_tokens_bound",
]

#: The most one image can cost in input tokens (Opus 4.7+ keeps up to ~3.75 MP).
IMAGE_TOKENS = 4_784
#: What one PDF page can cost: the page as an image plus a full page of text.
PDF_PAGE_TOKENS = 6_000
#: The API's tool-use system prompt (about 350 tokens; counted generously).
TOOLS_TOKENS = 1_000
_MESSAGE_TOKENS = 8  # role markers and separators around each message
_MAX_PDF_PAGES = 100
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
#: Body fields that are not input text.
_NOT_INPUT = frozenset(
    {"model", "max_tokens", "stream", "temperature", "top_p", "top_k", "stop_sequences",
     "metadata", "thinking", "service_tier", "container", "inference_geo"}
)  # fmt: skip


@dataclass(frozen=True)
class Estimate:
    """A request's (or a batch's) worst case.

    Examples
    --------
    >>> e = Estimate("claude-haiku-4-5", 1_200, 1_024, 0.00632)
    >>> e.describe()
    'claude-haiku-4-5: at most 1,200 input tokens and 1,024 output tokens'
    """

    model: str
    input_tokens: int
    output_tokens: int
    #: USD; ``None`` when the model has no known price.
    cost: float | None
    #: How many requests (a batch has one per prompt).
    requests: int = 1
    batch: bool = False

    def describe(self) -> str:
        """What the worst case is made of, for a refusal."""
        text = (
            f"{self.model}: at most {self.input_tokens:,} input tokens and "
            f"{self.output_tokens:,} output tokens"
        )
        if self.batch:
            text += f" in {self.requests:,} batch requests, at the batch price"
        return text


def estimate(body: Mapping[str, Any], *, discount: float = 1.0) -> Estimate:
    """The worst case of one ``/v1/messages`` request body, at ``discount`` x its price.

    Examples
    --------
    >>> body = {"model": "claude-haiku-4-5", "max_tokens": 1000,
    ...         "messages": [{"role": "user", "content": "Hello"}]}
    >>> e = estimate(body)
    >>> e.input_tokens, e.output_tokens, e.cost  # ($1 in / $5 out per million tokens)
    (36, 1000, 0.005036)
    """
    model = str(body.get("model") or "")
    tokens = input_tokens_bound(body)
    output = int(body.get("max_tokens") or 0)
    spec = model_spec(model)
    if spec is None or spec.input_price is None or spec.output_price is None:
        return Estimate(model, tokens, output, None)
    per_input = spec.input_price * _cache_write_factor(body) / 1e6
    cost = (tokens * per_input + output * spec.output_price / 1e6) * discount
    return Estimate(model, tokens, output, _round_up(cost))


def estimate_batch(bodies: Iterable[Mapping[str, Any]], *, discount: float) -> Estimate:
    """The worst case of a batch: the sum of its requests, at ``discount`` x the price.

    Examples
    --------
    >>> body = {"model": "claude-haiku-4-5", "max_tokens": 1000,
    ...         "messages": [{"role": "user", "content": "Hello"}]}
    >>> estimate_batch([body, body], discount=0.5).cost
    0.005036
    """
    parts = [estimate(b, discount=discount) for b in bodies]
    models = sorted({p.model for p in parts})
    costs = [p.cost for p in parts]
    total = None if any(c is None for c in costs) else _round_up(sum(c or 0.0 for c in costs))
    unknown = [p.model for p in parts if p.cost is None]
    return Estimate(
        unknown[0] if unknown else (models[0] if len(models) == 1 else ", ".join(models)),
        sum(p.input_tokens for p in parts),
        sum(p.output_tokens for p in parts),
        total,
        requests=len(parts),
        batch=True,
    )


def input_tokens_bound(body: Mapping[str, Any]) -> int:
    """At most how many input tokens ``body`` can be (the rules in the module docstring).

    Examples
    --------
    >>> input_tokens_bound({"model": "m", "messages": [{"role": "user", "content": "Hi"}]})
    33
    >>> image = {"type": "image", "source": {"type": "base64", "data": "A" * 10**6}}
    >>> input_tokens_bound({"messages": [{"role": "user", "content": [image]}]}) > 4_784
    True
    """
    total = 0
    for key, value in body.items():
        if key in _NOT_INPUT:
            continue
        total += _size(key) + _tokens(value)
        if key == "messages" and isinstance(value, list):
            total += _MESSAGE_TOKENS * len(value)
    if body.get("tools"):
        total += TOOLS_TOKENS
    return total


def _tokens(value: Any) -> int:
    if isinstance(value, Mapping):
        kind = value.get("type")
        if kind == "image":
            return IMAGE_TOKENS
        if kind == "document":
            return _document_tokens(value)
        return sum(_size(k) + _tokens(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return sum(_tokens(v) for v in value)
    return _size(value)


def _size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, (int, float)):
        return len(str(value))
    return 0


def _document_tokens(block: Mapping[str, Any]) -> int:
    source = block.get("source")
    rest = sum(_size(k) + _tokens(v) for k, v in block.items() if k != "source")
    if not isinstance(source, Mapping):
        return rest
    kind = source.get("type")
    if kind == "base64" and source.get("media_type") == "application/pdf":
        return rest + _pdf_pages(str(source.get("data") or "")) * PDF_PAGE_TOKENS
    if kind in ("url", "file"):
        return rest + _MAX_PDF_PAGES * PDF_PAGE_TOKENS
    return rest + _tokens(source)


def _pdf_pages(data: str) -> int:
    try:
        raw = base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        return _MAX_PDF_PAGES
    pages = len(_PDF_PAGE.findall(raw))
    if pages == 0:  # pages hidden in compressed object streams: bound by the size
        pages = math.ceil(len(raw) / 50_000)
    return max(1, min(pages, _MAX_PDF_PAGES))


def _cache_write_factor(body: Mapping[str, Any]) -> float:
    marks = list(_cache_marks(body))
    if not marks:
        return 1.0
    return 2.0 if any(m.get("ttl") == "1h" for m in marks) else 1.25


def _cache_marks(value: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(value, Mapping):
        mark = value.get("cache_control")
        if isinstance(mark, Mapping):
            yield mark
        for v in value.values():
            yield from _cache_marks(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _cache_marks(v)


def _round_up(cost: float) -> float:
    return math.ceil(cost * 1e9) / 1e9

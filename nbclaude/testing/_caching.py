"""Prompt caching, simulated: ``cache_control`` breakpoints, TTLs, and the usage they move.

The prompt is a sequence of cacheable blocks in the API's order: ``tools``, then ``system``,
then each message's content blocks (after the same-role merge). A breakpoint is a block with
``cache_control`` (or the last block, for a top-level ``cache_control``: automatic caching).
Like the API (docs/api.md §3, prompt caching):

* a breakpoint whose prefix reaches the model's minimum cacheable length
  (``ModelSpec.cache_min``: 512 to 4,096 tokens) writes a cache entry for that prefix; a shorter
  one is silently not cached;
* a later request with the same prefix (same model, same blocks up to there; ``cache_control``
  itself is not part of the key) reads it; each breakpoint also looks back up to 20 block
  boundaries for an entry, which is how a conversation whose breakpoint moves forward keeps
  reading what the turn before wrote;
* an entry lives 5 minutes (``ttl: "1h"``: an hour) from its last use; a read refreshes it;
* ``usage.input_tokens`` is what was neither read nor written; ``cache_read_input_tokens``,
  ``cache_creation_input_tokens`` and ``cache_creation.ephemeral_5m/1h_input_tokens`` carry the
  rest, so the three add up to the whole prompt.

Entries are prefix hashes with a token count and an expiry, at most ``limit`` of them (least
recently used dropped first). The clock is ``time.monotonic`` plus :meth:`PromptCache.advance`,
so a test can let an entry expire without waiting.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ._request import ParsedRequest
from ._tokens import count_tokens, image_tokens

__all__ = ["LOOKBACK", "PromptCache"]

#: Block boundaries a breakpoint looks back over for an entry.
LOOKBACK = 20
_TTL = {"5m": 300.0, "1h": 3600.0}


@dataclass(frozen=True)
class _Block:
    key: bytes  # the prefix hash up to and including this block
    end: int  # tokens of the prompt up to and including this block
    ttl: str | None  # its cache_control's ttl ("5m" / "1h"), None when no breakpoint


def _canonical(block: Mapping[str, Any]) -> bytes:
    rest = {k: v for k, v in block.items() if k != "cache_control"}
    return json.dumps(rest, sort_keys=True, separators=(",", ":"), default=str).encode()


def _ttl_of(block: Any) -> str | None:
    cc = block.get("cache_control") if isinstance(block, Mapping) else None
    if not isinstance(cc, Mapping):
        return None
    return str(cc.get("ttl") or "5m")


def _block_tokens(
    block: Mapping[str, Any], images: Mapping[str, tuple[int, int]], path: str
) -> int:
    kind = block.get("type")
    if kind == "text":
        return count_tokens(str(block.get("text", "")))
    if kind == "image":
        w, h = images.get(path, (0, 0))
        return image_tokens(w or None, h or None)
    if kind == "document":
        src = block.get("source") or {}
        if src.get("type") == "text":
            return count_tokens(str(src.get("data", "")))
        if src.get("type") == "content" and isinstance(src.get("content"), str):
            return count_tokens(src["content"])
        return 1500
    if kind == "tool_result" and isinstance(block.get("content"), str):
        return count_tokens(block["content"])
    if kind == "thinking":
        return count_tokens(str(block.get("thinking", "")))
    return count_tokens(json.dumps(block, sort_keys=True, default=str))


def _walk(parsed: ParsedRequest) -> Iterator[tuple[Mapping[str, Any], int]]:
    """Each cacheable block with its token count, in prompt order."""
    body = parsed.body
    tools = body.get("tools") or []
    for i, tool in enumerate(tools):
        tokens = count_tokens(json.dumps(tool, sort_keys=True))
        yield tool, tokens + (300 if i == 0 else 0)  # the tool-use system prompt (_validate)
    system = body.get("system")
    if isinstance(system, str) and system:
        yield {"type": "text", "text": system}, count_tokens(system)
    elif isinstance(system, list):
        for block in system:
            yield block, count_tokens(str(block.get("text", "")))
    images = {
        ref.path.removesuffix(".image"): (ref.info.width or 0, ref.info.height or 0)
        for ref in parsed.images
        if ref.info is not None
    }
    for i, msg in enumerate(parsed.messages):
        for j, block in enumerate(msg["content"]):
            tokens = _block_tokens(block, images, f"messages.{i}.content.{j}")
            yield {"role": msg["role"], **block}, tokens + (3 if j == 0 else 0)


class PromptCache:
    """The prompt cache of one fake (one "organization"), thread-safe.

    Parameters
    ----------
    limit : int
        The most entries kept (least recently used dropped first).
    clock : callable
        Seconds, monotonic; :meth:`advance` adds to it.

    Examples
    --------
    >>> cache = PromptCache()
    >>> cache.advance(301)  # five minutes and a second later: 5-minute entries have expired
    >>> len(cache)
    0
    """

    def __init__(self, *, limit: int = 4096, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._clock = clock
        self._offset = 0.0
        self._lock = threading.Lock()
        self._entries: OrderedDict[bytes, tuple[float, float]] = OrderedDict()  # expiry, ttl

    def __len__(self) -> int:
        with self._lock:
            now = self._now()
            return sum(1 for expiry, _ in self._entries.values() if expiry > now)

    def _now(self) -> float:
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass for the cache (entries expire as if that time went by)."""
        with self._lock:
            self._offset += seconds

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    def apply(self, parsed: ParsedRequest, *, cache_min: int) -> None:
        """Read and write the entries ``parsed`` reaches; set its ``cache_*`` token counts."""
        blocks: list[_Block] = []
        digest = hashlib.sha256(parsed.model.encode())
        end = 4  # the prompt's fixed overhead (_validate counts it too)
        auto = _ttl_of(parsed.body)
        raw = list(_walk(parsed))
        for n, (block, tokens) in enumerate(raw):
            digest.update(b"\x1e" + _canonical(block))
            end += tokens
            ttl = _ttl_of(block) or (auto if n == len(raw) - 1 else None)
            blocks.append(_Block(digest.copy().digest(), end, ttl))
        points = [i for i, b in enumerate(blocks) if b.ttl is not None]
        if not points:
            return
        total = parsed.input_tokens
        with self._lock:
            now = self._now()
            read_at = -1
            for i in points:  # the longest prefix any breakpoint finds
                for k in range(i, max(-1, i - LOOKBACK), -1):
                    hit = self._entries.get(blocks[k].key)
                    if hit is not None and hit[0] > now and k > read_at:
                        read_at = k
                        break
            read = min(blocks[read_at].end, total) if read_at >= 0 else 0
            if read_at >= 0:
                _, lifetime = self._entries[blocks[read_at].key]
                self._entries[blocks[read_at].key] = (now + lifetime, lifetime)
                self._entries.move_to_end(blocks[read_at].key)
            written = {"5m": 0, "1h": 0}
            mark = read
            for i in points:
                b = blocks[i]
                if i <= read_at or b.end < cache_min:
                    continue
                ttl_s = _TTL.get(str(b.ttl), 300.0)
                self._entries[b.key] = (now + ttl_s, ttl_s)
                self._entries.move_to_end(b.key)
                upto = min(b.end, total)
                written["1h" if b.ttl == "1h" else "5m"] += max(0, upto - mark)
                mark = max(mark, upto)
            while len(self._entries) > self._limit:
                self._entries.popitem(last=False)
        parsed.cache_read = read
        parsed.cache_write_5m = written["5m"]
        parsed.cache_write_1h = written["1h"]

"""Cassettes: recorded exchanges with the Messages API, one JSON line each (JSONL).

A line is ``{"version": 1, "key": ..., "recorded_at": ..., "request": {...}, "message":
{...}}``: the request *body* as sent (never its headers, so never a credential), the final
Message the API answered (streamed replies accumulated), and the request's match key; a
stream stopped by the caller (Stop) holds what arrived and ``"stopped": true``. A
cassette is appended to safely from several processes (one ``write`` of a whole line on a file
opened ``O_APPEND``, under an advisory lock where the platform has one) and read with
:func:`load_cassette` (or ``pandas.read_json(path, lines=True)``).

The match key (:func:`match_key`) is a SHA-256 over the canonical JSON of what decides the
answer:

* ``model``, with a dated snapshot id read as its alias (``claude-haiku-4-5-20251001`` and
  ``claude-haiku-4-5`` match);
* ``system`` (a string and one text block match), ``messages`` (string content and one text
  block match; consecutive same-role turns merged, as the API merges them), ``tools`` and
  ``tool_choice``;
* the output settings: ``max_tokens``, ``stop_sequences``, ``thinking``, ``output_config``
  (``effort`` and ``format``) and the beta ``output_format``.

``cache_control`` (anywhere) and the fields that change how, not what, the model answers
(``stream``, ``temperature`` / ``top_p`` / ``top_k``, ``metadata``, ``service_tier``,
``container``, ``inference_geo``, ``speed``, ``diagnostics``, ``thread``) are left out.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbclaude._api.models import model_spec

__all__ = ["CASSETTE_VERSION", "Cassette", "append_exchange", "load_cassette", "match_key"]

CASSETTE_VERSION = 1
#: The request fields the match key reads (besides ``model``, ``system`` and ``messages``).
KEY_FIELDS = (
    "tools",
    "tool_choice",
    "max_tokens",
    "stop_sequences",
    "thinking",
    "output_config",
    "output_format",
)


def _strip(value: Any) -> Any:
    """``value`` without ``cache_control`` keys, at any depth."""
    if isinstance(value, Mapping):
        return {k: _strip(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _blocks(content: Any) -> list[Any]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return list(content) if isinstance(content, list) else [content]


def canonical(body: Mapping[str, Any]) -> dict[str, Any]:
    """What the match key is computed over (see the module docstring).

    Examples
    --------
    >>> a = canonical({"model": "claude-haiku-4-5-20251001", "max_tokens": 5, "stream": True,
    ...                "messages": [{"role": "user", "content": "Hi"}]})
    >>> b = canonical({"model": "claude-haiku-4-5", "max_tokens": 5,
    ...                "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]})
    >>> a == b
    True
    """
    model = str(body.get("model", ""))
    spec = model_spec(model)
    merged: list[dict[str, Any]] = []
    for msg in body.get("messages") or []:
        if not isinstance(msg, Mapping):
            continue
        blocks = _blocks(msg.get("content"))
        if merged and merged[-1]["role"] == msg.get("role"):
            merged[-1]["content"].extend(blocks)
        else:
            merged.append({"role": msg.get("role"), "content": blocks})
    out: dict[str, Any] = {
        "model": spec.id if spec is not None else model,
        "system": _blocks(body.get("system") or []),
        "messages": merged,
    }
    for key in KEY_FIELDS:
        if body.get(key) is not None:
            out[key] = body[key]
    result: dict[str, Any] = _strip(out)
    return result


def match_key(body: Mapping[str, Any]) -> str:
    """The match key of a ``POST /v1/messages`` body (hex SHA-256 of :func:`canonical`).

    Examples
    --------
    >>> body = {"model": "claude-haiku-4-5", "max_tokens": 5,
    ...         "messages": [{"role": "user", "content": "Hi"}]}
    >>> match_key(body) == match_key({**body, "stream": True, "temperature": 0.2})
    True
    >>> match_key(body) == match_key({**body, "max_tokens": 6})
    False
    """
    text = json.dumps(canonical(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Cassette:
    """The exchanges of a cassette file, by match key, each key's replies in recorded order.

    :meth:`take` gives a key's replies one after the other, then keeps giving the last one.

    Examples
    --------
    >>> c = Cassette([{"key": "k", "message": {"id": "a"}}, {"key": "k", "message": {"id": "b"}}])
    >>> [c.take("k")["id"] for _ in range(3)], c.take("other")
    (['a', 'b', 'b'], None)
    """

    entries: list[dict[str, Any]] = field(default_factory=list)
    _by_key: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)
    _used: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for entry in self.entries:
            self._by_key.setdefault(str(entry.get("key")), []).append(entry)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.entries)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def take(self, key: str) -> dict[str, Any] | None:
        """The next recorded Message for ``key``, or ``None`` when none was recorded."""
        entry = self.take_entry(key)
        return None if entry is None else entry["message"]

    def take_entry(self, key: str) -> dict[str, Any] | None:
        """Like :meth:`take`, the whole recorded line (``"stopped"`` says the stream was
        stopped by the caller when it was recorded)."""
        found = self._by_key.get(key)
        if not found:
            return None
        n = self._used.get(key, 0)
        self._used[key] = n + 1
        return found[min(n, len(found) - 1)]


def load_cassette(path: str | os.PathLike[str]) -> Cassette:
    """Read a cassette (a missing file is an empty cassette; blank lines are skipped).

    Raises
    ------
    ValueError
        For a line that is not a recorded exchange (it names the file and the line number).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.jsonl"
    >>> len(load_cassette(p))
    0
    """
    p = Path(path)
    if not p.exists():
        return Cassette()
    entries = []
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if not isinstance(entry, dict) or not isinstance(entry.get("message"), dict):
            raise ValueError(f"{p}:{n}: not a recorded exchange (a JSON object with a message)")
        if "key" not in entry and isinstance(entry.get("request"), dict):
            entry["key"] = match_key(entry["request"])
        entries.append(entry)
    return Cassette(entries)


def append_exchange(
    path: str | os.PathLike[str],
    request: Mapping[str, Any],
    message: Mapping[str, Any],
    *,
    secrets: tuple[str, ...] = (),
    stopped: bool = False,
) -> None:
    """Append one exchange to the cassette at ``path`` (created if missing), as one write.
    ``stopped``: ``message`` is a stream as far as it got when the caller stopped it.

    ``secrets`` (the request's credentials) are replaced by ``"<redacted>"`` wherever they
    appear in the line, so a prompt that contained the key cannot carry it into the file.
    """
    entry = {
        "version": CASSETTE_VERSION,
        "key": match_key(request),
        "recorded_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "request": dict(request),
        "message": dict(message),
    }
    if stopped:
        entry["stopped"] = True
    line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    for secret in secrets:
        if secret:
            line = line.replace(secret, "<redacted>")
    data = (line + "\n").encode("utf-8")
    fd = os.open(os.fspath(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        with _locked(fd):
            while data:  # a regular file takes it in one write; loop in case it does not
                data = data[os.write(fd, data) :]
    finally:
        os.close(fd)


@contextlib.contextmanager
def _locked(fd: int) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: O_APPEND alone
        yield
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)

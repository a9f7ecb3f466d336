"""The instructor's log: one JSON line per turn, appended to the course policy's ``log`` file.

Each line is one JSON object (JSON Lines), so a teacher reads the whole class's log with
``pandas.read_json(path, lines=True)``. Its fields:

=====================  =========================================================================
``time``               when the turn started (UTC, ISO 8601)
``user``               ``$JUPYTERHUB_USER``, else the login name
``notebook``           the notebook's path as Jupyter gave it to the kernel, when known
``kind``               ``"turn"`` (``%%claude``, the widget, ``Session.send``/``stream``) or
                       ``"batch"`` (one line per prompt of a Message Batch)
``model``              the model asked for
``prompt``             the user's text (images and documents are listed, not copied)
``images``             ``[{"media_type", "bytes", "sha256"}]`` (or ``{"url"}``) per image
``documents``          the same for documents
``reply``              Claude's text (for a stopped turn, what arrived)
``stop_reason``        as the API said; ``interrupted``: whether the turn was stopped
``error``              for a turn that failed (it was rolled back), the error in one line
``input_tokens`` ...   ``output_tokens``, ``cache_creation_input_tokens``,
                       ``cache_read_input_tokens``: the turn's tokens (every request of a tool
                       loop added up)
``cost``               the turn's price in USD (batch items at the batch price)
``batch_id``           and ``custom_id``, for batch lines
``truncated``          present (true) when ``prompt`` or ``reply`` was cut to 20,000 characters
=====================  =========================================================================

The key never gets in: the log holds no headers, and the client's key and token are blanked out
of the prompt and the reply (as in every other output of nbclaude). Turns refused before
sending (by the policy or the budget) are not turns: they are not logged.

Several kernels (a whole class) may append to one file at once. Each line is written with one
``os.write`` on a file opened with ``O_APPEND`` (so lines never overwrite one another) while
holding an exclusive ``fcntl.flock`` on it (so they never interleave, even on NFS or for long
lines); lines are bounded (texts are cut to 20,000 characters). A write that fails is logged
as a warning and never breaks the turn.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nbclaude._client.credentials import redact

from .events import ERROR, TURN_END, TURN_START, Event
from .policy import user_name
from .usage import USAGE_KEYS

if TYPE_CHECKING:
    from .reply import Reply

__all__ = ["MAX_TEXT", "Journal", "append_line", "attachments", "notebook_name"]

log = logging.getLogger("nbclaude")

#: Prompt and reply texts longer than this (in characters) are cut, so lines stay bounded.
MAX_TEXT = 20_000


def append_line(path: str, record: Mapping[str, Any]) -> None:
    """Append ``record`` to the JSON Lines file at ``path``: one ``os.write`` of the whole line,
    ``O_APPEND``, under an exclusive ``flock`` (safe from many processes at once).

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.jsonl"
    >>> append_line(str(p), {"prompt": "Hi"}); append_line(str(p), {"prompt": "Bye"})
    >>> [json.loads(line)["prompt"] for line in p.read_text().splitlines()]
    ['Hi', 'Bye']
    """
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
    data = line.encode("utf-8", "surrogatepass")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        _lock(fd)
        written = os.write(fd, data)
        while written < len(data):  # a short write (a full disk, a signal): finish the line
            written += os.write(fd, data[written:])
    finally:
        os.close(fd)  # closing the file releases the lock


def _lock(fd: int) -> None:
    if sys.platform == "win32":  # no flock there: O_APPEND alone
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX)


def notebook_name() -> str | None:
    """The notebook this kernel runs, when Jupyter said: ``$JPY_SESSION_NAME`` (Jupyter Server
    2 and later), or the ``__session__`` / ``__vsc_ipynb_file__`` names of the notebook's
    namespace (ipykernel, VS Code).

    Examples
    --------
    >>> import os
    >>> os.environ["JPY_SESSION_NAME"] = "week1/lab.ipynb"
    >>> notebook_name()
    'week1/lab.ipynb'
    >>> del os.environ["JPY_SESSION_NAME"]
    """
    name = os.environ.get("JPY_SESSION_NAME")
    if name:
        return name
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if callable(get) else None
    ns = getattr(shell, "user_ns", None)
    if isinstance(ns, dict):
        for key in ("__session__", "__vsc_ipynb_file__"):
            value = ns.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def attachments(content: Any) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """A user message's text, and its images and documents as size and SHA-256 (or URL).

    Examples
    --------
    >>> blocks = [{"type": "image", "source": {"type": "base64", "media_type": "image/png",
    ...                                        "data": "aGVsbG8="}},
    ...           {"type": "text", "text": "What is this?"}]
    >>> text, images, documents = attachments(blocks)
    >>> text, images[0]["bytes"], images[0]["sha256"][:12], documents
    ('What is this?', 5, '2cf24dba5fb0', [])
    """
    if isinstance(content, str):
        return content, [], []
    texts: list[str] = []
    images: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text") or ""))
        elif kind in ("image", "document"):
            (images if kind == "image" else documents).append(_described(block))
    return "\n\n".join(texts), images, documents


def _described(block: Mapping[str, Any]) -> dict[str, Any]:
    source = block.get("source")
    if not isinstance(source, Mapping):
        return {}
    kind = source.get("type")
    if kind == "url":
        return {"url": str(source.get("url") or "")}
    if kind == "file":
        return {"file_id": str(source.get("file_id") or "")}
    data = source.get("data")
    if kind == "base64" and isinstance(data, str):
        try:
            raw = base64.b64decode(data, validate=False)
        except (binascii.Error, ValueError):
            raw = data.encode()
    else:
        raw = json.dumps(data, ensure_ascii=False, default=str).encode()
    return {
        "media_type": str(source.get("media_type") or ""),
        "bytes": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
    }


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


class Journal:
    """Writes a session's turns to the instructor's log (subscribe :meth:`on_event`).

    Parameters
    ----------
    path : str
        The log file.
    secrets : callable
        Returns the strings to blank out (the client's key and token).

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> from nbclaude import Client, Session
    >>> from nbclaude.testing import FakeAnthropic, Text
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.jsonl"
    >>> s = Session(model="claude-haiku-4-5",
    ...             client=Client(api_key="sk-ant-x", transport=FakeAnthropic([Text("4")])))
    >>> unsubscribe = s.subscribe(Journal(str(p), secrets=lambda: []).on_event)
    >>> s.send("2+2?").text
    '4'
    >>> line = json.loads(p.read_text())
    >>> line["prompt"], line["reply"], line["kind"], line["output_tokens"] > 0
    ('2+2?', '4', 'turn', True)
    """

    def __init__(self, path: str, *, secrets: Callable[[], Iterable[str]]) -> None:
        self.path = path
        self._secrets = secrets
        self._pending: dict[str, Any] | None = None

    def on_event(self, event: Event) -> None:
        """Note a turn's start; write its line when it ends or fails."""
        if event["type"] == TURN_START:
            text, images, documents = attachments(event["message"].get("content"))
            self._pending = {
                "time": _now(),
                "model": event["model"],
                "prompt": text,
                "images": images,
                "documents": documents,
            }
        elif event["type"] == TURN_END and self._pending is not None:
            pending, self._pending = self._pending, None
            self.write({**pending, **_reply_fields(event["reply"])})
        elif event["type"] == ERROR and self._pending is not None:
            pending, self._pending = self._pending, None
            error = event["error"]
            self.write({**pending, "reply": "", "error": f"{type(error).__name__}: {error}"})

    def log_batch(
        self,
        batch_id: str,
        requests: Sequence[Mapping[str, Any]],
        results: Sequence[Any],
        *,
        started: str,
    ) -> None:
        """One line per prompt of a finished batch: ``requests`` as submitted (``custom_id``,
        ``params``), ``results`` in the same order (``BatchReply``, an error or a marker)."""
        for request, result in zip(requests, results, strict=True):
            params = request.get("params") or {}
            messages = params.get("messages") or [{}]
            text, images, documents = attachments(messages[0].get("content"))
            line: dict[str, Any] = {
                "time": started,
                "model": params.get("model"),
                "prompt": text,
                "images": images,
                "documents": documents,
                "batch_id": batch_id,
                "custom_id": request.get("custom_id"),
            }
            if hasattr(result, "message") and hasattr(result, "text"):
                line.update(_reply_fields(result))
            else:
                line.update({"reply": "", "error": f"{type(result).__name__}: {result}"})
            self.write(line, kind="batch")

    def write(self, fields: Mapping[str, Any], *, kind: str = "turn") -> None:
        """Append one line (blanking out secrets, cutting long texts); a failure is a
        warning, never an error."""
        secrets = [s for s in self._secrets() if s]
        record: dict[str, Any] = {
            "time": fields.get("time") or _now(),
            "user": user_name(),
            "notebook": notebook_name(),
            "kind": kind,
        }
        truncated = False
        for key, value in fields.items():
            if key in ("prompt", "reply", "error") and isinstance(value, str):
                value = redact(value, secrets) if secrets else value
                if len(value) > MAX_TEXT:
                    value, truncated = value[:MAX_TEXT], True
            record.setdefault(key, value)
        if truncated:
            record["truncated"] = True
        try:
            append_line(self.path, record)
        except OSError as exc:
            log.warning("nbclaude: could not write the instructor's log %s: %s", self.path, exc)


def _reply_fields(reply: Reply) -> dict[str, Any]:
    replies = [*reply.steps, reply]
    tokens = dict.fromkeys(USAGE_KEYS, 0)
    costs = []
    for r in replies:
        usage = r.usage
        for key in USAGE_KEYS:
            value = usage.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                tokens[key] += value
        costs.append(r.cost)
    cost = None if any(c is None for c in costs) else round(sum(c or 0.0 for c in costs), 10)
    return {
        "reply": reply.text,
        "stop_reason": reply.stop_reason,
        "interrupted": reply.interrupted,
        **tokens,
        "cost": cost,
    }

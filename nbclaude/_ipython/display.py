"""The live cell output of ``%%claude``: bytes sent grow linearly with the reply.

The Jupyter protocol has no "append": re-sending the whole reply on every token costs O(n²)
bytes and browser work. Instead (docs/architecture.md, "Streaming into a cell"):

- the output is a sequence of display areas; completed top-level Markdown blocks are published
  once, in the area that was the live tail, and a new tail area opens after them;
- only the live tail (the block still being written) is re-sent, at most every ``interval``
  seconds (0.1 s by default);
- a fenced code block that keeps growing is committed line by line (as consecutive code
  blocks), so even a reply that is one long code block stays linear;
- when the reply ends, the cell is replaced by one clean final output (the reply, thumbnails of
  the images sent, a one-line footer), sent once;
- while a request waits to be retried, a status line under the tail says so and counts down
  (:meth:`LiveMarkdown.retrying`, :mod:`nbclaude._ipython.waiting`); it goes when the reply
  starts. It is updated once a second, only while waiting, so it adds nothing per byte.

Only ``IPython.display`` (``display``, ``update_display``, ``clear_output``) is used, so it works
in JupyterLab, Notebook 7, VS Code and Colab without a front-end extension.
"""

from __future__ import annotations

import base64
import html
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = [
    "LiveMarkdown",
    "broken_bundle",
    "final_bundle",
    "finish_broken",
    "finish_reply",
    "thumbnails_html",
]

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})([^\n]*)\n")
_COMMIT_LINES = 12  # commit an open code fence once it has this many complete new lines


class _Markdown:
    """A minimal display object: a ready mime bundle (avoids re-parsing by IPython)."""

    __slots__ = ("bundle",)

    def __init__(self, bundle: dict[str, str]) -> None:
        self.bundle = bundle

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return self.bundle


def _md(markdown: str, plain: str | None = None) -> _Markdown:
    return _Markdown(
        {"text/markdown": markdown, "text/plain": markdown if plain is None else plain}
    )


class LiveMarkdown:
    """A streaming Markdown output in the current cell.

    Parameters
    ----------
    interval : float
        The least time between two updates of the live tail.
    render : callable
        Turns model Markdown into safe Markdown (``nbclaude._markdown.render.safe_markdown``).
    placeholder : str
        What the tail shows before the first text arrives.

    Examples
    --------
    >>> live = LiveMarkdown()          # doctest: +SKIP
    >>> for piece in ["# Title\\n\\n", "Some ", "text"]:   # doctest: +SKIP
    ...     live.feed(piece)
    >>> live.finish({"text/markdown": "...", "text/plain": "..."})  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        interval: float = 0.1,
        render: Callable[[str], str] | None = None,
        placeholder: str = "*…*",
        plain: bool = False,
    ) -> None:
        from IPython import display as ipd

        if render is None:
            from nbclaude._markdown import safe_markdown

            render = safe_markdown
        from .waiting import Countdown

        show: Any = ipd.display  # untyped in IPython
        self._display = show
        self._render = render
        self._interval = interval
        self._plain = plain
        self._pending = ""
        self._shown_tail: str | None = None
        self._last = 0.0
        self._dirty = False
        self._placeholder = placeholder
        self._fed = False  # has text arrived (else the tail shows the placeholder)
        self._status: str | None = None  # the retry line under the tail
        self._lock = threading.RLock()  # the countdown's thread updates the tail too
        self._countdown = Countdown(self.status)
        self._handle = self._display(self._bundle(placeholder, raw=True), display_id=True)

    def _bundle(self, text: str, *, raw: bool = False) -> _Markdown:
        if self._plain:
            return _Markdown({"text/plain": text})
        return _md(text if raw else self._render(text), text)

    def _tail_bundle(self, tail: str) -> _Markdown:
        """The live tail as shown: its text (or the placeholder, before any), and the status
        line under it while there is one."""
        line = self._status
        if line is None:
            return self._bundle(tail) if self._fed else self._bundle(self._placeholder, raw=True)
        plain = f"{tail}\n{line}" if tail else line
        if self._plain:
            return _Markdown({"text/plain": plain})
        from nbclaude._markdown import escape_text

        status = f"*{escape_text(line)}*"
        return _md(f"{self._render(tail)}\n\n{status}" if tail.strip() else status, plain)

    def retrying(self, event: Any) -> None:
        """A request waits to be retried (a ``retry`` event): show its line under the tail
        and count it down once a second until the reply starts (:meth:`waited`)."""
        self._countdown.start(event)

    def waited(self) -> None:
        """The reply started (or a tool call came): the retry line goes."""
        if self._countdown.showing:
            self._countdown.stop()

    def status(self, line: str | None) -> None:
        """Show ``line`` (plain text) under the tail now, or remove it (``None``)."""
        with self._lock:
            if line == self._status:
                return
            self._status = line
            self._handle.update(self._tail_bundle(self._pending))
            self._shown_tail = None  # what the tail shows now is not a tail the flush made

    def feed(self, text: str) -> None:
        """Add streamed text; publishes when ``interval`` has passed since the last update."""
        if not text:
            return
        with self._lock:
            self._pending += text
            self._dirty = True
            self._fed = True
            now = time.monotonic()
            if now - self._last >= self._interval:
                self._last = now
                self.flush()

    def flush(self) -> None:
        """Publish completed blocks and the current tail now."""
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        if self._plain:
            done, tail = _split_lines(self._pending)
        else:
            from nbclaude._markdown import split_blocks

            blocks, tail = split_blocks(self._pending)
            done = "".join(blocks)
            more, tail = _commit_fence_lines(tail)
            done += more
        if done:
            self._handle.update(self._bundle(done))
            self._handle = self._display(self._tail_bundle(tail), display_id=True)
            self._shown_tail = tail
        elif tail != self._shown_tail:
            self._handle.update(self._tail_bundle(tail))
            self._shown_tail = tail
        self._pending = tail

    def clear(self) -> None:
        """Remove what this output showed (before an error line is shown instead)."""
        from IPython import display as ipd

        self._countdown.stop(remove=False)
        clear: Any = ipd.clear_output
        with self._lock:
            self._status = None
            clear()

    def note(self, markdown: str) -> None:
        """Commit everything pending, then show ``markdown`` (already safe) as its own block
        (a tool call, as it happens)."""
        with self._lock:
            if self._pending:
                self._handle.update(self._bundle(self._pending))
                self._handle = self._display(_md(markdown), display_id=True)
            else:
                self._handle.update(_md(markdown))
            self._pending = ""
            self._dirty = False
            self._fed = True
            self._shown_tail = ""
            self._handle = self._display(self._tail_bundle(""), display_id=True)

    def finish(
        self, bundle: Mapping[str, Any], *, metadata: Mapping[str, Any] | None = None
    ) -> None:
        """Replace everything this output showed by one final output (sent once), with
        ``metadata`` (the turn, machine-readable, for a saved notebook to keep)."""
        from IPython import display as ipd

        self._countdown.stop(remove=False)
        clear: Any = ipd.clear_output
        with self._lock:
            self._status = None
            clear(wait=True)
            if metadata:
                self._display(dict(bundle), raw=True, metadata=dict(metadata))
            else:
                self._display(dict(bundle), raw=True)


def _split_lines(text: str) -> tuple[str, str]:
    cut = text.rfind("\n") + 1
    return text[:cut], text[cut:]


def _commit_fence_lines(tail: str) -> tuple[str, str]:
    """Split an open, long fenced code block into a closed part (to commit) and the rest.

    ``"```py\\na\\nb\\n...\\npart"`` -> (``"```py\\na\\nb\\n...\\n```\\n"``, ``"```py\\npart"``).
    """
    m = _FENCE_OPEN.match(tail)
    if m is None:
        return "", tail
    body = tail[m.end() :]
    lines = body.split("\n")
    complete, partial = lines[:-1], lines[-1]
    if len(complete) < _COMMIT_LINES:
        return "", tail
    fence, info = m.group(1), m.group(2)
    closer = fence[0] * len(fence)
    for line in complete:  # a closing fence inside means the splitter would have committed it
        if line.strip().startswith(closer):
            return "", tail
    done = f"{fence}{info}\n" + "\n".join(complete) + f"\n{closer}\n\n"
    return done, f"{fence}{info}\n{partial}"


def thumbnails_html(blocks: Sequence[Mapping[str, Any]], *, size: int = 96) -> str:
    """HTML for small thumbnails of the image blocks we sent (our own ``data:`` images only;
    URL images are shown as plain text, never loaded)."""
    from nbclaude._content.images import thumbnail

    items: list[str] = []
    for i, block in enumerate(blocks, 1):
        source = block.get("source") or {}
        if source.get("type") == "url":
            url = html.escape(str(source.get("url", "")), quote=True)
            items.append(f"<code>image {i}: {url}</code>")
            continue
        thumb = thumbnail(block, max_edge=size * 2)
        if thumb is None:
            continue
        mime, data = thumb
        b64 = base64.b64encode(data).decode()
        items.append(
            f'<img src="data:{html.escape(mime)};base64,{b64}" alt="image {i}" '
            f'style="max-height:{size}px;max-width:{size * 2}px;margin-right:4px">'
        )
    return " ".join(items)


def final_bundle(
    *,
    markdown: str,
    plain: str,
    footer: str,
    images: Sequence[Mapping[str, Any]] = (),
    warnings: Sequence[str] = (),
    fmt: str = "markdown",
) -> dict[str, Any]:
    """The one clean output left in the cell when a reply ends.

    ``markdown`` must already be safe (``Reply._display_markdown()``, or a fenced block);
    ``fmt="text"`` shows ``plain`` only.
    """
    from nbclaude._markdown import escape_text

    if fmt == "text":
        return {"text/plain": "\n".join([*warnings, plain, "", f"[{footer}]"])}
    parts: list[str] = [f"> ⚠ {escape_text(w)}" for w in warnings]
    thumbs = thumbnails_html(images)
    if thumbs:
        parts.append(thumbs)
    if markdown.strip():
        parts.append(markdown)
    parts.append(f"<sub>{escape_text(footer)}</sub>")
    text = "\n".join([*warnings, plain, "", f"[{footer}]"])
    return {"text/markdown": "\n\n".join(parts), "text/plain": text}


def finish_reply(
    live: LiveMarkdown,
    session: Any,
    reply: Any,
    shown: Any,
    *,
    fmt: str,
    warnings: Sequence[str],
    started: Mapping[str, Any],
) -> None:
    """End a ``%%claude`` cell with its final output: the reply as ``shown``
    (``formats.shown_as``), and its turn in the output's metadata."""
    from nbclaude._session.transcript_format import KEY, cell_transcript

    bundle = final_bundle(
        markdown=shown.markdown,
        plain=(reply.prefill or "") + reply.text,
        footer=reply.footer(),
        images=reply.images,
        warnings=[*warnings, *shown.notes],
        fmt=fmt,
    )
    turn = cell_transcript(session, started, reply=reply)
    live.finish(bundle, metadata={KEY: turn} if turn else None)


def finish_broken(
    live: LiveMarkdown,
    session: Any,
    received: Sequence[str],
    prefill: str | None,
    *,
    fmt: str,
    started: Mapping[str, Any],
) -> None:
    """End a cell whose stream broke: the text that arrived (after the ``prefill``) stays,
    marked as broken off (:func:`broken_bundle`; the error is the cell's one clean line under
    it). With no text, the output is cleared for the error alone."""
    from nbclaude._session.transcript_format import KEY, cell_transcript

    text = "".join(received)
    if not text.strip():
        live.clear()
        return
    text = (prefill or "").rstrip() + text
    turn = cell_transcript(session, started, partial=text)
    kept = bool(turn and turn.get("recorded") and len(turn["messages"]) > 1)
    live.finish(
        broken_bundle(text=text, kept=kept, fmt=fmt), metadata={KEY: turn} if turn else None
    )


def broken_bundle(*, text: str, kept: bool, fmt: str = "markdown") -> dict[str, Any]:
    """The output left in the cell when a stream breaks after some text arrived: that text,
    marked as broken off (the error itself is the cell's one clean error line, under it).

    Examples
    --------
    >>> b = broken_bundle(text="Half an answ", kept=False)
    >>> "Half an answ" in b["text/markdown"], "broke off" in b["text/plain"]
    (True, True)
    """
    from nbclaude._markdown import safe_markdown

    where = (
        "what arrived is kept in the conversation"
        if kept
        else "it is not in the conversation (run the cell again to ask again)"
    )
    note = f"⚠ The reply broke off here (the error is below); {where}."
    return final_bundle(markdown=safe_markdown(text), plain=text, footer=note, fmt=fmt)

"""Images attached in the ChatWidget: they arrive from the browser as binary buffers (never
base64 in JSON), go through ``nbclaude.image``'s pipeline in a worker thread while the user
types, and wait there until a message sends them or the browser removes them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any

from nbclaude._exceptions import ImageError

from . import protocol as proto

__all__ = ["Attachments"]

log = logging.getLogger("nbclaude.widget")


class Attachments:
    """The images attached in one widget and not sent yet, by the id the browser gave them.

    ``post`` sends a custom message to the front end (the ``attached`` answer);
    ``start_worker(target, name)`` runs the conversion off the comm handler.

    Examples
    --------
    >>> answers = []
    >>> inbox = Attachments(answers.append, lambda target, name: target())
    >>> inbox.add({"id": "a1", "name": "cat.png"}, [])  # no data arrived
    >>> answers[0]["ok"], answers[0]["error"]
    (False, 'cat.png: no image data arrived; attach it again.')
    >>> [type(f.exception()).__name__ for f in inbox.take(["a1"])]
    ['ImageError']
    """

    def __init__(
        self,
        post: Callable[[dict[str, Any]], None],
        start_worker: Callable[[Callable[[], None], str], object],
    ) -> None:
        self._post = post
        self._start_worker = start_worker
        self._futures: dict[str, Future[dict[str, Any]]] = {}

    def add(self, msg: Mapping[str, Any], buffers: list[Any]) -> None:
        """An ``attach`` message: check the size now, convert in the background."""
        att_id = str(msg.get("id") or "")
        name = str(msg.get("name") or "image")
        future: Future[dict[str, Any]] = Future()
        self._futures[att_id] = future

        def fail(text: str) -> None:
            future.set_exception(ImageError(text))
            self._post({"type": proto.ATTACHED, "id": att_id, "ok": False, "error": text})

        if not buffers:
            fail(f"{name}: no image data arrived; attach it again.")
            return
        data = bytes(buffers[0])
        if len(data) > proto.MAX_UPLOAD_BYTES:
            fail(f"{name} is too large ({len(data) / 2**20:.1f} MB); the limit is 20 MB.")
            return

        def convert() -> None:
            from nbclaude._content.images import image_from_bytes

            try:
                block = image_from_bytes(data, origin=name)
            except ImageError as exc:
                fail(str(exc))
                return
            except Exception as exc:
                log.exception("nbclaude ChatWidget: converting %s failed", name)
                fail(f"{name} could not be read as an image ({type(exc).__name__}).")
                return
            future.set_result(block)
            self._post({"type": proto.ATTACHED, "id": att_id, "ok": True})

        self._start_worker(convert, "nbclaude-widget-image")

    def remove(self, att_id: str) -> None:
        """A ``detach`` message: the image was removed in the browser."""
        self._futures.pop(att_id, None)

    def take(self, ids: list[str]) -> list[Future[dict[str, Any]]]:
        """The images a message sends, in order; anything else is forgotten (it was removed
        in the browser)."""
        futures = [self._futures.pop(i) for i in ids if i in self._futures]
        self._futures.clear()
        return futures

    def clear(self) -> None:
        """Forget every pending image (the widget closes)."""
        self._futures.clear()

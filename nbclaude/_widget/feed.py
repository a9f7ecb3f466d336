"""The transcript as the ChatWidget's views get it: the whole of it once per view, then only
what changed.

A conversation changes at its end: a turn appends the user message, a tool round grows the
reply, a failed turn or ``undo`` drops the last messages. So each change is one ``entries``
message, "from entry ``start`` on, the transcript is now ``entries``", numbered by ``seq``; a
view applies each in order and asks again (``sync`` with ``transcript``) if it ever misses
one. Re-sending the whole transcript at every turn start and tool round made one turn cost
5 KB of comm traffic at 20 messages and 425 KB at 2,000 (``benchmarks/widget_bytes.py``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from typing import Any

from . import protocol as proto

__all__ = ["TranscriptFeed"]


def _key(entry: proto.Entry) -> str:
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, default=str)


class TranscriptFeed:
    """What the views hold of the transcript, and the messages that keep them up to date.

    ``post`` sends a custom message to every view of the widget; ``lock`` is the one every
    sender of the widget holds (so an update and a snapshot reach the views in the order of
    their ``seq``). :meth:`update` is called with the whole transcript whenever it may have
    changed and sends only the entries from the first one that differs (nothing when none
    does, and nothing before a view asked); :meth:`send_snapshot` sends the whole transcript,
    for a view that just opened.

    Examples
    --------
    >>> sent = []
    >>> feed = TranscriptFeed(sent.append)
    >>> hi = {"role": "user", "blocks": [{"type": "text", "text": "Hi"}]}
    >>> hello = {"role": "assistant", "blocks": [{"type": "text", "text": "Hello"}]}
    >>> feed.update([hi]); sent  # no view yet
    []
    >>> feed.send_snapshot(); feed.update([hi, hello]); feed.update([hi, hello])
    >>> [(m["seq"], m["start"], len(m["entries"])) for m in sent]
    [(1, 0, 1), (2, 1, 1)]
    """

    def __init__(
        self, post: Callable[[dict[str, Any]], None], lock: threading.RLock | None = None
    ) -> None:
        self._post = post
        self._lock = lock if lock is not None else threading.RLock()
        self._entries: list[proto.Entry] = []
        self._keys: list[str] = []
        self._seq = 0
        self._viewed = False  # no view asked yet: nobody to tell

    @property
    def entries(self) -> list[proto.Entry]:
        """The transcript as the views have it now."""
        return list(self._entries)

    def update(self, entries: Sequence[proto.Entry]) -> None:
        """Send what changed since the last update (from the first entry that differs)."""
        keys = [_key(e) for e in entries]
        with self._lock:
            old = self._keys
            start = 0
            limit = min(len(old), len(keys))
            while start < limit and old[start] == keys[start]:
                start += 1
            if start == len(old) == len(keys):
                return
            self._entries = [dict(e) for e in entries]  # type: ignore[misc]
            self._keys = keys
            self._seq += 1
            if not self._viewed:
                return
            msg = {
                "type": proto.ENTRIES,
                "seq": self._seq,
                "start": start,
                "entries": self._entries[start:],
            }
            # under the lock: two updates from two threads reach the views in order
            self._post(msg)

    def send_snapshot(self) -> None:
        """Send the whole transcript (the ``entries`` message for a view that just opened)."""
        with self._lock:
            self._viewed = True
            self._post(
                {"type": proto.ENTRIES, "seq": self._seq, "start": 0, "entries": self._entries}
            )

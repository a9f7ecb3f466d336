"""``%claude record`` and ``%claude replay``: a lesson's real answers, without a key.

A teacher records a notebook once, with a key (``%claude record lesson.jsonl``, or
``NBCLAUDE_RECORD`` set before the kernel starts): every exchange of the shared session is
appended to the cassette, the request without credentials and the final Message (docs/api.md
§14). A class replays it (``%claude replay lesson.jsonl``, or ``NBCLAUDE_REPLAY``): a request
that matches a recorded one (model, system, messages, tools, output settings) gets Claude's
recorded reply, streamed like a live one, with "replayed" in its footer; any other request
gets the offline fake, marked as such. Replaying needs no key and sends nothing anywhere.

Each command sets its variable too (as ``%claude offline`` does), so sessions made afterwards
record or replay as well; ``off`` unsets it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

from nbclaude._session.backend import (
    RECORD_ENV,
    REPLAY_ENV,
    default_client,
    describe,
    not_recording,
    recording,
    recording_client,
    replay_client,
    replaying,
)
from nbclaude._session.session import get_session

__all__ = ["record", "replay"]


def _path(word: str) -> Path:
    return Path(os.path.expanduser(word)).resolve()


def _shown(path: str | Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def _exchanges(path: str | Path) -> int:
    try:
        with open(path, "rb") as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return 0


def record(where: Any, args: list[str]) -> None:
    """``%claude record PATH``: append every exchange of the shared session to the cassette
    ``PATH`` (JSONL; never the key); ``%claude record off`` stops; no argument: the state."""
    s = get_session()
    recorder = recording(s.client)
    if not args:
        if recorder is None:
            print("Not recording. %claude record PATH appends every exchange to a cassette.")
        else:
            print(f"Recording to {_shown(recorder.path)} "
                  f"({_exchanges(recorder.path)} exchange(s) in it so far).")  # fmt: skip
        return
    if len(args) != 1:
        raise UsageError("%claude record PATH   (or %claude record off)")
    if args[0] == "off":
        os.environ.pop(RECORD_ENV, None)
        if recorder is None:
            print("Not recording.")
            return
        s.client = not_recording(s.client)
        print(f"Recording stopped: {_exchanges(recorder.path)} exchange(s) in "
              f"{_shown(recorder.path)}.")  # fmt: skip
        return
    if replaying(s.client) is not None:
        raise UsageError(
            "%claude record: this session replays a cassette (its answers are recorded "
            "already); %claude replay off first."
        )
    path = _path(args[0])
    try:  # a folder that is not there, or not writable: say so now, not after a reply
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise UsageError(f"%claude record: cannot write {args[0]}: {exc.strerror or exc}") from None
    os.environ[RECORD_ENV] = str(path)
    s.client = recording_client(s.client, path)
    print(
        f"Recording every exchange to {_shown(path)} (the request without the key, and the "
        f"reply); {describe(s.client)}. %claude record off stops."
    )


def replay(where: Any, args: list[str]) -> None:
    """``%claude replay PATH``: answer each request recorded in the cassette ``PATH`` with the
    recorded reply, and the others from the offline fake (no key, no network);
    ``%claude replay off`` stops; no argument: the state."""
    s = get_session()
    player = replaying(s.client)
    if not args:
        print(f"Backend: {describe(s.client)}." if player else
              "Not replaying. %claude replay PATH answers from a recorded cassette.")  # fmt: skip
        return
    if len(args) != 1:
        raise UsageError("%claude replay PATH   (or %claude replay off)")
    if args[0] == "off":
        os.environ.pop(REPLAY_ENV, None)
        if player is None:
            print("Not replaying.")
            return
        said = describe(s.client)
        s.client = default_client()
        note = "" if s.client.has_credentials else " No API key is set: see the README."
        print(f"Replay off ({said}); requests go to {describe(s.client)}.{note}")
        return
    path = _path(args[0])
    if not path.is_file():
        raise UsageError(f"%claude replay: there is no cassette at {args[0]}")
    client = replay_client(path)  # a file that is not a cassette: one clean line, nothing changed
    os.environ[REPLAY_ENV] = str(path)
    s.client = client
    played = replaying(client)
    count = len(played.cassette) if played is not None else 0
    print(
        f"Replaying {_shown(path)}: {count} recorded exchange(s). A request it has gets the "
        "recorded reply; any other gets the offline fake (marked). No key is needed and "
        "nothing is sent. %claude replay off stops."
    )

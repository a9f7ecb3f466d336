"""Saving and loading a session: versioned JSON, atomic writes, checked reads, never the key.

A saved session holds the settings, the messages and the usage totals; the client (and with it
any credential) is never part of it, and the key is redacted from the text should a prompt
contain it.

Writes are atomic (docs/architecture.md, "Durability"): the text goes to a temporary file in
the same folder, is flushed and fsynced, and replaces the old file with ``os.replace``; then
the folder is fsynced. A crash, a full disk or a ``kill -9`` at any moment leaves either the
old file or the new one, whole. What is written is checked first, so a save never replaces a
good file with one that cannot be loaded.

Reads check everything (:mod:`nbclaude._session.validate`) before returning: the format, the
version (only a higher one is "from a newer nbclaude"), every message and block, the type of
every setting. Every error is one line that names the file and the problem.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nbclaude._exceptions import InvalidRequestError, SaveError
from nbclaude._types import MessageParam

from .builder import Settings
from .validate import Invalid, check_messages, check_settings, check_usage

__all__ = ["SAVE_FORMAT", "SAVE_VERSION", "SaveError", "Saved", "dump", "parse", "read", "write"]

SAVE_FORMAT = "nbclaude.session"
SAVE_VERSION = 1
REDACTED = "<redacted>"


@dataclass
class Saved:
    """What a saved session holds."""

    settings: Settings
    messages: list[MessageParam]
    usage: dict[str, int]
    cost: float | None


def dump(
    settings: Settings,
    messages: list[MessageParam],
    usage: Mapping[str, int],
    cost: float | None,
    *,
    secrets: Iterable[str] = (),
) -> str:
    """The session's settings, history and usage as JSON text (no client, no key).

    The text is checked (:func:`parse` would accept it) and has one message per line, which
    keeps large conversations quick to write (the C JSON encoder) and easy to diff.

    Raises
    ------
    Invalid
        If a message could not be loaded back, or is not JSON.

    Examples
    --------
    >>> text = dump(Settings(model="claude-haiku-4-5"), [], {}, 0.0)
    >>> json.loads(text)["format"], json.loads(text)["model"]
    ('nbclaude.session', 'claude-haiku-4-5')
    """
    head = {"format": SAVE_FORMAT, "version": SAVE_VERSION, **asdict(settings)}
    head.update(usage=dict(usage), cost=cost)
    check_settings(head)
    check_messages(messages)
    lines = []
    for i, message in enumerate(messages, 1):
        try:
            lines.append(json.dumps(message, ensure_ascii=False, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise Invalid(f"message {i} is not JSON ({exc})") from None
    start = json.dumps(head, ensure_ascii=False)[:-1]
    text = start + ',\n "messages": [\n' + ",\n".join(lines) + "\n]}\n"
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def parse(text: str) -> Saved:
    """A session from the text :func:`dump` wrote, every part checked.

    Raises
    ------
    Invalid
        Saying what is wrong (the caller names the file).

    Examples
    --------
    >>> parse(dump(Settings(model="claude-haiku-4-5"), [], {}, 0.0)).settings.model
    'claude-haiku-4-5'
    """
    if not text.strip():
        raise Invalid("the file is empty")
    try:
        data: Any = json.loads(text)
    except ValueError as exc:
        raise Invalid(f"it is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != SAVE_FORMAT:
        raise Invalid(f'it is not a saved nbclaude session (no "format": "{SAVE_FORMAT}")')
    version = data.get("version")
    if "version" not in data:
        raise Invalid("it has no format version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise Invalid(f"its format version must be a whole number, not {version!r}")
    if version > SAVE_VERSION:
        raise Invalid(
            f"it was saved by a newer nbclaude (format version {version}; this one reads "
            f"{SAVE_VERSION}); upgrade nbclaude to load it"
        )
    if version < SAVE_VERSION:
        raise Invalid(f"unknown format version {version} (this nbclaude reads {SAVE_VERSION})")
    check_settings(data)
    if "messages" not in data:
        raise Invalid('no "messages"')
    messages = check_messages(data["messages"])
    usage, cost = check_usage(data.get("usage"), data.get("cost", 0.0))
    settings = Settings(
        model=data["model"].strip(),
        system=data.get("system") or None,
        max_tokens=data["max_tokens"],
        params=dict(data.get("params") or {}),
        cache=data.get("cache", False),
    )
    return Saved(settings=settings, messages=messages, usage=usage, cost=cost)


def _why_unreadable(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "it is a folder, not a file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return exc.strerror or str(exc)


def read(path: str | os.PathLike[str]) -> Saved:
    """A session from a file written by :func:`dump`; one clear line for anything else.

    Examples
    --------
    >>> read("/no/such/chat.json")
    Traceback (most recent call last):
    ...
    nbclaude._exceptions.InvalidRequestError: Cannot load /no/such/chat.json: no such file
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidRequestError(f"Cannot load {path}: {_why_unreadable(exc)}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequestError(f"Cannot load {path}: it is not UTF-8 text") from None
    try:
        return parse(text.removeprefix("\ufeff"))
    except Invalid as exc:
        raise InvalidRequestError(f"Cannot load {path}: {exc}") from None


def _why_unwritable(exc: OSError) -> str:
    code = exc.errno
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "the folder is read-only (permission denied); save somewhere else"
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return "the disk is full"
    if code == errno.EFBIG:
        return "the file would be too large (a file size limit was reached)"
    if code == errno.ENOENT:
        return "the folder does not exist"
    if isinstance(exc, IsADirectoryError):
        return "it is a folder, not a file"
    return exc.strerror or str(exc)


def write(path: str | os.PathLike[str], text: str) -> None:
    """Replace the file at ``path`` by ``text``, atomically.

    A temporary file in the same folder is written, flushed and fsynced, then renamed over
    ``path`` (``os.replace``); the folder is fsynced after. An existing file keeps its
    permissions; a new one gets the usual ones (``0o666`` less the umask).

    Raises
    ------
    SaveError
        One line naming the file and why; the old file is untouched and no temporary file is
        left behind.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "note.json"
    >>> write(p, "{}"); p.read_text()
    '{}'
    """
    target = Path(path)
    folder = target.parent
    temporary = folder / f".{target.name}.{os.urandom(4).hex()}.tmp"
    data = text.encode("utf-8")
    try:
        try:
            mode = os.stat(target).st_mode & 0o7777
        except FileNotFoundError:
            mode = None
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(temporary, flags, 0o666)
        try:
            with os.fdopen(fd, "wb") as out:
                if mode is not None:
                    os.chmod(temporary, mode)
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            if os.stat(temporary).st_size != len(data):  # never replace with a short file
                raise OSError(errno.EIO, "the file was not written whole")
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as exc:
        raise SaveError(f"Cannot save the session to {path}: {_why_unwritable(exc)}") from None
    _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX; Windows cannot open a folder, and need not)."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)

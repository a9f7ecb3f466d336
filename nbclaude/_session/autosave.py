"""Autosave: a session writes itself to disk after every turn, undo, reset and load.

``%load_ext nbclaude`` starts one for the shared session (docs/architecture.md,
"Durability"). It listens to the session's events and writes on a thread of its own, so a turn
never waits for the disk: the event only marks the session as changed, and the thread writes
the latest state (several changes in a row make one write). Each write is atomic
(:func:`nbclaude._session.persist.write`) and never holds a half turn
(``Session.save(if_idle=True)``: the end of the running turn writes again).

Where it writes (:func:`where_to_save`): ``.nbclaude/<notebook name>.json`` beside the notebook
when the kernel knows its notebook (``JPY_SESSION_NAME``, set by Jupyter Server;
``__vsc_ipynb_file__`` in VS Code's user namespace), or a path you choose; off with ``""`` or
``NBCLAUDE_AUTOSAVE=0``.

Nothing on disk is destroyed by it: a conversation left by an earlier kernel, which this one
did not resume, and the conversation a reset forgets, are kept beside the autosave as
``<name>.<date-time>.json`` (:func:`kept_copies`) before the autosave is overwritten.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .events import CHANGE, ERROR, RESET, TURN_END, UNDO, Event
from .persist import read

__all__ = ["OFF", "Autosave", "Where", "autosave_file", "kept_copies", "notebook_file",
           "where_to_save"]  # fmt: skip

log = logging.getLogger("nbclaude")

#: Values of ``NBCLAUDE_AUTOSAVE`` that turn autosave off.
OFF = ("0", "false", "no", "off")
_SAVE_ON = (TURN_END, ERROR, UNDO, RESET, CHANGE)


class Saveable(Protocol):
    """What autosave needs of a session (a :class:`~nbclaude.Session`)."""

    @property
    def messages(self) -> list[Any]: ...

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]: ...

    def save(self, path: str | os.PathLike[str], *, if_idle: bool = False) -> bool: ...


@dataclass(frozen=True)
class Where:
    """Where autosave writes (``path``), or why it does not (``path`` is ``None``)."""

    path: Path | None
    why: str


def notebook_file(
    *, environ: Mapping[str, str], user_ns: Mapping[str, Any] | None, cwd: str | os.PathLike[str]
) -> Path | None:
    """The notebook this kernel runs, when it is known.

    VS Code puts ``__vsc_ipynb_file__`` (a full path) in the user namespace; Jupyter Server
    sets ``JPY_SESSION_NAME`` to the notebook's full path, or to its path from the server's
    root (the kernel then runs in the notebook's folder, ``cwd``).

    Examples
    --------
    >>> notebook_file(environ={"JPY_SESSION_NAME": "lessons/02-chat.ipynb"}, user_ns={},
    ...               cwd="/home/ada/lessons").as_posix()
    '/home/ada/lessons/02-chat.ipynb'
    >>> notebook_file(environ={}, user_ns={}, cwd="/tmp") is None
    True
    """
    vsc = (user_ns or {}).get("__vsc_ipynb_file__")
    if isinstance(vsc, str) and vsc.strip():
        return Path(vsc)
    name = environ.get("JPY_SESSION_NAME", "").strip()
    if not name:
        return None
    path = Path(name)
    return path if path.is_absolute() else Path(cwd) / path.name


def autosave_file(notebook: Path) -> Path:
    """``.nbclaude/<notebook name>.json`` beside the notebook.

    Examples
    --------
    >>> autosave_file(Path("/home/ada/02-chat.ipynb")).as_posix()
    '/home/ada/.nbclaude/02-chat.json'
    """
    return notebook.parent / ".nbclaude" / f"{notebook.stem or notebook.name}.json"


def where_to_save(
    setting: str | None,
    *,
    environ: Mapping[str, str],
    user_ns: Mapping[str, Any] | None = None,
    cwd: str | os.PathLike[str] = ".",
) -> Where:
    """Where autosave writes, from ``ClaudeMagics.autosave`` (``setting``) and the kernel.

    ``None`` means beside the notebook (off when ``NBCLAUDE_AUTOSAVE=0`` or when the notebook
    is unknown), ``""`` means off, anything else is the file (relative to ``cwd``).

    Examples
    --------
    >>> where_to_save("", environ={}).why
    'off (ClaudeMagics.autosave = "")'
    >>> where_to_save(None, environ={"NBCLAUDE_AUTOSAVE": "0"}).path is None
    True
    >>> where_to_save("chat.json", environ={}, cwd="/work").path.as_posix()
    '/work/chat.json'
    """
    if setting == "":
        return Where(None, 'off (ClaudeMagics.autosave = "")')
    if setting:
        path = Path(setting).expanduser()
        return Where(path if path.is_absolute() else Path(cwd) / path, "ClaudeMagics.autosave")
    if environ.get("NBCLAUDE_AUTOSAVE", "").strip().lower() in OFF:
        return Where(None, "off (NBCLAUDE_AUTOSAVE=0)")
    notebook = notebook_file(environ=environ, user_ns=user_ns, cwd=cwd)
    if notebook is None:
        how = '%config ClaudeMagics.autosave = "chat.json"'
        return Where(None, f"off: the kernel does not know its notebook ({how})")
    return Where(autosave_file(notebook), "beside the notebook")


def kept_copies(path: Path) -> list[Path]:
    """The conversations kept beside the autosave ``path`` (oldest first).

    Examples
    --------
    >>> kept_copies(Path("/no/such/.nbclaude/chat.json"))
    []
    """
    try:
        found = [p for p in path.parent.glob(f"{path.stem}.*.json") if p.is_file()]
    except OSError:
        return []
    return sorted(found, key=lambda p: p.name)


def _keep_aside(path: Path) -> Path | None:
    """Rename ``path`` to ``<name>.<its date-time>.json`` beside it; returns the new name."""
    try:
        stamp = time.strftime("%Y-%m-%d_%H-%M-%S", time.localtime(path.stat().st_mtime))
    except OSError:
        return None
    for n in range(1, 100):
        target = path.with_name(f"{path.stem}.{stamp}{'' if n == 1 else f'-{n}'}.json")
        if not target.exists():
            os.replace(path, target)
            return target
    return None


class Autosave:
    """Save ``session`` to ``where().path`` after each of its turns, undos, resets and loads.

    Parameters
    ----------
    session : Session
        The session to keep (``follow`` moves to another).
    where : callable
        Returns a :class:`Where`, asked at each write (the setting may change).

    Examples
    --------
    >>> import tempfile
    >>> from nbclaude import Session
    >>> s = Session()
    >>> folder = Path(tempfile.mkdtemp())
    >>> keep = Autosave(s, lambda: Where(folder / "chat.json", "test"))
    >>> s.messages.append({"role": "user", "content": "Hi"}); s.reset(); s.undo()
    >>> keep.flush()
    True
    >>> Session.load(folder / "chat.json").messages
    [{'role': 'user', 'content': 'Hi'}]
    >>> keep.close()
    """

    def __init__(self, session: Saveable, where: Callable[[], Where]) -> None:
        self._where = where
        self._cond = threading.Condition()
        self._dirty = False
        self._writing = False
        self._closed = False
        self._after_reset = False
        self._thread: threading.Thread | None = None
        self._claimed: Path | None = None  # the file this process has written (or vetted)
        self._session = session
        self._unsubscribe = session.subscribe(self._on_event)
        #: What went wrong with the last write (``None``: it worked).
        self.last_error: str | None = None
        #: When the last write finished (``time.time()``), or ``None``.
        self.saved_at: float | None = None
        #: Conversations moved aside so as not to overwrite them (newest last).
        self.kept: list[Path] = []
        atexit.register(self._at_exit)

    @property
    def where(self) -> Where:
        """Where the next write goes (or why there is none)."""
        return self._where()

    def follow(self, session: Saveable) -> None:
        """Keep ``session`` from now on instead (the shared session was replaced)."""
        if session is self._session:
            return
        self._unsubscribe()
        self._session = session
        self._unsubscribe = session.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        kind = event["type"]
        if kind in _SAVE_ON:
            self.request(after_reset=kind == RESET)

    def request(self, *, after_reset: bool = False) -> None:
        """Write soon, on the autosave's thread (a quick call: it only wakes the thread)."""
        with self._cond:
            if self._closed:
                return
            self._dirty = True
            self._after_reset |= after_reset
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="nbclaude-autosave", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every change asked for is written; returns whether it was in time."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._dirty or self._writing:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self) -> None:
        """Write what is pending, then stop listening."""
        self.flush()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._unsubscribe()
        atexit.unregister(self._at_exit)

    def _at_exit(self) -> None:
        self.flush(timeout=10.0)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._dirty and not self._closed:
                    self._cond.wait()
                if not self._dirty:
                    return
                self._dirty, self._writing = False, True
                after_reset, self._after_reset = self._after_reset, False
            try:
                self._write(after_reset=after_reset)
            finally:
                with self._cond:
                    self._writing = False
                    self._cond.notify_all()

    def _write(self, *, after_reset: bool) -> None:
        try:
            path = self._where().path
            if path is None:
                return
            if path != self._claimed:
                if not self._session.messages:
                    return  # nothing to keep yet: an earlier kernel's file stays as it is
                path.parent.mkdir(parents=True, exist_ok=True)
                self._vet(path)
            elif after_reset:
                self._keep(path)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
            self._session.save(path, if_idle=True)
        except Exception as exc:
            message = " ".join(str(exc).split()) or type(exc).__name__
            if message != self.last_error:
                log.warning("nbclaude: autosave failed: %s", message)
            self.last_error = message
        else:
            self.last_error = None
            self.saved_at = time.time()

    def _vet(self, path: Path) -> None:
        """Before the first write to ``path``: keep what an earlier kernel left there, unless
        this conversation continues it (it was resumed)."""
        if path.exists():
            earlier = _messages_in(path)
            ours = list(self._session.messages)
            if earlier is None or (earlier and ours[: len(earlier)] != earlier):
                self._keep(path)
        self._claimed = path

    def _keep(self, path: Path) -> None:
        """Move the conversation at ``path`` aside (if there is one) instead of overwriting it."""
        if _messages_in(path) == []:
            return
        kept = _keep_aside(path)
        if kept is not None:
            self.kept.append(kept)


def _messages_in(path: Path) -> list[Any] | None:
    """The messages saved at ``path``: ``[]`` if there is no file, ``None`` if unreadable."""
    if not path.exists():
        return []
    try:
        return list(read(path).messages)
    except Exception:
        return None

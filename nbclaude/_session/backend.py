"""Which API a session talks to: the real one, the offline fake, or a cassette.

- ``NBCLAUDE_OFFLINE=1``: the offline fake (:func:`offline_client`), no key, no network.
- ``NBCLAUDE_REPLAY=PATH``: replay a cassette (:func:`replay_client`): each request recorded
  there gets the recorded reply, streamed like a live one; every other request the offline
  fake, marked. No key, no network. It wins over the other two.
- ``NBCLAUDE_RECORD=PATH``: whichever of the first two (or the real API) a session uses, every
  answered exchange is appended to the cassette at ``PATH`` (:func:`recording_client`; the
  request without credentials, and the final Message). docs/api.md §14 has the format.

The variables are read when a session makes its client (the shared session: at its first
use), so a hub sets them before the kernel starts; ``%claude record`` / ``%claude replay``
change the shared session's client.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbclaude._client.client import Client
    from nbclaude.testing import RecordingTransport, ReplayTransport

__all__ = [
    "RECORD_ENV",
    "REPLAY_ENV",
    "default_client",
    "describe",
    "is_offline",
    "not_recording",
    "offline_client",
    "offline_requested",
    "recording",
    "recording_client",
    "replay_client",
    "replaying",
]

#: The cassette every exchange is appended to (docs/api.md §14).
RECORD_ENV = "NBCLAUDE_RECORD"
#: The cassette replayed instead of calling the API.
REPLAY_ENV = "NBCLAUDE_REPLAY"

_OFFLINE_URL = "http://offline.nbclaude.invalid"
_REPLAY_URL = "http://replay.nbclaude.invalid"
#: What the offline client sends as its key: a word no reply contains, since a recorder blanks
#: the request's key wherever it appears in the line it writes (a key of ``"offline"`` turned
#: the fake's "offline fake" into "<redacted> fake" in a cassette).
_OFFLINE_KEY = "nbclaude-offline-no-key"


def offline_requested() -> bool:
    return os.environ.get("NBCLAUDE_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _env_path(name: str) -> str | None:
    return os.environ.get(name, "").strip() or None


def offline_client() -> Client:
    """A client on the in-process offline fake (no network, no key needed).

    Examples
    --------
    >>> c = offline_client()
    >>> c.create(model="claude-haiku-4-5", max_tokens=50,
    ...          messages=[{"role": "user", "content": "Hi"}])["content"][0]["text"][:9]
    '*(offline'
    """
    from nbclaude._client.client import Client
    from nbclaude.testing import FakeAnthropic

    return Client(
        api_key=_OFFLINE_KEY,
        base_url=_OFFLINE_URL,
        transport=FakeAnthropic(keep_requests=1),  # bounded memory: no growth with the chat
        max_retries=0,
    )


def replay_client(path: str | os.PathLike[str]) -> Client:
    """A client that answers from the cassette at ``path``, and from the offline fake when
    the cassette has no such request. No key is needed and nothing is sent anywhere.

    Raises
    ------
    InvalidRequestError
        When the file is not a cassette (it names the file and the line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> c = replay_client(pathlib.Path(tempfile.mkdtemp()) / "none-yet.jsonl")
    >>> c.create(model="claude-haiku-4-5", max_tokens=50,
    ...          messages=[{"role": "user", "content": "Hi"}])["content"][0]["text"][:9]
    '*(offline'
    >>> describe(c).rsplit("/", 1)[-1]
    'none-yet.jsonl (0 hits, 1 miss; the file does not exist)'
    """
    from nbclaude._client.client import Client
    from nbclaude._exceptions import InvalidRequestError
    from nbclaude.testing import FakeAnthropic, ReplayTransport

    class Replaying(ReplayTransport):
        """A :class:`ReplayTransport` that remembers which file it plays."""

        def __init__(self, where: str | os.PathLike[str], fallback: Any) -> None:
            super().__init__(where, fallback)
            self.path = os.fspath(where)

    try:
        transport = Replaying(path, FakeAnthropic(keep_requests=1))
    except (ValueError, OSError) as exc:
        problem = str(exc)
    else:
        return Client(api_key="offline", base_url=_REPLAY_URL, transport=transport, max_retries=0)
    raise InvalidRequestError(
        f"Cannot replay {os.fspath(path)}: {problem}. Record it again, or turn replay off "
        f"(%claude replay off, or unset {REPLAY_ENV})."
    )


def recording_client(client: Client, path: str | os.PathLike[str]) -> Client:
    """``client`` again (same address, credentials, retries and timeouts), with every
    answered ``POST /v1/messages`` appended to the cassette at ``path``.

    The transport that really sends (``client.transport``, or the network) is wrapped in a
    :class:`nbclaude.testing.RecordingTransport`; a client that records already records to
    ``path`` instead.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "lesson.jsonl"
    >>> c = recording_client(offline_client(), path)
    >>> _ = c.create(model="claude-haiku-4-5", max_tokens=50,
    ...              messages=[{"role": "user", "content": "Hi"}])
    >>> len(path.read_text().splitlines()), describe(c).rsplit("/", 1)[-1]
    (1, 'lesson.jsonl')
    """
    from nbclaude.testing import RecordingTransport

    inner = not_recording(client).transport
    if inner is None:
        import httpx

        inner = httpx.HTTPTransport()  # what httpx uses when given none (the same limits)
    return _like(client, RecordingTransport(inner, path))


def not_recording(client: Client) -> Client:
    """``client`` without its recorder (``client`` itself when it does not record)."""
    recorder = recording(client)
    return client if recorder is None else _like(client, recorder.inner)


def _like(client: Client, transport: Any) -> Client:
    """A new client like ``client`` on another transport."""
    from nbclaude._client.client import Client

    creds = client.credentials
    sources = (creds.source or "").split(" and ")
    given: dict[str, str] = {}
    if not all(s.startswith(("$", "Colab")) for s in sources if s):
        # given to the constructor: pass them on (from the environment they are read again)
        given = {"api_key": creds.api_key or "", "auth_token": creds.auth_token or ""}
    return Client(
        **given,
        base_url=client.base_url,
        timeout=client.timeout,
        max_retries=client.max_retries,
        transport=transport,
        api_version=client.api_version,
        deadline=client.deadline,
        idle_timeout=client.idle_timeout,
        on_retry=client.on_retry,
    )


def default_client() -> Client:
    """The client a session uses when none is given.

    ``$NBCLAUDE_REPLAY``: a cassette's replies (:func:`replay_client`); ``NBCLAUDE_OFFLINE=1``:
    the offline fake; otherwise a real :class:`Client` (which raises
    :class:`~nbclaude.MissingAPIKeyError` at the first request if there is no key: nbclaude
    never falls back to the fake silently). ``$NBCLAUDE_RECORD`` records the last two.
    """
    replay = _env_path(REPLAY_ENV)
    if replay is not None:
        return replay_client(replay)
    if offline_requested():
        client = offline_client()
    else:
        from nbclaude._client.client import Client

        client = Client()
    record = _env_path(RECORD_ENV)
    return client if record is None else recording_client(client, record)


def is_offline(client: Client) -> bool:
    """Whether ``client`` talks to the offline fake (a recorder around it included)."""
    from nbclaude.testing import FakeAnthropic, RecordingTransport

    transport = client.transport
    if isinstance(transport, RecordingTransport):
        transport = transport.inner
    return isinstance(transport, FakeAnthropic) and client.base_url.endswith(
        "offline.nbclaude.invalid"
    )


def replaying(client: Client) -> ReplayTransport | None:
    """The cassette player ``client`` answers from, if it replays one."""
    from nbclaude.testing import ReplayTransport

    transport = client.transport
    return transport if isinstance(transport, ReplayTransport) else None


def recording(client: Client) -> RecordingTransport | None:
    """The recorder of ``client``, if it records."""
    from nbclaude.testing import RecordingTransport

    transport = client.transport
    return transport if isinstance(transport, RecordingTransport) else None


def describe(client: Client) -> str:
    """Where ``client``'s requests go, for a status line: the API's address or ``"offline
    fake"``, ``"replaying PATH (N hits, M misses)"``, with ``" · recording to PATH"``."""
    player = replaying(client)
    if player is not None:
        path = str(getattr(player, "path", "a cassette"))
        note = "" if len(player.cassette) or Path(path).exists() else "; the file does not exist"
        return (
            f"replaying {_shown(path)} ({_n(player.hits, 'hit')}, "
            f"{_n(player.misses, 'miss')}{note})"
        )
    where = "offline fake" if is_offline(client) else client.base_url
    recorder = recording(client)
    return where if recorder is None else f"{where} · recording to {_shown(recorder.path)}"


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else ("es" if word.endswith("s") else "s"))


def _shown(path: str) -> str:
    """``path`` relative to the current folder when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return path

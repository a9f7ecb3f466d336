"""Credentials: the API key or auth token, held by one object, and the redaction helpers.

:class:`Credentials` is the only holder of the key. It is the client's httpx ``auth``: httpx
calls it with each request as it sends it (the hook that ``httpx.Auth.auth_flow`` generalises),
so the key goes into the request's headers there, never into a headers dict of the client's.

The key never sits in a plain local of a frame that can raise into user code (IPython's
``%xmode Verbose`` prints the arguments and the values a failing line names): it is kept as a
:class:`Secret`, whose ``repr`` and ``str`` are ``<redacted>``, and checked when it is set (a
space, a line break or a non-ASCII character would make httpx raise an error that holds it), so
adding it to a request cannot fail. :attr:`Credentials.source` says where it came from; in
Colab, with no environment variable, it is read from Colab Secrets at the first request
(:mod:`nbclaude._client.colab`).

For the layers above, :func:`secrets` lists the strings never to show or send (the environment's
and a client's key and token), and :func:`redact` removes them from a text. Strings shorter than
:data:`MIN_SECRET_LENGTH` are never looked for: they would match ordinary words.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Protocol

from nbclaude._exceptions import MissingAPIKeyError

from . import colab
from .scan import Patterns
from .secret import MIN_SECRET_LENGTH, REDACTED, Secret, Secrets, redact

if TYPE_CHECKING:
    import httpx

__all__ = [
    "API_KEY_ENV",
    "AUTH_TOKEN_ENV",
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "Credentials",
    "HasCredentials",
    "Secret",
    "Secrets",
    "redact",
    "secrets",
]

API_KEY_ENV = "ANTHROPIC_API_KEY"
AUTH_TOKEN_ENV = "ANTHROPIC_AUTH_TOKEN"


def _checked(value: str | None, name: str) -> tuple[Secret | None, str | None]:
    """``(secret, problem)`` for a key as given: surrounding whitespace removed (a pasted line
    break), refused with a reason (never the key) when it cannot go into an HTTP header."""
    char = ""
    try:
        value = value.strip() if value else ""
        for position, char in enumerate(value):
            if not "!" <= char <= "~":
                return None, (
                    f"{name} contains a character that cannot be sent (a space, a line break or "
                    f"a non-ASCII character, at position {position}): copy the key again."
                )
        return (Secret(value) if value else None), None
    finally:
        value = char = ""


class Credentials:
    """An API key and/or an auth token, added to each request as httpx sends it.

    Pass it as httpx's ``auth``: called with a request, it adds ``x-api-key: <api key>`` and
    ``Authorization: Bearer <auth token>`` (each one set, unless the request already carries
    that header: headers given for one request win), and returns the request. A user name and
    password in the URL are still sent as HTTP Basic auth, as httpx does without an ``auth``.

    Parameters
    ----------
    api_key : str, optional
        Sent as ``x-api-key``. An empty string counts as none; surrounding whitespace is
        removed.
    auth_token : str, optional
        Sent as ``Authorization: Bearer``.
    source : (str, str), optional
        Where the key and the token came from (:attr:`source`).
    colab_fallback : bool
        With neither set: in Colab, read the key from Colab Secrets at the first request.

    Examples
    --------
    >>> creds = Credentials(api_key="sk-ant-example")
    >>> creds, creds.configured, creds.source
    (Credentials(api_key=<set>, auth_token=None), True, 'the api_key argument')
    >>> creds.redact("the key sk-ant-example was refused")
    'the key <redacted> was refused'
    """

    __slots__ = ("_api_key", "_auth_token", "_colab", "_lock", "_problem", "_sources")

    def __init__(
        self,
        api_key: str | None = None,
        auth_token: str | None = None,
        *,
        source: tuple[str, str] = ("the api_key argument", "the auth_token argument"),
        colab_fallback: bool = False,
    ) -> None:
        try:
            self._api_key, key_problem = _checked(api_key, source[0])
            self._auth_token, token_problem = _checked(auth_token, source[1])
        finally:  # from here on only the Secrets hold them (even if an interrupt came)
            del api_key, auth_token
        self._problem = key_problem or token_problem
        self._sources = source
        # Colab Secrets: "pending" (not looked at yet), "read", "absent: <why>", "" (not used).
        fallback = colab_fallback and not (self._api_key or self._auth_token or self._problem)
        self._colab = "pending" if fallback else ""
        self._lock = threading.Lock()

    @classmethod
    def from_environment(
        cls, api_key: str | None = None, auth_token: str | None = None
    ) -> Credentials:
        """The given key and token, each defaulting to its environment variable; in Colab,
        with neither, the key is read from Colab Secrets at the first request.

        ``None`` means "not given": ``$ANTHROPIC_API_KEY`` and ``$ANTHROPIC_AUTH_TOKEN`` are
        read then, once.

        Examples
        --------
        >>> Credentials.from_environment(api_key="", auth_token="tok-example")  # "" is given
        Credentials(api_key=None, auth_token=<set>)
        """
        return cls(
            api_key if api_key is not None else os.environ.get(API_KEY_ENV),
            auth_token if auth_token is not None else os.environ.get(AUTH_TOKEN_ENV),
            source=(
                "the api_key argument" if api_key is not None else f"${API_KEY_ENV}",
                "the auth_token argument" if auth_token is not None else f"${AUTH_TOKEN_ENV}",
            ),
            colab_fallback=api_key is None and auth_token is None,
        )

    def __repr__(self) -> str:
        key = "<set>" if self._api_key else None
        token = "<set>" if self._auth_token else None
        return f"Credentials(api_key={key}, auth_token={token})"

    # -- what is set, and where it came from ------------------------------------------------

    def _colab_pending(self) -> bool:
        return self._colab == "pending" and colab.available()

    @property
    def configured(self) -> bool:
        """Whether an API key or an auth token is set (or will be read from Colab Secrets)."""
        return bool(self._api_key or self._auth_token) or self._colab_pending()

    @property
    def has_api_key(self) -> bool:
        """Whether an API key is set."""
        return bool(self._api_key)

    @property
    def source(self) -> str | None:
        """Where the credentials came from, for a status line (``None``: there are none).

        ``"$ANTHROPIC_API_KEY"``, ``"the api_key argument"``, ``"Colab Secrets
        (ANTHROPIC_API_KEY)"`` (``"..., read at the first request"`` before then), and the
        same for the token; both joined with "and" when both are set.

        Examples
        --------
        >>> Credentials.from_environment(api_key="sk-ant-example", auth_token="").source
        'the api_key argument'
        """
        found = []
        if self._api_key:
            found.append(self._sources[0])
        if self._auth_token:
            found.append(self._sources[1])
        if not found and self._colab_pending():
            found.append(f"Colab Secrets ({API_KEY_ENV}), read at the first request")
        return " and ".join(found) or None

    @property
    def api_key(self) -> str | None:
        """The API key itself (never show it)."""
        return self._api_key.reveal() if self._api_key else None

    @property
    def auth_token(self) -> str | None:
        """The auth token itself (never show it)."""
        return self._auth_token.reveal() if self._auth_token else None

    def _resolve(self) -> None:
        """Read Colab Secrets once, if that is where the key is to come from."""
        if self._colab != "pending":
            return
        with self._lock:
            if self._colab != "pending":
                return
            if not colab.available():
                self._colab = ""
                return
            found, why = colab.read_secret(API_KEY_ENV)
            if found is None:
                self._colab = f"absent: {why}"
                return
            self._api_key, self._problem = _checked(found.reveal(), f"Colab's {API_KEY_ENV}")
            self._sources = (f"Colab Secrets ({API_KEY_ENV})", self._sources[1])
            self._colab = "read"

    def require(self) -> None:
        """Raise :class:`~nbclaude.MissingAPIKeyError` when neither a key nor a token is set
        (or the one set cannot be sent).

        Examples
        --------
        >>> try:
        ...     Credentials(api_key="").require()
        ... except MissingAPIKeyError as exc:
        ...     print(type(exc).__name__)
        MissingAPIKeyError
        """
        self._resolve()
        if self._problem:
            raise MissingAPIKeyError(self._problem)
        if self._api_key or self._auth_token:
            return
        if self._colab.startswith("absent: "):
            raise MissingAPIKeyError(
                f"No API key: {API_KEY_ENV} is not set, and Colab Secrets did not give it "
                f"({self._colab[8:]}).",
                hint=colab.HINT,
            )
        raise MissingAPIKeyError()

    def __call__(self, request: httpx.Request) -> httpx.Request:
        """Add the credentials to ``request`` (httpx calls this just before sending it)."""
        self.require()
        # Secrets go from this object straight into the request: no local holds one, and the
        # values were checked when set, so setting a header cannot fail.
        if self._api_key and "x-api-key" not in request.headers:
            request.headers["x-api-key"] = self._api_key.reveal()
        if self._auth_token and "authorization" not in request.headers:
            request.headers["authorization"] = "Bearer " + self._auth_token.reveal()
        url = request.url
        if url.username or url.password:
            import httpx

            return next(httpx.BasicAuth(url.username, url.password).auth_flow(request))
        return request

    def secrets(self) -> Secrets:
        """The key and the token, those that are set: the strings never to show.

        Examples
        --------
        >>> Credentials("sk-ant-example").secrets()
        Secrets(<1 redacted>)
        """
        return Secrets(s.reveal() for s in (self._api_key, self._auth_token) if s)

    def patterns(self) -> Patterns:
        """What a request body is checked for before it leaves: this object's key and token,
        and those of the environment (as they are, in other letter case, in base64).

        Examples
        --------
        >>> Credentials("sk-ant-example").patterns()
        Patterns(<1 secret>)
        """
        found: dict[str, str] = {}
        try:
            for what, held in (
                ("the API key", self._api_key),
                ("the auth token", self._auth_token),
            ):
                if held is not None:
                    found[held.reveal()] = what
            for what, name in (("the API key", API_KEY_ENV), ("the auth token", AUTH_TOKEN_ENV)):
                found.setdefault((os.environ.get(name) or "").strip(), what)
            return Patterns((what, secret) for secret, what in found.items())
        finally:  # nothing of them stays in this frame, even if an interrupt came
            found.clear()

    def redact(self, text: str) -> str:
        """``text`` with the key and the token replaced by ``<redacted>``.

        Examples
        --------
        >>> Credentials(auth_token="tok-example").redact("Bearer tok-example")
        'Bearer <redacted>'
        """
        return redact(text, self.secrets())


class HasCredentials(Protocol):
    """Anything with a :class:`Credentials` (a :class:`~nbclaude.Client`)."""

    @property
    def credentials(self) -> Credentials: ...


def secrets(client: HasCredentials | None = None) -> Secrets:
    """The strings never to show or send: the API key and auth token of the environment
    (``$ANTHROPIC_API_KEY``, ``$ANTHROPIC_AUTH_TOKEN``) and of ``client``.

    Strings shorter than :data:`MIN_SECRET_LENGTH` (8) are left out. Interpolation refuses a
    value that contains one of these; ``%claude fix`` redacts them from what it sends. The list's
    ``repr`` does not show them.

    Examples
    --------
    >>> from nbclaude import Client
    >>> "sk-ant-example" in secrets(Client(api_key="sk-ant-example"))
    True
    >>> "offline" in secrets(Client(api_key="offline"))  # too short to look for
    False
    """
    env = (os.environ.get(API_KEY_ENV), os.environ.get(AUTH_TOKEN_ENV))
    values = Secrets(v.strip() for v in env if v)
    if client is not None:
        values += client.credentials.secrets()
    return Secrets(v for v in values if len(v) >= MIN_SECRET_LENGTH)

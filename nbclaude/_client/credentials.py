"""Credentials: the API key or auth token, held by one object, and the redaction helpers.

:class:`Credentials` is the only holder of the key. It is the client's httpx ``auth``: httpx
calls it with each request as it sends it (the hook that ``httpx.Auth.auth_flow`` generalises),
so the key goes into the request's headers there, never into a headers dict of the client's.
Its ``repr`` says only whether a key is set.

For the layers above, :func:`secrets` lists the strings never to show or send (the environment's
and a client's key and token), and :func:`redact` removes them from a text.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from nbclaude._exceptions import MissingAPIKeyError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "API_KEY_ENV",
    "AUTH_TOKEN_ENV",
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "Credentials",
    "HasCredentials",
    "redact",
    "secrets",
]

API_KEY_ENV = "ANTHROPIC_API_KEY"
AUTH_TOKEN_ENV = "ANTHROPIC_AUTH_TOKEN"
#: What a secret is replaced with.
REDACTED = "<redacted>"
#: :func:`secrets` leaves out shorter strings: they would match ordinary text (the offline
#: client's key is ``"offline"``).
MIN_SECRET_LENGTH = 8


class Credentials:
    """An API key and/or an auth token, added to each request as httpx sends it.

    Pass it as httpx's ``auth``: called with a request, it adds ``x-api-key: <api key>`` and
    ``Authorization: Bearer <auth token>`` (each one set, unless the request already carries
    that header: headers given for one request win), and returns the request. A user name and
    password in the URL are still sent as HTTP Basic auth, as httpx does without an ``auth``.

    Parameters
    ----------
    api_key : str, optional
        Sent as ``x-api-key``. An empty string counts as none.
    auth_token : str, optional
        Sent as ``Authorization: Bearer``.

    Examples
    --------
    >>> creds = Credentials(api_key="sk-ant-example")
    >>> creds, creds.configured
    (Credentials(api_key=<set>, auth_token=None), True)
    >>> creds.redact("the key sk-ant-example was refused")
    'the key <redacted> was refused'
    """

    __slots__ = ("_api_key", "_auth_token")

    def __init__(self, api_key: str | None = None, auth_token: str | None = None) -> None:
        self._api_key = api_key
        self._auth_token = auth_token

    @classmethod
    def from_environment(
        cls, api_key: str | None = None, auth_token: str | None = None
    ) -> Credentials:
        """The given key and token, each defaulting to its environment variable.

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
        )

    def __repr__(self) -> str:
        key = "<set>" if self._api_key else None
        token = "<set>" if self._auth_token else None
        return f"Credentials(api_key={key}, auth_token={token})"

    @property
    def api_key(self) -> str | None:
        """The API key itself (never show it)."""
        return self._api_key

    @property
    def auth_token(self) -> str | None:
        """The auth token itself (never show it)."""
        return self._auth_token

    @property
    def configured(self) -> bool:
        """Whether an API key or an auth token is set."""
        return bool(self._api_key or self._auth_token)

    @property
    def has_api_key(self) -> bool:
        """Whether an API key is set."""
        return bool(self._api_key)

    def require(self) -> None:
        """Raise :class:`~nbclaude.MissingAPIKeyError` when neither a key nor a token is set.

        Examples
        --------
        >>> try:
        ...     Credentials(api_key="").require()
        ... except MissingAPIKeyError as exc:
        ...     print(type(exc).__name__)
        MissingAPIKeyError
        """
        if not self.configured:
            raise MissingAPIKeyError()

    def __call__(self, request: httpx.Request) -> httpx.Request:
        """Add the credentials to ``request`` (httpx calls this just before sending it)."""
        self.require()
        # The key goes from this object straight into the request: no local holds it.
        if self._api_key and "x-api-key" not in request.headers:
            request.headers["x-api-key"] = self._api_key
        if self._auth_token and "authorization" not in request.headers:
            request.headers["authorization"] = f"Bearer {self._auth_token}"
        url = request.url
        if url.username or url.password:
            import httpx

            return next(httpx.BasicAuth(url.username, url.password).auth_flow(request))
        return request

    def secrets(self) -> list[str]:
        """The key and the token, those that are set: the strings never to show.

        Examples
        --------
        >>> Credentials("sk-ant-example").secrets()
        ['sk-ant-example']
        """
        return [s for s in (self._api_key, self._auth_token) if s]

    def redact(self, text: str) -> str:
        """``text`` with the key and the token replaced by ``<redacted>``.

        Examples
        --------
        >>> Credentials(auth_token="tok-example").redact("Bearer tok-example")
        'Bearer <redacted>'
        """
        return redact(text, (self._api_key, self._auth_token))


class HasCredentials(Protocol):
    """Anything with a :class:`Credentials` (a :class:`~nbclaude.Client`)."""

    @property
    def credentials(self) -> Credentials: ...


def secrets(client: HasCredentials | None = None) -> list[str]:
    """The strings never to show or send: the API key and auth token of the environment
    (``$ANTHROPIC_API_KEY``, ``$ANTHROPIC_AUTH_TOKEN``) and of ``client``.

    Strings shorter than :data:`MIN_SECRET_LENGTH` (8) are left out. Interpolation refuses a
    value that contains one of these; ``%claude fix`` redacts them from what it sends.

    Examples
    --------
    >>> from nbclaude import Client
    >>> "sk-ant-example" in secrets(Client(api_key="sk-ant-example"))
    True
    >>> "offline" in secrets(Client(api_key="offline"))  # too short to look for
    False
    """
    values = [os.environ.get(API_KEY_ENV), os.environ.get(AUTH_TOKEN_ENV)]
    if client is not None:
        values += client.credentials.secrets()
    return [v for v in values if v and len(v) >= MIN_SECRET_LENGTH]


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every one of ``secrets`` replaced by ``<redacted>`` (empty ones skipped).

    Examples
    --------
    >>> redact("key=sk-ant-example, again sk-ant-example", ["sk-ant-example"])
    'key=<redacted>, again <redacted>'
    """
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return text

"""The HTTP client for Anthropic's Messages API (layer 2: it imports only ``_api`` and the
package's ``_exceptions``, ``_types`` and ``_version``).

Modules
-------
client
    :class:`Client`: ``create``, ``stream``, ``count_tokens``, ``models``, ``request``; sending
    with retries, error responses turned into the package's exception classes. httpx is
    imported at the first request.
stream
    :class:`MessageStream`: a streaming reply, decoded and accumulated as it arrives; given the
    callable that opens its response, it never sees the client.
credentials
    :class:`Credentials`: the API key or auth token, added to each request by httpx's auth
    step, ``repr`` redacted; ``secrets(client)`` and ``redact(text, secrets)`` for the layers
    above.
retry
    When to try again and how long to wait: the official SDK's rules (docs/api.md §8).

Nothing is imported here: ``nbclaude.Client`` and ``nbclaude.MessageStream`` come from
``client``.
"""

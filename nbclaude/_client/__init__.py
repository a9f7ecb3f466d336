"""The HTTP client for Anthropic's Messages API (layer 2: it imports only ``_api`` and the
package's ``_exceptions``, ``_types`` and ``_version``).

Modules, each one concept (lowest first):

secret
    :class:`Secret` and :class:`Secrets`, strings whose ``repr`` is redacted; ``redact``.
colab
    Colab Secrets: the key read from ``google.colab.userdata`` at the first request.
scan
    The last check before a request leaves: does its body hold the key (as it is, in other
    letter case, in base64), and where.
credentials
    :class:`Credentials`: the API key or auth token, added to each request by httpx's auth
    step, checked when set, ``source`` saying where it came from; ``secrets(client)``.
cancel
    :class:`Cancel`: the stop signal a request shares with whoever may stop it.
retry
    When to try again and how long to wait: the official SDK's rules (docs/api.md §8);
    :class:`RetryNotice`, told to the caller before each wait.
body
    Reading a body within bounds (gzip inflated a MiB at a time), and saying what a body that
    is not the API's is.
failures
    httpx's exceptions -> clean :class:`~nbclaude.APIError` subclasses.
attempt
    One exchange on a worker thread, so a stop, a deadline or an interrupt ends the wait at
    once; nothing is written after a stop.
answers
    What a 2xx body is: JSON, an error envelope, or not the API's at all.
send
    One request: the body check, the retries, same-origin redirects, the deadline.
stream
    :class:`MessageStream`: a streaming reply, decoded and accumulated as it arrives; given the
    callable that opens its response, it never sees the client.
client
    :class:`Client`: ``create``, ``stream``, ``count_tokens``, ``models``, ``request``.
    httpx is imported at the first request.

Nothing is imported here: ``nbclaude.Client`` and ``nbclaude.MessageStream`` come from
``client``.
"""

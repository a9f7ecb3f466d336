"""Wire facts shared by the client and the fake: what the Messages API is, written once.

Layer 1: imports nothing of nbclaude but ``_types`` and ``_exceptions``; ``_client``,
``_content``, ``_session`` (through them) and ``testing`` (the fake) build on it, so a fact
stated here cannot drift between the side that sends requests and the side that answers them.

Modules
-------
``models``
    The model table (:data:`~nbclaude._api.models.MODELS`, one frozen ``ModelSpec`` per
    model: limits, prices, prefill, thinking mode, release date, snapshot id) and the
    questions asked of it (``model_spec``, ``supports_prefill``, ``thinking_mode``, ``cost``,
    ``default_model``). Used by the client, the session, the magics, the widget's model menu
    and the fake's ``/v1/models``.
``limits``
    The API's request limits (body and batch sizes, image counts, sizes and edges, cache
    breakpoints, page sizes). Checked by ``_content`` and ``_session`` before sending,
    enforced by the fake.
``fields``
    What a request may carry: the body fields of ``/v1/messages`` and of
    ``/v1/messages/count_tokens``, the beta-only fields, the ``anthropic-version`` values and
    the image media types. The session filters ``count_tokens`` bodies with it; the fake
    refuses anything else.
``sse``
    An incremental ``text/event-stream`` decoder. Used by the client's ``MessageStream`` and
    by the fake (replayed streams in batch results).
``accumulate``
    Stream events -> the final Message (and lenient partial JSON). Used by the same two.
"""

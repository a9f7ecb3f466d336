"""Message Batches: many independent prompts at half price (``Session.batch``).

- ``submit``: the batch's requests (each a turn without the history, built by the session's
  request builder) and the decisions behind batches (its docstring).
- ``job``: :class:`BatchJob`: polling, waiting, interrupt-then-cancel, results once.
- ``results``: :class:`BatchResults` in input order, :class:`BatchReply`, :class:`NotProcessed`.
- ``progress``: the progress bar.
"""

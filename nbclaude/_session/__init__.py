"""One conversation with Claude (layer 4): :class:`~nbclaude.Session` and the parts that own
its state. ``base.py`` says how they fit together; docs/architecture.md draws it.

- ``session``: :class:`Session` (the turns) on ``base``'s :class:`BaseSession` (settings and
  state), and ``get_session``; ``shared``: the shared session's slot.
- ``builder``: :class:`Settings` and the :class:`RequestBuilder` (settings -> request body),
  used by turns, token counting and batches; ``cache``: prompt-cache breakpoints.
- ``history``: :class:`History` (messages, their lock, facts about replies); ``rules``: what
  a conversation's ``messages`` may hold.
- ``usage``: :class:`Usage` (tokens and cost, each request counted once; the budget);
  ``budget``: a request's worst-case price; ``money``: dollars as people read them.
- ``policy``: the course policy; ``journal``: the instructor's log.
- ``events``: the typed events the magic, the widget and your code subscribe to.
- ``gate``: one turn at a time.
- ``turn``: :class:`SessionStream`, a turn's state machine; ``options``: what a turn is given;
  ``tool_round``: one round of tool calls; ``reply``: :class:`Reply`; ``formats``: a reply
  in ``%%claude``'s output formats.
- ``persist``: save and load; ``backend``: the real API or the offline fake.
- ``batches/``: Message Batches (submit, the job, results, progress).
"""

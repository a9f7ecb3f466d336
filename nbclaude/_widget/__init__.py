"""The chat widget (layer 5, beside the magics, which it never imports; both meet in the
session and its events).

- ``widget``: :class:`ChatWidget`, the anywidget: traits, the session's events, the view's
  messages, turns on a worker thread.
- ``protocol``: the message kinds, trait types and limits (``js/protocol.js`` is its twin).
- ``transcript``: ``Session.messages`` -> the transcript entries the view shows.
- ``feed``: the transcript sent to the views: whole once per view, then only what changed.
- ``turns``: the turns the widget starts (send, Retry), and the text given back when one fails.
- ``live``: the turn streaming now (coalesced deltas, the reply so far for a new view).
- ``tools``: the "Let Claude use tools" switch and the Run tool / Deny tool question.
- ``images``: images attached in the view, prepared on a worker thread.
- ``saved``, ``saved_html``: the copy of the conversation the saved notebook keeps (safe HTML and
  the machine-readable turns), readable without a kernel.
- ``static/``: the built front end (``npm run build``; not committed).
"""

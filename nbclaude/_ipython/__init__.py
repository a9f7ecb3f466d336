"""The notebook side: ``%%claude`` and ``%claude`` (layer 5, beside the widget, which it never
imports; both meet in the session and its events).

- ``magics``: :class:`ClaudeMagics`, the cell magic and the line magic, their options and traits;
  ``options``: the options that name notebook variables (``-i``, ``--tools``, ``--schema``).
- ``commands``: the ``%claude`` commands (status, reset, undo, history, save, load, ...);
  ``models_table``: ``%claude models``; ``cassettes``: ``%claude record`` / ``replay``.
- ``cell_turn``: one ``%%claude`` turn in its cell (its events only; why it waits).
- ``display``: the live cell output (finished Markdown blocks committed once, a live tail, the
  retry line); ``waiting``: the retry countdown, and the line of a turn that waits for another
  (a tool approval in the widget); ``show``: a command's Markdown answer.
- ``interpolate``: ``{name}``, ``{df:describe}``, ``{In[3]}``, ``{Out[3]}``, ``{Err[3]}`` in a
  prompt (one pass, never evaluated); ``cell_errors``: the failed cells' errors, and
  ``%claude fix``.
- ``errors``: expected failures as one clean line.
- ``magic_api``: IPython's magic decorators, typed; shell-like splitting of the option line.
"""

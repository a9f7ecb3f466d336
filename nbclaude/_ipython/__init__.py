"""The notebook side: ``%%claude`` and ``%claude`` (layer 5, beside the widget, which it never
imports; both meet in the session and its events).

- ``magics``: :class:`ClaudeMagics`, the cell magic and the line magic, their options and traits.
- ``commands``: the ``%claude`` commands (status, reset, undo, history, models, save, load, ...).
- ``display``: the live cell output (finished Markdown blocks committed once, a live tail).
- ``interpolate``: ``{name}``, ``{In[3]}``, ``{Out[3]}`` in a prompt (one pass, never evaluated).
- ``errors``: expected failures as one clean line.
- ``magic_api``: IPython's magic decorators, typed; shell-like splitting of the option line.
"""

"""Untrusted model output -> Markdown that is safe to render in notebooks: :func:`safe_markdown`.

The policy, in one paragraph (the full policy is the docstring of
:mod:`nbclaude._markdown.render`): model text is parsed with markdown-it and written back out as
canonical Markdown in which nothing but the structure we chose can be syntax, so that JupyterLab,
Notebook 7 (marked with raw HTML allowed and no sanitizer, then MathJax), VS Code and plain
CommonMark all show it harmlessly. Raw HTML is shown as text; text is escaped; links keep only
``http:``, ``https:`` and ``mailto:`` targets; images never load (they become links or text);
math is written with dollar delimiters, and model TeX may not carry styles, URLs or definitions
(the commands that would are shown as text, huge lengths make the math text); dollars that are
not math are not math anywhere; code is kept byte for byte; the document's structure (headings,
lists, quotes, tables, emphasis) is kept.

One module per concept, lowest first (each imports only those above it in this list):

* ``escape``: plain text and link targets written so that they show exactly themselves
  (:func:`escape_text`);
* ``texpolicy``: which TeX commands model output may use (no styles, URLs or definitions);
* ``tex``: TeX from model output made safe to typeset;
* ``parser``: the markdown-it parser (CommonMark, GFM tables and strikethrough, math);
* ``inline``: one paragraph's inline tokens written back as safe Markdown;
* ``stream``: a growing reply cut into finished top-level blocks and a live tail
  (:class:`BlockSplitter`, :func:`split_blocks`), for streaming displays;
* ``render``: the blocks written back, and :func:`safe_markdown`.

Those entry points are re-exported here; no module of this folder imports this package itself.
markdown-it is imported on first use, so importing this package loads none of it.

Examples
--------
>>> from nbclaude._markdown import safe_markdown
>>> safe_markdown("**Hi** <script>alert(1)</script> [x](javascript:alert(1))")
'**Hi** &lt;script&gt;alert(1)&lt;/script&gt; x\\n'
"""

from __future__ import annotations

from .escape import escape_text
from .render import safe_markdown
from .stream import BlockSplitter, split_blocks

__all__ = ["BlockSplitter", "escape_text", "safe_markdown", "split_blocks"]

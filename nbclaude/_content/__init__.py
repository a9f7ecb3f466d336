"""What the user sends, as API content blocks: text, images, documents, and the request's limits.

* ``images/``: pictures -> image blocks (:func:`~nbclaude._content.images.image`, the
  :class:`~nbclaude._content.images.ImageBlock` it makes, thumbnails); a folder of its own,
  mapped in :mod:`nbclaude._content.images`;
* ``documents``: a PDF or plain text -> a ``document`` block (:func:`document`,
  :class:`DocumentBlock`);
* ``limits``: the request guard rail, :func:`fit_messages`, run on the whole ``messages`` list
  just before it is sent;
* ``blocks``: :func:`to_blocks`, what ``Session.send(*parts)`` receives -> content blocks;
* ``dataframe``: :func:`describe_frame`, a pandas or polars table as a prompt carries it (shape,
  dtypes, first and last rows, what was left out), recognised by :func:`is_frame` (by class
  name: pandas and polars are never imported).

The entry points used outside this folder are re-exported here (the images' from
:mod:`nbclaude._content.images`); no module of this folder imports this package itself.
Importing it loads no PIL, numpy, matplotlib, pandas, polars or httpx.

Examples
--------
>>> from nbclaude._content import document, to_blocks
>>> to_blocks("Summarise:", document(text="The grass is green."))
[{'type': 'text', 'text': 'Summarise:'}, <document text/plain, 19 characters>]
"""

from __future__ import annotations

from .blocks import to_blocks
from .dataframe import describe_frame, is_frame
from .documents import TEXT_SUFFIXES, DocumentBlock, document, rebuild_document
from .limits import fit_messages

__all__ = [
    "TEXT_SUFFIXES",
    "DocumentBlock",
    "describe_frame",
    "document",
    "fit_messages",
    "is_frame",
    "to_blocks",
]

# Pickles of a DocumentBlock made by nbclaude 0.1 before nbclaude._content was a package name
# this attribute (the v1 modules that are gone are mapped by nbclaude._legacy).
_rebuild_document = rebuild_document

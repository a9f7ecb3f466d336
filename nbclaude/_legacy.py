"""Old pickles keep loading: the module names of nbclaude 0.1 (v1), resolved to their new homes.

A pickle names the function that rebuilds an object by its module and name. v1 kept its code in
flat modules that are gone now, so pickles made with it name, for an image block or a document
block:

* ``nbclaude._image_block._rebuild_block`` and ``nbclaude._images._rebuild_block``, now
  ``nbclaude._content.images.block.rebuild_image_block``;
* ``nbclaude._documents._rebuild_document``, now
  ``nbclaude._content.documents.rebuild_document``;
* ``nbclaude._content._rebuild_document``: ``nbclaude._content`` is a package now, which keeps
  that attribute itself.

New pickles name the new paths, which stay as they are. :data:`FINDER` answers for exactly the
v1 module names in :data:`MOVED`: each becomes a small stand-in module whose public names, and
the renamed ones in :data:`RENAMED`, are looked up in the module that holds the code now, when
first asked for. ``nbclaude/__init__.py`` calls :func:`install`, which appends the finder to
``sys.meta_path``: that costs a list append and imports nothing, and Python asks the finder only
about a module that no other finder found, so ordinary imports never reach it.

Examples
--------
>>> install()
>>> from nbclaude._image_block import _rebuild_block  # what a v1 pickle asks for
>>> _rebuild_block.__module__, _rebuild_block.__name__
('nbclaude._content.images.block', 'rebuild_image_block')
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.abc import Loader
    from importlib.machinery import ModuleSpec

__all__ = ["FINDER", "MOVED", "RENAMED", "LegacyFinder", "MovedModule", "install"]

#: v1 module name -> the module that holds its code now.
MOVED: dict[str, str] = {
    "nbclaude._image_block": "nbclaude._content.images.block",
    "nbclaude._images": "nbclaude._content.images",
    "nbclaude._documents": "nbclaude._content.documents",
}

#: (v1 module, v1 name) -> (module, name) now, for the names that changed.
RENAMED: dict[tuple[str, str], tuple[str, str]] = {
    ("nbclaude._image_block", "_rebuild_block"): (
        "nbclaude._content.images.block",
        "rebuild_image_block",
    ),
    ("nbclaude._images", "_rebuild_block"): (
        "nbclaude._content.images.block",
        "rebuild_image_block",
    ),
    ("nbclaude._documents", "_rebuild_document"): (
        "nbclaude._content.documents",
        "rebuild_document",
    ),
}


class MovedModule(types.ModuleType):
    """The stand-in for a v1 module: its names are those of the module in :data:`MOVED`.

    Public names are looked up there; private ones only when :data:`RENAMED` lists them (the
    pickle rebuilders); dunder names never (a stand-in is no package and has no file).

    Examples
    --------
    >>> old = MovedModule("nbclaude._documents")
    >>> old.document.__module__
    'nbclaude._content.documents'
    """

    def __getattr__(self, name: str) -> Any:
        new = RENAMED.get((self.__name__, name))
        if new is None:
            home = MOVED.get(self.__name__)
            if home is None or name.startswith("_"):
                raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
            new = (home, name)
        return getattr(importlib.import_module(new[0]), new[1])


class LegacyFinder:
    """A ``sys.meta_path`` finder, and the loader, of the v1 module names in :data:`MOVED`.

    Examples
    --------
    >>> FINDER.find_spec("nbclaude._documents").origin
    'nbclaude._content.documents'
    >>> FINDER.find_spec("nbclaude._session") is None  # not a v1 name: for other finders
    True
    """

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: Any = None
    ) -> ModuleSpec | None:
        """A spec for a v1 module name, ``None`` for every other name."""
        if fullname not in MOVED:
            return None
        from importlib.machinery import ModuleSpec

        # A loader by duck typing: importlib.abc would cost 10 ms to import.
        return ModuleSpec(fullname, cast("Loader", self), origin=MOVED[fullname])

    def create_module(self, spec: ModuleSpec) -> types.ModuleType:
        """The stand-in module (:class:`MovedModule`)."""
        doc = f"The v1 name of {MOVED[spec.name]}, kept so that old pickles load."
        return MovedModule(spec.name, doc)

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: a stand-in looks its names up when they are asked for."""


#: The one finder :func:`install` puts on ``sys.meta_path``.
FINDER = LegacyFinder()


def install() -> None:
    """Append :data:`FINDER` to ``sys.meta_path``, once (called by ``nbclaude/__init__.py``).

    Examples
    --------
    >>> install(); install()
    >>> sys.meta_path.count(FINDER)
    1
    """
    if FINDER not in sys.meta_path:
        sys.meta_path.append(FINDER)

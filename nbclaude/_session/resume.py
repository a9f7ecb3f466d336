"""What ``%claude resume`` brings back: this notebook's autosave, a saved session (``.json``)
or a saved notebook (``.ipynb``), read and checked whole before anything is replaced."""

from __future__ import annotations

import os
from pathlib import Path

from nbclaude._exceptions import InvalidRequestError

from .autosave import Autosave
from .notebook import read_notebook
from .session import Session

__all__ = ["open_saved", "resume_source"]


def resume_source(keeper: Autosave | None, path: str | None) -> Path:
    """The file to resume from: ``path``, or the autosave (after its pending write).

    Raises
    ------
    InvalidRequestError
        When there is no autosave to resume (off, or nothing written yet), saying why.

    Examples
    --------
    >>> resume_source(None, "chat.json").name
    'chat.json'
    """
    if path:
        return Path(path).expanduser()
    where = keeper.where if keeper is not None else None
    if keeper is None or where is None or where.path is None:
        why = where.why if where is not None else "off"
        raise InvalidRequestError(
            f"No autosave to resume: autosave is {why}. Name a file: %claude resume PATH"
        )
    keeper.flush()
    if not where.path.is_file():
        raise InvalidRequestError(f"No autosave to resume yet: {where.path} does not exist.")
    return where.path


def open_saved(path: str | os.PathLike[str]) -> tuple[Session, str]:
    """The session saved at ``path`` (``.ipynb``: rebuilt from the notebook's outputs) and a
    note to show about it ("2 images came back as thumbnails", or ``""``).

    Examples
    --------
    >>> open_saved("/no/such/chat.json")
    Traceback (most recent call last):
    ...
    nbclaude._exceptions.InvalidRequestError: Cannot load /no/such/chat.json: no such file
    """
    if Path(path).suffix.lower() != ".ipynb":
        return Session.load(path), ""
    rebuilt = read_notebook(path)
    session = Session(model=rebuilt.model, system=rebuilt.system)
    session.messages = rebuilt.messages
    return session, rebuilt.note()

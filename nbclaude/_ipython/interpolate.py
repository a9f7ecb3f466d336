"""``{name}`` interpolation for ``%%claude`` cells: one pass, names only, never evaluated.

Rules:

- ``{name}`` inserts the notebook variable ``name``: text for str, numbers and other objects
  (``str(value)``), an image block *at that position* for image-like values (PIL images, numpy
  arrays, matplotlib figures, ``nbclaude.image(...)`` blocks, ``IPython.display.Image``), a
  document block for ``nbclaude.document(...)``, and for a pandas or polars DataFrame or Series
  a description (shape, dtypes, first and last rows as a Markdown table, what was left out:
  :func:`nbclaude._content.describe_frame`), never ``str(df)``.
- ``{name:describe}`` is ``{name}`` for a table with its ``describe()`` added (the one suffix
  there is: any other ``{name:...}`` is left as written).
- ``{In[3]}`` / ``{Out[3]}`` insert a cell's input / output (negative indices count back).
- ``{Err[3]}`` inserts the error and traceback of cell 3 as plain text, ``{Err}`` the last
  error's, from ``errors`` (cell number -> text, recorded as cells fail:
  :class:`nbclaude._ipython.cell_errors.CellErrors`); the key is blanked. With ``errors``
  given, ``Err`` is a reserved name like ``In`` and ``Out``.
- ``{{`` and ``}}`` are literal braces.
- Anything else in braces stays exactly as written: code such as ``{k: v for k in d}``,
  ``{os.environ}``, ``{x.attr}``, ``{x[0]}``, ``{x:>10}``. No attribute, index or format
  expression is ever evaluated (that is how other tools leak secrets).
- An unknown ``{name}`` stays literal, with a warning.
- Inserted values are never expanded again, even if they contain braces.
- A value that contains the API key is refused: the key must never be sent to a model.
- A value whose ``str()`` raises is refused with one clear error naming it (nothing is sent).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from nbclaude._client.credentials import redact
from nbclaude._client.secret import found_in
from nbclaude._exceptions import InvalidRequestError

__all__ = ["interpolate"]

_TOKEN = re.compile(
    r"\{\{|\}\}"
    r"|\{(?P<err>Err)(?:\[(?P<en>-?\d+)\])?\}"
    r"|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<describe>:describe)?\}"
    r"|\{(?P<hist>In|Out)\[(?P<n>-?\d+)\]\}"
)


def interpolate(
    template: str,
    namespace: Mapping[str, Any],
    *,
    secrets: Collection[str] = (),
    errors: Mapping[int, str] | None = None,
) -> tuple[list[Any], list[str]]:
    """Split ``template`` into prompt parts, inserting variables.

    Parameters
    ----------
    template : str
        The cell body.
    namespace : Mapping
        The user namespace (``shell.user_ns``); ``In`` and ``Out`` are read from it.
    secrets : collection of str
        Strings that must never be sent (the API key); a value containing one is refused
        (blanked, in an error's traceback).
    errors : mapping of int to str, optional
        The errors of the cells that failed, by cell number, for ``{Err}`` and ``{Err[n]}``
        (``None``: ``Err`` is an ordinary name).

    Returns
    -------
    parts : list
        Strings and image blocks, in order (adjacent text merged).
    warnings : list of str
        One line per unknown name or missing ``In``/``Out`` entry.

    Raises
    ------
    InvalidRequestError
        When an inserted value contains a secret, or its ``str()`` raises.

    Examples
    --------
    >>> parts, warnings = interpolate("Name: {who}. Code: {k: v} {{literal}} {nope}",
    ...                               {"who": "Ada"})
    >>> parts
    ['Name: Ada. Code: {k: v} {literal} {nope}']
    >>> warnings
    ['{nope} is not defined, so it was sent as written (write {{nope}} to silence this).']
    >>> interpolate("Why? {Err}", {}, errors={4: "ZeroDivisionError: division by zero"})[0]
    ['Why? The error of cell In[4]:\\n```text\\nZeroDivisionError: division by zero\\n```']
    """
    from nbclaude._content import describe_frame, is_frame
    from nbclaude._content.images import image, is_image_like

    parts: list[Any] = []
    warnings: list[str] = []
    text: list[str] = []
    pos = 0

    def flush_text() -> None:
        joined = "".join(text)
        text.clear()
        if joined:
            parts.append(joined)

    def refuse(label: str) -> InvalidRequestError:
        return InvalidRequestError(
            f"{label} contains your API key; nbclaude will not send it to the model. "
            "Nothing was sent."
        )

    def insert(value: Any, label: str, *, summary: bool = False) -> None:
        if is_frame(value):

            def screen(cell: str) -> None:  # every cell whole, before a long one is cut
                if found_in(cell, secrets):
                    raise refuse(label)

            value = describe_frame(value, name=label.strip("{}"), describe=summary, screen=screen)
        if _is_block(value):  # nbclaude.image(...) / nbclaude.document(...) blocks
            flush_text()
            parts.append(value)
            return
        if is_image_like(value):
            flush_text()
            parts.append(image(value))
            return
        rendered = value if isinstance(value, str) else _text_of(value, label)
        if found_in(rendered, secrets):
            raise refuse(label)
        text.append(rendered)

    for m in _TOKEN.finditer(template):
        text.append(template[pos : m.start()])
        pos = m.end()
        token = m.group()
        if token == "{{":
            text.append("{")
        elif token == "}}":
            text.append("}")
        elif m.group("err") and errors is not None:
            error, n_cell = _error(errors, m.group("en"))
            if error is None:
                text.append(token)
                warnings.append(_no_error(token, errors))
            else:
                text.append(_error_block(n_cell, redact(error, secrets, any_case=True)))
        elif m.group("err"):  # no errors kept: an ordinary name
            name = "Err"
            if m.group("en") is None and name in namespace:
                insert(namespace[name], token)
            else:
                text.append(token)
        elif m.group("name"):
            name = m.group("name")
            summary = m.group("describe") is not None
            if summary and name in namespace and not is_frame(namespace[name]):
                text.append(token)
                kind = type(namespace[name]).__name__
                warnings.append(
                    f"{token}: {name} is a {kind}, not a DataFrame or Series, so it was sent "
                    "as written."
                )
            elif name in namespace:
                insert(namespace[name], "{" + name + "}", summary=summary)
            else:
                text.append(token)
                warnings.append(
                    f"{{{name}}} is not defined, so it was sent as written "
                    f"(write {{{{{name}}}}} to silence this)."
                )
        else:
            kind, n = m.group("hist"), int(m.group("n"))
            found, value = _history(namespace, kind, n)
            if found:
                insert(value, token)
            else:
                text.append(token)
                warnings.append(f"{token} does not exist, so it was sent as written.")
    text.append(template[pos:])
    flush_text()
    return parts, warnings


def _text_of(value: Any, label: str) -> str:
    """``str(value)``; if that raises, one clear error naming the value (raised outside the
    ``except`` block, so the value's own traceback is not chained to it)."""
    try:
        return str(value)
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    raise InvalidRequestError(
        f"{label} could not be turned into text: str() of its {type(value).__name__} raised "
        f"{why[:300]}. Nothing was sent."
    )


def _error(errors: Mapping[int, str], n: str | None) -> tuple[str | None, int]:
    """The recorded error of cell ``n`` (``None``: the last; negative: counted back)."""
    cells = sorted(k for k in errors if isinstance(k, int))
    if not cells:
        return None, 0
    number = cells[-1] if n is None else int(n)
    if number < 0:
        if -number > len(cells):
            return None, number
        number = cells[number]
    return errors.get(number), number


def _no_error(token: str, errors: Mapping[int, str]) -> str:
    if not errors:
        return (
            f"{token}: no cell has failed yet (since %load_ext nbclaude), so it was sent as "
            "written."
        )
    cells = ", ".join(str(k) for k in sorted(errors)[-5:])
    return (
        f"{token}: that cell raised no error nbclaude kept (the last failed cells: {cells}), "
        "so it was sent as written."
    )


def _error_block(number: int, text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"The error of cell In[{number}]:\n{fence}text\n{text.rstrip()}\n{fence}"


def _is_block(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get("type") in ("image", "document")


def _history(namespace: Mapping[str, Any], kind: str, n: int) -> tuple[bool, Any]:
    store = namespace.get(kind)
    if kind == "In" and isinstance(store, Sequence):
        try:
            return True, store[n]
        except IndexError:
            return False, None
    if kind == "Out" and isinstance(store, Mapping):
        if n < 0:
            keys = sorted(k for k in store if isinstance(k, int))
            if -n > len(keys):
                return False, None
            n = keys[n]
        if n in store:
            return True, store[n]
    return False, None

"""Python values that hold pictures: recognising them, naming them, turning them into pixels.

:func:`is_image_like` and :func:`value_kind` look at class names only, so they import nothing
(a value of a library that is not loaded cannot be one of its objects). :func:`array_to_pil`
imports numpy and Pillow when it runs; :func:`figure_png` only calls the figure's ``savefig``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .bytes import looks_like_image
from .sources import TIMES, short_source, source_error

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

__all__ = ["array_to_pil", "describe_value", "figure_png", "is_image_like", "value_kind"]


def is_image_like(value: Any) -> bool:
    """Whether ``value`` should become an image block (cheap: imports nothing).

    True for PIL images, matplotlib figures and axes, ``IPython.display.Image``, image block
    dicts, bytes starting with an image signature, and numpy arrays shaped like an image:
    ``HxWx{1,3,4}`` of any numeric type, or 2-D ``uint8``/``uint16``/``bool`` (a 2-D float
    array is more likely a table of numbers than a picture).

    Examples
    --------
    >>> is_image_like({"type": "image", "source": {"type": "url", "url": "https://x/a.png"}})
    True
    >>> is_image_like("photo.jpg")
    False
    """
    if isinstance(value, Mapping):
        return value.get("type") == "image"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return looks_like_image(value)
    kind = value_kind(value)
    if kind != "numpy":
        return kind is not None
    shape: tuple[Any, ...] = tuple(getattr(value, "shape", ()))
    dtype = getattr(value, "dtype", None)
    dkind = getattr(dtype, "kind", "")
    if any(not isinstance(n, int) or n < 1 for n in shape):
        return False
    if len(shape) == 3:
        return shape[2] in (1, 3, 4) and dkind in "biuf"
    if len(shape) == 2:
        return str(dtype) in ("uint8", "uint16", "bool")
    return False


def value_kind(value: Any) -> str | None:
    """'pil' | 'numpy' | 'figure' | 'axes' | 'ipython' | None, from class names only."""
    for cls in type(value).__mro__:
        mod, name = cls.__module__, cls.__name__
        if mod == "PIL.Image" and name == "Image":
            return "pil"
        if mod == "numpy" and name == "ndarray":
            return "numpy"
        if mod == "matplotlib.figure" and name in ("Figure", "SubFigure"):
            return "figure"
        if mod.startswith("matplotlib.axes") and name == "_AxesBase":
            return "axes"
        if mod == "IPython.core.display" and name == "Image":
            return "ipython"
    return None


def describe_value(src: Any) -> str:
    """A short description of an in-memory source for messages (``numpy array (3, 4) uint8``)."""
    kind = value_kind(src)
    if kind == "pil":
        return f"PIL image ({src.mode} {src.size[0]}{TIMES}{src.size[1]})"
    if kind == "numpy":
        return f"numpy array {tuple(src.shape)} {src.dtype}"
    if kind in ("figure", "axes"):
        return f"matplotlib {type(src).__name__}"
    if kind == "ipython":
        name = getattr(src, "filename", None) or getattr(src, "url", None)
        return f"IPython Image ({short_source(name, 48)})" if name else "IPython Image"
    if isinstance(src, (bytes, bytearray, memoryview)):
        return f"{type(src).__name__} ({memoryview(src).nbytes:,} bytes)"
    return type(src).__name__


def array_to_pil(array: Any, origin: str) -> PILImage:
    """A numpy array -> a PIL image (8-bit; see :func:`nbclaude.image` for the rules)."""
    import numpy as np
    from PIL import Image

    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (2, 3, 4))):
        raise source_error(
            origin,
            f"an array of shape {a.shape} is not an image",
            hint="Use HxW (gray), HxWx3 (RGB) or HxWx4 (RGBA).",
        )
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise source_error(origin, "the array is empty (zero width or height)")
    kind = a.dtype.kind
    if kind == "b":
        a = a.astype(np.uint8) * 255
    elif kind == "f":
        a = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
        a = (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    elif kind in "ui":
        if a.dtype == np.uint16:
            a = (a.astype(np.uint32) * 255 + 32767) // 65535  # the full 16-bit range
        elif a.dtype != np.uint8:
            lo, hi = int(a.min()), int(a.max())
            if lo < 0 or hi > 255:  # outside 8-bit: stretch to 0..255
                span = max(1, hi - lo)
                a = (a.astype(np.float64) - lo) * (255.0 / span) + 0.5
        a = a.astype(np.uint8)
    else:
        raise source_error(origin, f"cannot make an image of dtype {a.dtype}")
    return Image.fromarray(np.ascontiguousarray(a))


def figure_png(fig: Any) -> bytes:
    """Render a matplotlib figure to PNG with its own dpi; no pyplot, figure left unchanged."""
    while not hasattr(fig, "savefig") and getattr(fig, "figure", None) not in (None, fig):
        fig = fig.figure  # a SubFigure -> its root Figure
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi="figure")  # the figure's own (unscaled) dpi
    return buf.getvalue()

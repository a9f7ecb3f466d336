"""The progress display of a Message Batch: an ipywidgets bar plus a plain-text label.

ipywidgets and IPython are imported only when a bar is made, so importing this costs nothing.
Outside a kernel nothing is shown unless asked for (``progress=True`` makes the widget, which
code can display itself).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["ProgressBar", "counts_of", "in_kernel", "progress_bar"]

_ENDED = "ended"


def in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (IPython with a kernel), without importing IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def counts_of(batch: Mapping[str, Any]) -> dict[str, int]:
    """A ``MessageBatch``'s ``request_counts``, every key present.

    Examples
    --------
    >>> counts_of({"request_counts": {"processing": 2, "succeeded": 1}})
    {'processing': 2, 'succeeded': 1, 'errored': 0, 'canceled': 0, 'expired': 0}
    """
    raw = batch.get("request_counts") or {}
    return {
        k: int(raw.get(k) or 0)
        for k in ("processing", "succeeded", "errored", "canceled", "expired")
    }


def _elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """An ipywidgets progress bar and a plain-text label (no HTML from anywhere).

    ``widget`` is the ``HBox`` to display; :meth:`update` shows a ``MessageBatch``.

    Examples
    --------
    >>> bar = ProgressBar(4)
    >>> bar.update({"processing_status": "in_progress",
    ...             "request_counts": {"processing": 3, "succeeded": 1}}, elapsed=75)
    >>> bar.bar.value, bar.label.value
    (1, '1 succeeded · 0 errored · 3 processing · 1:15')
    """

    def __init__(self, total: int) -> None:
        import ipywidgets as widgets

        self.bar = widgets.IntProgress(
            value=0, min=0, max=max(total, 1), description="Batch", bar_style="info"
        )
        self.label = widgets.Label(value="submitted")
        self.widget = widgets.HBox([self.bar, self.label])

    def update(self, batch: Mapping[str, Any], elapsed: float) -> None:
        counts = counts_of(batch)
        status = str(batch.get("processing_status") or "")
        self.bar.value = min(self.bar.max, sum(v for k, v in counts.items() if k != "processing"))
        parts = [f"{counts['succeeded']} succeeded", f"{counts['errored']} errored"]
        for key in ("canceled", "expired"):
            if counts[key]:
                parts.append(f"{counts[key]} {key}")
        if status != _ENDED:
            parts.append(f"{counts['processing']} processing")
        head = {"canceling": "canceling… ", _ENDED: "done: "}.get(status, "")
        self.label.value = f"{head}{' · '.join(parts)} · {_elapsed(elapsed)}"
        if status == _ENDED:
            self.bar.bar_style = (
                "danger"
                if counts["canceled"] or counts["expired"]
                else ("warning" if counts["errored"] else "success")
            )
        elif status == "canceling":
            self.bar.bar_style = "warning"


def progress_bar(progress: bool | None, total: int) -> ProgressBar | None:
    """The progress bar for ``wait(progress=...)``, displayed when running in a kernel.

    ``None``: a bar only in a kernel; ``True``: always a bar; ``False``: none. ``None`` also
    when ipywidgets cannot be imported.
    """
    kernel = in_kernel()
    if progress is False or (progress is None and not kernel):
        return None
    try:
        bar = ProgressBar(total)
    except ImportError:
        return None
    if kernel:
        from IPython.display import display

        display(bar.widget)  # type: ignore[no-untyped-call]
    return bar

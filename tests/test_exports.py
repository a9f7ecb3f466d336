"""The public namespace: sorted, complete, every name resolves, and importing it is light."""

from __future__ import annotations

import subprocess
import sys

import nbclaude


def test_all_is_sorted_and_unique() -> None:
    assert nbclaude.__all__ == sorted(nbclaude.__all__)
    assert len(set(nbclaude.__all__)) == len(nbclaude.__all__)


def test_every_public_name_resolves() -> None:
    for name in nbclaude.__all__:
        assert getattr(nbclaude, name) is not None, name


def test_every_exception_is_public() -> None:
    from nbclaude import _exceptions

    for name in _exceptions.__all__:
        value = getattr(_exceptions, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert name in nbclaude.__all__, name


def test_design_names_are_there() -> None:
    for name in [
        "ChatWidget",
        "Client",
        "Reply",
        "Session",
        "document",
        "get_session",
        "image",
        "load_ipython_extension",
        "unload_ipython_extension",
        "NbClaudeError",
        "APIError",
        "APIStatusError",
        "BadRequestError",
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "RequestTooLargeError",
        "RateLimitError",
        "InternalServerError",
        "OverloadedError",
        "APIConnectionError",
        "APITimeoutError",
        "StreamError",
        "MissingAPIKeyError",
        "ImageError",
        "Tool",
    ]:
        assert name in nbclaude.__all__, name


def test_tool_is_public() -> None:
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    tool = nbclaude.Tool(add)
    assert tool.name == "add" and tool.spec["input_schema"]["required"] == ["a", "b"]


def test_unknown_attribute_is_an_attribute_error() -> None:
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = nbclaude.nope  # type: ignore[attr-defined]


def test_import_loads_nothing_heavy() -> None:
    heavy = [
        "httpx",
        "PIL",
        "numpy",
        "anywidget",
        "ipywidgets",
        "matplotlib",
        "markdown_it",
        "IPython",
        "nbclaude._session.session",
        "nbclaude._widget.widget",
    ]
    code = f"import sys, nbclaude\nprint([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"

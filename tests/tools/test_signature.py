"""Tests of nbclaude._tools.signature: a callable read as a tool, and the input bound back.

Most of it is also exercised through :class:`~nbclaude._tools.Tool` in test_tools.py; the tests
here are about the signature itself.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import pytest

from nbclaude._schema import StructuredOutputError
from nbclaude._schema.docstrings import parse_docstring
from nbclaude._tools import Tool, tool_spec
from nbclaude._tools.signature import (
    NO_PARAMETERS,
    PASS_THROUGH,
    Param,
    Signature,
    base_function,
    default_name,
    docstring,
    read_signature,
)


def read(fn: Any, name: str = "t") -> Signature:
    base = base_function(fn)
    return read_signature(fn, base, parse_docstring(docstring(fn, base)), name)


def test_positional_only_and_kwargs() -> None:
    def f(a: int, /, b: int = 1, **extra: Any) -> tuple[int, int, dict[str, Any]]:
        return a, b, extra

    spec = tool_spec(f)
    assert list(spec["input_schema"]["properties"]) == ["a", "b"]  # **extra is not offered
    assert Tool(f).call({"a": 5}) == (5, 1, {})
    assert Tool(f).call({"b": 2, "a": 5}) == (5, 2, {})

    def g(a: int = 1, /, b: int = 2) -> tuple[int, int]:
        return a, b

    assert Tool(g).call({"b": 3}) == (1, 3)


def test_var_positional_is_refused() -> None:
    def total(*values: float) -> float:
        return sum(values)

    with pytest.raises(TypeError, match=r"\*values .* values: list\[float\]"):
        tool_spec(total)


def test_unsupported_parameter_type_names_function_and_parameter() -> None:
    def upload(name: str, data: bytes) -> None: ...

    with pytest.raises(TypeError, match=r"bytes .*upload\(data\)"):
        tool_spec(upload)


def test_unreadable_signature() -> None:
    with pytest.raises(TypeError, match="Cannot read the signature of"):
        tool_spec(max)


def test_the_signature_holds_the_parameters_and_the_schema() -> None:
    def f(a: int, /, b: list[float], c: str = "x", **extra: Any) -> None:
        """F.

        Parameters
        ----------
        b : list of float
            Numbers.
        """

    sig = read(f, "f")
    assert sig.params == (
        Param("a", inspect.Parameter.POSITIONAL_ONLY, int, inspect.Parameter.empty),
        Param("b", inspect.Parameter.POSITIONAL_OR_KEYWORD, list[float], inspect.Parameter.empty),
        Param("c", inspect.Parameter.POSITIONAL_OR_KEYWORD, str, "x"),
    )
    assert sig.var_keyword is True
    assert sig.schema == {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "b": {"type": "array", "items": {"type": "number"}, "description": "Numbers."},
            "c": {"type": "string", "default": "x"},
        },
        "required": ["a", "b"],
        "additionalProperties": False,
    }
    assert sig.bind({"a": 1, "b": [2], "z": True}, "f") == ([1], {"b": [2.0], "z": True})


def test_bind_reports_json_paths() -> None:
    def f(a: int, /, b: int = 0) -> None: ...

    sig = read(f, "f")
    with pytest.raises(StructuredOutputError, match=r"Invalid input for f: at \$\.a: required"):
        sig.bind({"b": 1}, "f")
    with pytest.raises(StructuredOutputError, match=r'at \$: unexpected key "z"') as info:
        sig.bind({"a": 1, "z": 2}, "f")
    assert info.value.errors == [("$", 'unexpected key "z"')]


def test_the_two_signatures_without_parameters() -> None:
    assert PASS_THROUGH.bind({"q": 1}, "t") == ([], {"q": 1})
    with pytest.raises(StructuredOutputError, match='unexpected key "q"'):
        NO_PARAMETERS.bind({"q": 1}, "t")
    assert NO_PARAMETERS.bind({}, "t") == ([], {})


def test_a_definition_dict_expects_no_input_keys() -> None:
    """A tool made from a definition dict has no parameters of its own: nothing passes through."""
    tool = Tool({"name": "web", "input_schema": {"type": "object"}})
    with pytest.raises(StructuredOutputError, match='unexpected key "q"'):
        tool.arguments({"q": 1})


def test_a_hand_written_schema_over_an_unreadable_signature_passes_the_input_on() -> None:
    tool = Tool(dict, name="as_dict", input_schema={"type": "object"})
    assert tool.call({"q": 1}) == {"q": 1}


def test_what_describes_a_callable() -> None:
    class Greeter:
        """Greets people."""

        def __call__(self, name: str) -> str:
            return name

    def hello(name: str) -> str:
        """Say hello."""
        return name

    part = functools.partial(hello, "x")
    assert base_function(part) is hello and default_name(part) == "hello"
    g = Greeter()
    assert base_function(g) is Greeter.__call__ and default_name(g) == "Greeter"
    assert docstring(g, base_function(g)) == "Greets people."
    assert docstring(Greeter, base_function(Greeter)) == "Greets people."
    assert docstring(hello, hello) == "Say hello."

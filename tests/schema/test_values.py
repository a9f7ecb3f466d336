"""Tests of nbclaude._schema.values: Literal and Enum choices, and defaults written as JSON.

Most of it is also exercised through :func:`~nbclaude._schema.json_schema` in test_schema.py
(the type forms table); the tests here are about the values themselves.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import math

import pytest

from nbclaude._schema import json_schema
from nbclaude._schema.values import enum_schema, jsonable_default, literal_schema


class Size(enum.IntEnum):
    """How big."""

    S = 1
    M = 2


def test_enum_with_unjsonable_values() -> None:
    class Bad(enum.Enum):
        A = (1, 2)

    with pytest.raises(TypeError, match="Bad"):
        json_schema(Bad)


def test_literal_schema() -> None:
    assert literal_schema(("a",), "x") == {"type": "string", "const": "a"}
    assert literal_schema((1, 2.5), "x") == {"enum": [1, 2.5]}  # integer and number differ
    assert literal_schema((True, False), "x") == {"type": "boolean", "enum": [True, False]}
    assert literal_schema((None,), "x") == {"const": None}  # "null" is no type worth saying
    assert literal_schema((Size.S, "b"), "x") == {"enum": [1, "b"]}
    with pytest.raises(TypeError, match=r"Literal values must be .* \(at where\.it\)"):
        literal_schema((b"x",), "where.it")


def test_enum_schema() -> None:
    assert enum_schema(Size, "x") == {
        "title": "Size",
        "type": "integer",
        "description": "How big.",
        "enum": [1, 2],
    }

    class Mixed(enum.Enum):
        A = "a"
        B = 2

    assert enum_schema(Mixed, "x") == {"title": "Mixed", "enum": ["a", 2]}
    with pytest.raises(TypeError, match=r"The values of .*Bad \(at f\(x\)\) must be"):

        class Bad(enum.Enum):
            A = (1, 2)

        enum_schema(Bad, "f(x)")


def test_jsonable_default() -> None:
    @dataclasses.dataclass
    class P:
        x: int

    assert jsonable_default(Size.M) == (True, 2)
    assert jsonable_default((1, "a")) == (True, [1, "a"])
    assert jsonable_default(P(1)) == (True, {"x": 1})
    assert jsonable_default(datetime.date(2024, 1, 2)) == (True, "2024-01-02")
    assert jsonable_default(math.nan) == (False, None)  # not JSON
    assert jsonable_default(object()) == (False, None)

"""Python types -> JSON Schema, output_config.format, validation and parsing of structured output."""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime
import enum
import itertools
import json
import subprocess
import sys
import types
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, TypedDict, Union

try:
    from typing import NotRequired, Required
except ImportError:  # Python 3.10
    from typing_extensions import NotRequired, Required

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbclaude._exceptions import NbClaudeError
from nbclaude._schema import (
    StructuredOutputError,
    for_api,
    from_json,
    json_schema,
    output_format,
    parse_docstring,
    parse_output,
    to_jsonable,
    validate,
)

RECORDED = Path(__file__).parents[1] / "fixtures" / "recorded" / "anthropic-sdk-python"


def recorded_request(name: str, index: int = 0) -> dict[str, Any]:
    [path] = RECORDED.glob(f"{name}*.json")
    body = json.loads(path.read_text())[index]["request"]["body"]
    return body if isinstance(body, dict) else json.loads(body)


def strip_titles(schema: Any) -> Any:
    """Pydantic (which made the recorded schemas) adds a title to everything; we do not."""
    if isinstance(schema, dict):
        return {k: strip_titles(v) for k, v in schema.items() if k != "title"}
    if isinstance(schema, list):
        return [strip_titles(v) for v in schema]
    return schema


def keys_in(schema: Any) -> set[str]:
    """Every keyword used anywhere in a schema (property names excluded)."""
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            found.add(key)
            if key in ("properties", "$defs"):
                for sub in value.values():
                    found |= keys_in(sub)
            else:
                found |= keys_in(value)
    elif isinstance(schema, list):
        for item in schema:
            found |= keys_in(item)
    return found


API_KEYWORDS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "anyOf",
    "allOf",
    "$ref",
    "$defs",
    "description",
    "title",
    "format",
    "minItems",
}


# --------------------------------------------------------------------------------------------
# Types used by the tests


class Color(enum.Enum):
    """A color of the rainbow."""

    RED = "red"
    GREEN = "green"


class Size(enum.IntEnum):
    S = 1
    M = 2


@dataclasses.dataclass
class OrderItem:
    product_name: str
    price: float
    quantity: int


@dataclasses.dataclass
class OrderDetails:
    items: list[OrderItem]
    total: float


@dataclasses.dataclass
class User:
    name: str
    age: int


@dataclasses.dataclass
class Point:
    """A point in the plane.

    Attributes
    ----------
    x : float
        Horizontal position.
    y : float
        Vertical position,
        in metres.
    """

    x: float
    y: float = 0.0
    tags: list[str] = dataclasses.field(default_factory=list)
    label: str = dataclasses.field(default="p", metadata={"description": "A short name."})
    cache: int = dataclasses.field(default=0, init=False)


@dataclasses.dataclass
class GooglePoint:
    """A point.

    Attributes:
        x: Horizontal position.
        y (float): Vertical position.
    """

    x: float
    y: float


@dataclasses.dataclass
class Node:
    name: str
    children: list[Node] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Tree:
    root: Node


@dataclasses.dataclass
class Even:
    n: int

    def __post_init__(self) -> None:
        if self.n % 2:
            raise ValueError(f"{self.n} is odd")


@dataclasses.dataclass(frozen=True)
class Pair:
    a: int
    b: int


class Movie(TypedDict):
    """A film.

    Args:
        title: The title.
        year: Year of release.
    """

    title: str
    year: int
    rating: NotRequired[float]


class Partial(TypedDict, total=False):
    title: Required[str]
    note: str


class Child(Partial):
    extra: int  # total=True by default: required


class Described:
    def __init__(self, description: str) -> None:
        self.description = description


class Bounds:  # shaped like annotated_types.Interval / Len
    def __init__(self, **kw: Any) -> None:
        for key in ("ge", "gt", "le", "lt", "multiple_of", "min_length", "max_length"):
            setattr(self, key, kw.get(key))


# --------------------------------------------------------------------------------------------
# json_schema: every type form


@pytest.mark.parametrize(
    ("tp", "expected"),
    [
        (str, {"type": "string"}),
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (None, {"type": "null"}),
        (type(None), {"type": "null"}),
        (Any, {}),
        (object, {}),
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (list, {"type": "array"}),
        (collections.abc.Sequence[str], {"type": "array", "items": {"type": "string"}}),
        (set[str], {"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
        (frozenset[int], {"type": "array", "items": {"type": "integer"}, "uniqueItems": True}),
        (tuple[int, ...], {"type": "array", "items": {"type": "integer"}}),
        (
            tuple[int, str],
            {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "minItems": 2,
                "maxItems": 2,
            },
        ),
        (tuple[()], {"type": "array", "maxItems": 0}),
        (dict[str, float], {"type": "object", "additionalProperties": {"type": "number"}}),
        (
            collections.abc.Mapping[str, int],
            {"type": "object", "additionalProperties": {"type": "integer"}},
        ),
        (dict[str, Any], {"type": "object"}),
        (dict, {"type": "object"}),
        (Literal["c", "f"], {"type": "string", "enum": ["c", "f"]}),
        (Literal[1, 2], {"type": "integer", "enum": [1, 2]}),
        (Literal["only"], {"type": "string", "const": "only"}),
        (Literal["a", 1], {"enum": ["a", 1]}),
        (Literal["a", None], {"enum": ["a", None]}),
        (Literal[Color.RED], {"type": "string", "const": "red"}),
        (Optional[int], {"anyOf": [{"type": "integer"}, {"type": "null"}]}),  # noqa: UP045
        (int | None, {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        (Union[int, str], {"anyOf": [{"type": "integer"}, {"type": "string"}]}),  # noqa: UP007
        (Union[int, Any], {}),  # noqa: UP007
        (
            Color,
            {
                "title": "Color",
                "type": "string",
                "description": "A color of the rainbow.",
                "enum": ["red", "green"],
            },
        ),
        (Size, {"title": "Size", "type": "integer", "enum": [1, 2]}),
        (Annotated[str, "A city"], {"type": "string", "description": "A city"}),
        (
            Annotated[str, Described("From an object")],
            {"type": "string", "description": "From an object"},
        ),
        (Annotated[int, {"minimum": 0}], {"type": "integer", "minimum": 0}),
        (
            Annotated[int, Bounds(ge=1, lt=10)],
            {"type": "integer", "minimum": 1, "exclusiveMaximum": 10},
        ),
        (Annotated[str, Bounds(max_length=5)], {"type": "string", "maxLength": 5}),
        (
            Annotated[list[int], Bounds(min_length=1)],
            {"type": "array", "items": {"type": "integer"}, "minItems": 1},
        ),
        (datetime.datetime, {"type": "string", "format": "date-time"}),
        (datetime.date, {"type": "string", "format": "date"}),
        (datetime.time, {"type": "string", "format": "time"}),
        (uuid.UUID, {"type": "string", "format": "uuid"}),
    ],
)
def test_type_forms(tp: Any, expected: dict[str, Any]) -> None:
    assert json_schema(tp) == expected
    json.dumps(json_schema(tp))  # always plain JSON


def test_annotated_description_inside_optional_and_list() -> None:
    assert json_schema(Optional[Annotated[int, "n"]]) == {  # noqa: UP045
        "anyOf": [{"type": "integer", "description": "n"}, {"type": "null"}]
    }
    assert json_schema(Annotated[int | None, "n"]) == {
        "anyOf": [{"type": "integer"}, {"type": "null"}],
        "description": "n",
    }


def test_typing_doc_like_metadata() -> None:
    class Doc:
        documentation = "PEP 727 style"

    assert json_schema(Annotated[str, Doc()]) == {"type": "string", "description": "PEP 727 style"}


def test_pydantic_field_metadata() -> None:
    pydantic = pytest.importorskip("pydantic")
    field = pydantic.Field(description="How many", ge=1)
    assert json_schema(Annotated[int, field]) == {
        "type": "integer",
        "description": "How many",
        "minimum": 1,
    }


def test_dataclass_fields_defaults_docs() -> None:
    assert json_schema(Point) == {
        "type": "object",
        "title": "Point",
        "description": "A point in the plane.",
        "properties": {
            "x": {"type": "number", "description": "Horizontal position."},
            "y": {"type": "number", "description": "Vertical position, in metres.", "default": 0.0},
            "tags": {"type": "array", "items": {"type": "string"}},
            "label": {"type": "string", "description": "A short name.", "default": "p"},
        },
        "required": ["x"],
        "additionalProperties": False,
    }


def test_dataclass_google_attributes_and_no_docstring() -> None:
    schema = json_schema(GooglePoint)
    assert schema["description"] == "A point."
    assert schema["properties"]["x"]["description"] == "Horizontal position."
    assert schema["properties"]["y"]["description"] == "Vertical position."
    assert "description" not in json_schema(User)  # dataclasses' made-up "User(name: str, ...)"


def test_nested_dataclass_goes_to_defs_once() -> None:
    @dataclasses.dataclass
    class Route:
        start: Point
        stops: list[Point]
        end: Point | None = None

    schema = json_schema(Route)
    assert list(schema["$defs"]) == ["Point"]
    assert schema["properties"]["start"] == {"$ref": "#/$defs/Point"}
    assert schema["properties"]["stops"]["items"] == {"$ref": "#/$defs/Point"}
    assert schema["properties"]["end"] == {
        "anyOf": [{"$ref": "#/$defs/Point"}, {"type": "null"}],
        "default": None,
    }


def test_same_name_classes_get_distinct_defs() -> None:
    def make() -> type:
        @dataclasses.dataclass
        class Item:
            n: int

        return Item

    both = dataclasses.make_dataclass("Both", [("a", make()), ("b", make())])
    schema = json_schema(both)
    assert set(schema["$defs"]) == {"Item", "Item2"}
    assert schema["properties"]["b"] == {"$ref": "#/$defs/Item2"}


def test_recursive_dataclass() -> None:
    schema = json_schema(Node)
    assert schema["type"] == "object" and schema["title"] == "Node"  # inline at the top ...
    assert schema["$defs"]["Node"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert schema["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}  # ... and kept
    validate({"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}, schema)
    with pytest.raises(StructuredOutputError) as e:
        validate({"name": "a", "children": [{"name": "b", "children": [{"nom": "c"}]}]}, schema)
    assert ("$.children[0].children[0].name", "required, but missing") in e.value.errors
    tree = json_schema(Tree)
    assert tree["properties"]["root"] == {"$ref": "#/$defs/Node"}


def test_typeddict_total_required_notrequired() -> None:
    movie = json_schema(Movie)
    assert movie == {
        "type": "object",
        "title": "Movie",
        "description": "A film.",
        "properties": {
            "title": {"type": "string", "description": "The title."},
            "year": {"type": "integer", "description": "Year of release."},
            "rating": {"type": "number"},
        },
        "required": ["title", "year"],
        "additionalProperties": False,
    }
    assert json_schema(Partial)["required"] == ["title"]
    assert set(json_schema(Child)["required"]) == {"title", "extra"}


def test_pydantic_model_schema_and_parse() -> None:
    pydantic = pytest.importorskip("pydantic")
    address = pydantic.create_model("Address", city=(str, ...))
    Person = pydantic.create_model("Person", name=(str, ...), home=(address, ...))
    wrapper = dataclasses.make_dataclass("Wrapper", [("person", Person)])
    schema = json_schema(wrapper)
    assert schema["properties"]["person"] == {"$ref": "#/$defs/Person"}
    assert schema["$defs"]["Person"]["properties"]["home"] == {"$ref": "#/$defs/Address"}
    fmt = output_format(Person)["schema"]
    assert fmt["additionalProperties"] is False
    assert keys_in(fmt) <= API_KEYWORDS
    person = parse_output('{"name": "Ada", "home": {"city": "London"}}', Person)
    assert isinstance(person, Person) and person.home.city == "London"


@pytest.mark.parametrize(
    ("tp", "words"),
    [
        (bytes, ["bytes"]),
        (list[bytes], ["bytes", "list[bytes][]"]),
        (dict[int, str], ["int", "keys", "dict[str, ...]"]),
        (complex, ["complex"]),
        (Literal[b"x"], ["Literal values"]),
    ],
)
def test_unsupported_types_name_type_and_path(tp: Any, words: list[str]) -> None:
    with pytest.raises(TypeError) as e:
        json_schema(tp)
    for word in words:
        assert word in str(e.value)


def test_unsupported_field_names_class_and_field() -> None:
    @dataclasses.dataclass
    class Upload:
        name: str
        blob: bytes

    with pytest.raises(TypeError, match=r"bytes .*Upload\.blob"):
        json_schema(Upload)


def test_unresolvable_forward_reference() -> None:
    @dataclasses.dataclass
    class Local:
        other: Missing  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(TypeError, match=r"Cannot read the type hints of .*Local"):
        json_schema(Local)


# --------------------------------------------------------------------------------------------
# The recorded structured-output requests


def test_recorded_flat_object_schema() -> None:
    recorded = recorded_request("924cfccc")["output_config"]["format"]
    assert strip_titles(output_format(OrderItem)) == strip_titles(recorded)
    user = recorded_request("d7092a7d")["output_config"]["format"]
    assert strip_titles(output_format(User)) == strip_titles(user)


@pytest.mark.parametrize("name", ["bd7029d5", "d743d628"])
def test_recorded_defs_schema(name: str) -> None:
    recorded = recorded_request(name)["output_config"]["format"]
    assert strip_titles(output_format(OrderDetails)) == strip_titles(recorded)
    assert strip_titles(json_schema(OrderDetails)) == strip_titles(recorded["schema"])


def test_recorded_top_level_array_schema() -> None:
    """The real API accepted (and answered) a top-level array schema: no wrapping needed."""
    recorded = recorded_request("9381e2b7")["output_config"]["format"]
    assert output_format(list[int]) == recorded
    assert parse_output("[12345,67890]", list[int]) == [12345, 67890]


def test_recorded_replies_parse() -> None:
    for name, tp in (("924cfccc", OrderItem), ("bd7029d5", OrderDetails), ("d7092a7d", User)):
        [path] = RECORDED.glob(f"{name}*.json")
        exchange = json.loads(path.read_text())[-1]
        text = exchange["response"]["body"]["content"][0]["text"]
        value = parse_output(text, tp)
        assert isinstance(value, tp)
    assert parse_output(text, User) == User(name="John Doe", age=30)


# --------------------------------------------------------------------------------------------
# output_format


def test_output_format_dict_used_as_is() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer", "minimum": 3}}}
    out = output_format(schema)
    assert out == {"type": "json_schema", "schema": schema}
    assert out["schema"] is schema
    ready = {"type": "json_schema", "schema": schema}
    assert output_format(ready) == ready


def test_output_format_moves_constraints_into_descriptions() -> None:
    @dataclasses.dataclass
    class Grade:
        """A grade."""

        score: Annotated[int, "Points", Bounds(ge=0, le=100)]
        tags: set[str]
        where: tuple[float, float]
        comment: str = ""

    fmt = output_format(Grade)
    schema = fmt["schema"]
    assert keys_in(schema) <= API_KEYWORDS
    assert schema["properties"]["score"] == {
        "type": "integer",
        "description": "Points\n\nminimum: 0. maximum: 100.",
    }
    assert "unique" in schema["properties"]["tags"]["description"]
    assert schema["properties"]["where"]["items"] == {"type": "number"}
    assert "Exactly 2 items" in schema["properties"]["where"]["description"]
    assert schema["properties"]["comment"]["description"] == 'Default: "".'
    # ... and parse_output still checks the full schema locally
    with pytest.raises(StructuredOutputError, match="at most 100"):
        parse_output('{"score": 101, "tags": [], "where": [0, 0]}', Grade)
    with pytest.raises(StructuredOutputError, match="at most 2 items"):
        parse_output('{"score": 1, "tags": [], "where": [0, 0, 0]}', Grade)
    grade = parse_output('{"score": 1, "tags": ["a"], "where": [0, 1.5]}', Grade)
    assert grade == Grade(score=1, tags={"a"}, where=(0.0, 1.5))


def test_output_format_refuses_what_the_api_cannot_take() -> None:
    with pytest.raises(TypeError, match="recursive"):
        output_format(Node)
    with pytest.raises(TypeError, match="recursive"):
        output_format(Tree)
    with pytest.raises(TypeError, match=r"free-form keys"):
        output_format(dict[str, int])

    @dataclasses.dataclass
    class Scores:
        by_name: dict[str, int]

    with pytest.raises(TypeError, match=r"\$\.by_name"):
        output_format(Scores)

    @dataclasses.dataclass
    class Loose:
        anything: Any

    with pytest.raises(TypeError, match=r"\$\.anything can be anything"):
        output_format(Loose)


def test_for_api_drops_ref_siblings_and_renames_oneof() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"$ref": "#/$defs/X", "description": "dropped"},
            "b": {"oneOf": [{"type": "string"}, {"type": "integer", "maximum": 3}]},
        },
        "$defs": {"X": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    }
    out = for_api(schema)
    assert out["properties"]["a"] == {"$ref": "#/$defs/X"}
    assert out["properties"]["b"]["anyOf"][1] == {"type": "integer", "description": "maximum: 3."}
    assert out["$defs"]["X"]["additionalProperties"] is False


# --------------------------------------------------------------------------------------------
# validate: each keyword, each failure


S_OBJ = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
    "required": ["a"],
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    ("value", "schema", "path", "words"),
    [
        ("x", {"type": "integer"}, "$", 'expected integer, got string "x"'),
        (True, {"type": "integer"}, "$", "expected integer, got boolean true"),
        (1, {"type": "boolean"}, "$", "expected boolean"),
        (1.5, {"type": "integer"}, "$", "expected integer"),
        (None, {"type": ["string", "integer"]}, "$", "expected string or integer, got null"),
        ({}, S_OBJ, "$.a", "required, but missing"),
        ({"a": 1, "c": 2}, S_OBJ, "$", 'unexpected key "c" (allowed: a, b)'),
        ({"a": 1, "b": 2}, S_OBJ, "$.b", "expected string"),
        (
            {"x": "1"},
            {"type": "object", "additionalProperties": {"type": "integer"}},
            "$.x",
            "expected integer",
        ),
        ({"a b": 1}, {"properties": {"a b": {"type": "string"}}}, '$["a b"]', "expected string"),
        ([1, "2"], {"type": "array", "items": {"type": "integer"}}, "$[1]", "expected integer"),
        (
            [1, 2],
            {"prefixItems": [{"type": "integer"}, {"type": "string"}]},
            "$[1]",
            "expected string",
        ),
        ([1, 2], {"prefixItems": [{"type": "integer"}], "items": False}, "$", "at most 1 items"),
        ([], {"minItems": 1}, "$", "at least 1 items"),
        ([1, 2, 3], {"maxItems": 2}, "$", "at most 2 items"),
        ([1, 2, 1], {"uniqueItems": True}, "$[2]", "unique"),
        ("k", {"enum": ["c", "f"]}, "$", 'expected one of "c", "f"; got string "k"'),
        (1, {"enum": [True]}, "$", "expected one of true"),
        ("b", {"const": "a"}, "$", 'expected "a"'),
        (-1, {"minimum": 0}, "$", "at least 0"),
        (11, {"maximum": 10}, "$", "at most 10"),
        (0, {"exclusiveMinimum": 0}, "$", "more than 0"),
        (10, {"exclusiveMaximum": 10}, "$", "less than 10"),
        (0.3, {"multipleOf": 0.25}, "$", "multiple of 0.25"),
        ("ab", {"minLength": 3}, "$", "at least 3 characters"),
        ("abcd", {"maxLength": 3}, "$", "at most 3 characters"),
        ("abc", {"pattern": "^[0-9]+$"}, "$", "matching"),
        ("x", {"anyOf": [{"type": "integer"}, {"type": "null"}]}, "$", "expected integer or null"),
        ({"a": "x"}, {"anyOf": [S_OBJ, {"type": "null"}]}, "$.a", "expected integer"),
        (3, {"oneOf": [{"type": "integer"}, {"type": "number"}]}, "$", "exactly one"),
        (
            "x",
            {"oneOf": [{"type": "integer"}, {"type": "number"}]},
            "$",
            "expected integer or number",
        ),
        (5, {"allOf": [{"type": "integer"}, {"maximum": 3}]}, "$", "at most 3"),
        (5, {"not": {"type": "integer"}}, "$", "anything but integer"),
        (5, False, "$", "no value is allowed"),
        (
            {"p": {"n": "1"}},
            {
                "properties": {"p": {"$ref": "#/$defs/P"}},
                "$defs": {"P": {"properties": {"n": {"type": "integer"}}}},
            },
            "$.p.n",
            "expected integer",
        ),
    ],
)
def test_each_validation_failure(value: Any, schema: Any, path: str, words: str) -> None:
    with pytest.raises(StructuredOutputError) as e:
        validate(value, schema)
    paths = [p for p, _ in e.value.errors]
    assert path in paths, e.value.errors
    assert any(words in problem for _, problem in e.value.errors), e.value.errors
    assert words in str(e.value)


@pytest.mark.parametrize(
    ("value", "schema"),
    [
        (5.0, {"type": "integer"}),  # JSON Schema: 5.0 is an integer
        (5, {"type": "number"}),
        (1, {"enum": [1.0]}),
        ("not-an-email", {"type": "string", "format": "email"}),  # format is not checked
        ({"a": 1}, S_OBJ),
        ([1, "x"], {"prefixItems": [{"type": "integer"}, {"type": "string"}]}),
        ("anything", {"$ref": "https://example.com/remote.json"}),
        ({"x": 1}, {"unknownKeyword": 3}),
        (None, True),
        (
            {"n": {"n": None}},
            {
                "$ref": "#/$defs/N",
                "$defs": {
                    "N": {
                        "type": "object",
                        "properties": {"n": {"anyOf": [{"$ref": "#/$defs/N"}, {"type": "null"}]}},
                    }
                },
            },
        ),
    ],
)
def test_valid_values_pass(value: Any, schema: Any) -> None:
    validate(value, schema)


def test_self_reference_without_progress_terminates() -> None:
    validate(1, {"$ref": "#"})
    validate({"a": {"a": {}}}, {"properties": {"a": {"$ref": "#"}}})


def test_many_errors_are_listed_and_counted() -> None:
    schema = {"type": "array", "items": {"type": "integer"}}
    with pytest.raises(StructuredOutputError) as e:
        validate(["a"] * 8, schema)
    assert len(e.value.errors) == 8
    assert "and 3 more" in str(e.value)


def test_error_is_nbclaude_and_value_error() -> None:
    assert issubclass(StructuredOutputError, NbClaudeError)
    assert issubclass(StructuredOutputError, ValueError)


# --------------------------------------------------------------------------------------------
# parse_output and from_json


def test_parse_output_happy_paths() -> None:
    assert parse_output('{"a": 1}', S_OBJ) == {"a": 1}
    assert parse_output(' ```json\n{"a": 1}\n``` ', S_OBJ) == {"a": 1}
    assert parse_output('"green"', Color) is Color.GREEN
    assert parse_output("[1, 2.5]", tuple[int, float]) == (1, 2.5)
    assert parse_output("null", int | None) is None
    assert parse_output('"2026-11-30"', datetime.date) == datetime.date(2026, 11, 30)
    when = parse_output('"2026-11-30T12:00:00Z"', datetime.datetime)
    assert when == datetime.datetime(2026, 11, 30, 12, tzinfo=datetime.timezone.utc)
    movie = parse_output('{"title": "Up", "year": 2009}', Movie)
    assert movie == {"title": "Up", "year": 2009}
    assert parse_output('{"a": 2}', output_format(S_OBJ)) == {"a": 2}


def test_parse_output_failures() -> None:
    with pytest.raises(StructuredOutputError, match="empty") as e:
        parse_output("  ", User)
    assert e.value.text == "  "
    with pytest.raises(StructuredOutputError, match="not valid JSON") as e:
        parse_output('{"name": "Jo', User)
    assert "max_tokens" in str(e.value)
    with pytest.raises(StructuredOutputError) as e:
        parse_output('{"name": "Jo", "age": "30"}', User)
    assert e.value.errors == [("$.age", 'expected integer, got string "30"')]
    assert e.value.text == '{"name": "Jo", "age": "30"}'
    with pytest.raises(StructuredOutputError, match=r"Even\(\.\.\.\) failed: ValueError: 3 is odd"):
        parse_output('{"n": 3}', Even)


def test_from_json_conversions() -> None:
    assert from_json(3, int | float) == 3 and type(from_json(3, int | float)) is int
    assert type(from_json(3, float | int)) is int  # an exact match wins over int -> float
    assert type(from_json(3, float)) is float
    assert from_json(3.0, int) == 3 and type(from_json(3.0, int)) is int
    assert from_json("red", Literal[Color.RED]) is Color.RED
    assert from_json(2, Size) is Size.M
    assert from_json([1, 2, 2], set[int]) == {1, 2}
    assert from_json([{"a": 1, "b": 2}], frozenset[Pair]) == frozenset({Pair(1, 2)})
    assert from_json({"x": 1}, Point) == Point(x=1.0)
    assert from_json([1, "a"], list[int | str]) == [1, "a"]
    uid = uuid.uuid4()
    assert from_json(str(uid), uuid.UUID) == uid
    with pytest.raises(StructuredOutputError, match=r"\$\.n: expected integer, got boolean"):
        from_json({"n": True}, Even)
    with pytest.raises(StructuredOutputError, match=r"\$\.title: required"):
        from_json({"year": 1}, Movie)
    with pytest.raises(StructuredOutputError, match='unexpected key "z"'):
        from_json({"x": 1, "z": 2}, Point)
    with pytest.raises(StructuredOutputError, match="hashable"):
        from_json([{"x": 1}], set[Point])  # type: ignore[type-var]


def test_to_jsonable() -> None:
    value = {
        "p": Point(1.0),
        "c": Color.RED,
        "t": (1, 2),
        "s": {3, 1},
        "d": datetime.date(2026, 1, 2),
        Size.S: None,
    }
    assert to_jsonable(value) == {
        "p": {"x": 1.0, "y": 0.0, "tags": [], "label": "p", "cache": 0},
        "c": "red",
        "t": [1, 2],
        "s": [1, 3],
        "d": "2026-01-02",
        "1": None,
    }
    with pytest.raises(TypeError, match="not JSON"):
        to_jsonable(object())
    assert to_jsonable(object(), default=lambda o: "obj") == "obj"


def test_numpy_values_to_json() -> None:
    np = pytest.importorskip("numpy")
    assert to_jsonable({"a": np.arange(3), "b": np.float32(0.5)}) == {"a": [0, 1, 2], "b": 0.5}


# --------------------------------------------------------------------------------------------
# Docstrings


def test_numpy_docstring() -> None:
    doc = parse_docstring(
        """Summary line.

        More text
        on two lines.

        Parameters
        ----------
        x : int
            The x.
        y, z : float, optional
            Both y and z,
            continued.
        *args
            Extra.

        Returns
        -------
        float
            The answer.

        Examples
        --------
        >>> f(1)
        2
        """
    )
    assert doc.description == "Summary line.\n\nMore text\non two lines."
    assert doc.params == {
        "x": "The x.",
        "y": "Both y and z, continued.",
        "z": "Both y and z, continued.",
        "args": "Extra.",
    }
    assert doc.types == {"x": "int", "y": "float, optional", "z": "float, optional"}
    assert doc.returns == "float: The answer."


def test_google_docstring() -> None:
    doc = parse_docstring(
        """Fetch rows.

        Args:
            table (str): The table
                to read.
            limit: How many rows.
            **options: Extra options.

        Returns:
            A list of rows.

        Raises:
            KeyError: never described as a parameter.
        """
    )
    assert doc.description == "Fetch rows."
    assert doc.params == {
        "table": "The table to read.",
        "limit": "How many rows.",
        "options": "Extra options.",
    }
    assert doc.types == {"table": "str"}
    assert doc.returns == "A list of rows."


def test_sphinx_docstring() -> None:
    doc = parse_docstring(
        """Add.

        :param a: First.
        :param int b: Second,
            continued.
        :type a: float
        :returns: The sum.
        """
    )
    assert doc.description == "Add."
    assert doc.params == {"a": "First.", "b": "Second, continued."}
    assert doc.types == {"a": "float", "b": "int"}
    assert doc.returns == "The sum."


def test_docstring_without_sections_and_empty() -> None:
    assert parse_docstring(None).description == ""
    doc = parse_docstring("Just one line.")
    assert (doc.description, doc.params, doc.returns) == ("Just one line.", {}, "")


# --------------------------------------------------------------------------------------------
# Light import


def test_import_is_light() -> None:
    code = (
        "import sys, nbclaude._schema, nbclaude._tools; "
        "bad = [m for m in ('httpx', 'PIL', 'numpy', 'IPython', 'pydantic', 'asyncio', 'uuid') "
        "if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------------------------
# Property: random nested dataclass / TypedDict types round-trip through JSON

_names = (f"T{i}" for i in itertools.count())

LEAVES: list[Any] = [str, int, float, bool, Color, Size, Literal["a", "b"], datetime.date]
# Unions whose arms JSON tells apart (an exact match wins: 3 -> int, 3.0 -> float)
LEAVES += [str | int, float | int, bool | float, Color | int, Literal["x"] | None]


def _dataclass(fields: list[Any]) -> Any:
    return dataclasses.make_dataclass(next(_names), [(f"f{i}", t) for i, t in enumerate(fields)])


def _typeddict(args: tuple[list[Any], bool]) -> Any:
    fields, total = args
    return TypedDict(next(_names), {f"k{i}": t for i, t in enumerate(fields)}, total=total)  # type: ignore[operator]


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        children.map(lambda t: list[t]),  # type: ignore[valid-type]
        children.map(lambda t: Optional[t]),  # noqa: UP045
        children.map(lambda t: tuple[t, ...]),  # type: ignore[valid-type]
        st.tuples(children, children).map(lambda ab: tuple[ab[0], ab[1]]),  # type: ignore[valid-type]
        children.map(lambda t: dict[str, t]),  # type: ignore[valid-type]
        st.lists(children, min_size=1, max_size=4).map(_dataclass),
        st.tuples(st.lists(children, min_size=1, max_size=4), st.booleans()).map(_typeddict),
    )


TYPES = st.recursive(st.sampled_from(LEAVES), _extend, max_leaves=8)


def values(tp: Any) -> st.SearchStrategy[Any]:
    from typing import get_args, get_origin

    if tp is type(None):
        return st.none()
    if tp is str:
        return st.text(max_size=8)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(-(10**12), 10**12)
    if tp is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if tp is datetime.date:
        return st.dates()
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        return st.sampled_from(args)
    if origin is Union or origin is types.UnionType:
        return st.one_of(*(values(a) for a in args))
    if origin is list:
        return st.lists(values(args[0]), max_size=3)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(values(args[0]), max_size=3).map(tuple)
        return st.tuples(*(values(a) for a in args))
    if origin is dict:
        return st.dictionaries(st.text(max_size=4), values(args[1]), max_size=3)
    if dataclasses.is_dataclass(tp):
        return st.builds(tp, **{f.name: values(f.type) for f in dataclasses.fields(tp)})
    hints = tp.__annotations__
    if tp.__total__:
        return st.fixed_dictionaries({k: values(t) for k, t in hints.items()})
    return st.fixed_dictionaries({}, optional={k: values(t) for k, t in hints.items()})


def has_dict(tp: Any) -> bool:
    from typing import get_args, get_origin

    if get_origin(tp) is dict:
        return True
    if dataclasses.is_dataclass(tp):
        return any(has_dict(f.type) for f in dataclasses.fields(tp))
    if isinstance(tp, type) and issubclass(tp, dict):
        return any(has_dict(t) for t in tp.__annotations__.values())
    return any(has_dict(a) for a in get_args(tp))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_types_round_trip(data: st.DataObject) -> None:
    tp = data.draw(TYPES)
    value = data.draw(values(tp))
    schema = json_schema(tp)
    json.dumps(schema)
    plain = to_jsonable(value)
    validate(plain, schema)
    assert parse_output(json.dumps(plain), tp) == value
    if has_dict(tp):  # only dict[str, T] is refused
        with pytest.raises(TypeError, match="free-form keys"):
            output_format(tp)
    else:
        assert keys_in(output_format(tp)["schema"]) <= API_KEYWORDS

"""Python types -> JSON Schema, and the model's JSON back to checked Python values.

* :func:`json_schema` describes a Python type (``str``, ``list[int]``, ``Literal``, ``Enum``,
  ``Optional``, dataclasses, ``TypedDict``, ``Annotated`` descriptions, recursive types, ...)
  as a JSON Schema dict, the way tool ``input_schema`` and structured outputs want it.
* :func:`output_format` makes the request's ``output_config.format`` value (reduced to the
  subset of JSON Schema structured outputs accept: see :mod:`nbclaude._schema.structured`).
* :func:`parse_output` parses a structured reply, :func:`validate` checks it against the schema
  and :func:`from_json` turns it into dataclass instances, ``Enum`` members, tuples, ...;
  :func:`to_jsonable` goes the other way.

Only the standard library is used; pydantic models are recognised by duck typing
(``model_json_schema`` / ``model_validate``) and never imported.

One module per concept, lowest first (each imports only those above it in this list):

* ``docstrings``: numpy, Google and Sphinx docstrings -> descriptions;
* ``hints``: looking at Python types (``Annotated``, aliases, hints);
* ``check``: JSON values against a schema, :class:`StructuredOutputError`;
* ``convert``: JSON -> Python and back;
* ``values``: fixed values in a schema: ``Literal`` and ``Enum`` choices, defaults;
* ``build``: Python types -> JSON Schema;
* ``structured``: ``output_config.format``, parsing and validating replies.

Those entry points are re-exported here; no module of this folder imports this package itself.

Examples
--------
>>> from dataclasses import dataclass
>>> from nbclaude._schema import from_json, json_schema
>>> @dataclass
... class Point:
...     x: float
...     y: float
>>> json_schema(Point)["required"], from_json({"x": 1, "y": 2}, Point)
(['x', 'y'], Point(x=1.0, y=2.0))
"""

from __future__ import annotations

from .build import JSONSchema, json_schema
from .check import StructuredOutputError, describe_errors, schema_errors
from .convert import from_json, to_jsonable
from .docstrings import parse_docstring
from .structured import for_api, output_format, parse_output, validate

__all__ = [
    "JSONSchema",
    "StructuredOutputError",
    "describe_errors",
    "for_api",
    "from_json",
    "json_schema",
    "output_format",
    "parse_docstring",
    "parse_output",
    "schema_errors",
    "to_jsonable",
    "validate",
]

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

This module re-exports; the code lives in one module per concept:

* :mod:`nbclaude._schema.docstrings`: numpy, Google and Sphinx docstrings -> descriptions;
* :mod:`nbclaude._schema.hints`: looking at Python types (``Annotated``, aliases, hints);
* :mod:`nbclaude._schema.build`: Python types -> JSON Schema;
* :mod:`nbclaude._schema.check`: JSON values against a schema, StructuredOutputError;
* :mod:`nbclaude._schema.convert`: JSON -> Python and back;
* :mod:`nbclaude._schema.structured`: ``output_config.format``, parsing and validating replies.
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

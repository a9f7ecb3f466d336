"""{name} interpolation: one pass, names only, never evaluated, secrets refused."""

from __future__ import annotations

from typing import Any

import pytest

import nbclaude
from nbclaude._ipython.interpolate import interpolate


def run(template: str, **ns: Any) -> tuple[list[Any], list[str]]:
    return interpolate(template, ns)


def test_names_become_text() -> None:
    assert run("Hi {who}, you are {age}.", who="Ada", age=36)[0] == ["Hi Ada, you are 36."]


def test_code_with_braces_is_left_alone() -> None:
    code = "d = {k: v for k, v in x.items()}\nprint(f'{d!r:>10}')\ns = {1, 2}\n{}\n{ spaced }"
    parts, warnings = run(code)
    assert parts == [code] and warnings == []


@pytest.mark.parametrize(
    "expr",
    [
        "{os.environ}",
        "{x.__class__}",
        "{x[0]}",
        "{x:>10}",
        "{x!r}",
        "{__import__('os').system('id')}",
        "{ x }",
        "{0}",
    ],
)
def test_expressions_are_never_evaluated(expr: str) -> None:
    import os

    parts, warnings = run(f"see {expr} here", os=os, x=[1])
    assert parts == [f"see {expr} here"] and warnings == []


def test_double_braces_are_literal() -> None:
    assert run("{{name}} and {{ and }}", name="X")[0] == ["{name} and { and }"]


def test_unknown_names_stay_literal_with_a_warning() -> None:
    parts, warnings = run("Hello {nobody}")
    assert parts == ["Hello {nobody}"]
    assert len(warnings) == 1 and "{nobody}" in warnings[0] and "{{nobody}}" in warnings[0]


def test_values_are_never_expanded_again() -> None:
    parts, _ = run("{a}", a="{b}", b="SECRET")
    assert parts == ["{b}"]


def test_in_and_out_history() -> None:
    ns = {"In": ["", "x = 1", "x + 1", "%%claude ..."], "Out": {2: 2}}
    parts, warnings = interpolate("code {In[1]} gave {Out[2]}; last {Out[-1]}; {In[9]}", ns)
    assert parts == ["code x = 1 gave 2; last 2; {In[9]}"]
    assert warnings == ["{In[9]} does not exist, so it was sent as written."]


def test_images_are_inserted_in_place() -> None:
    from PIL import Image

    img = Image.new("RGB", (10, 10), "red")
    block = nbclaude.image(Image.new("RGB", (4, 4)))
    parts, _ = run("Compare {a} with {b} please", a=img, b=block)
    assert parts[0] == "Compare " and parts[2] == " with " and parts[4] == " please"
    assert parts[1]["type"] == "image" and parts[3] is block


def test_numpy_and_figure_values_are_images() -> None:
    import numpy as np
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([1, 2, 3])
    parts, _ = run("{arr}{fig}", arr=np.zeros((5, 5, 3), dtype=np.uint8), fig=fig)
    assert [p["type"] for p in parts] == ["image", "image"]


def test_a_value_holding_the_key_is_refused() -> None:
    key = "sk-ant-test-secret-value-123456"
    with pytest.raises(nbclaude.InvalidRequestError, match="API key"):
        interpolate("my key is {k}", {"k": f"key={key}"}, secrets=[key])

"""Functions as tools (specs from signatures and docstrings) and running tool calls."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import enum
import functools
import json
import pickle
import threading
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from conftest import run_async

from nbclaude._schema import StructuredOutputError
from nbclaude._tools import (
    MAX_RESULT_CHARS,
    Tool,
    ToolBox,
    run_tool_call,
    run_tool_calls,
    tool_result_content,
    tool_spec,
)

RECORDED = Path(__file__).parents[1] / "fixtures" / "recorded"
KEY = "sk-ant-test-N0tAR3alK3y-but-secret-0123456789"


def exchanges(name: str) -> list[dict[str, Any]]:
    [path] = RECORDED.glob(f"anthropic-sdk-python/{name}*.json")
    return json.loads(path.read_text())


def strip_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: strip_titles(v) for k, v in schema.items() if k != "title"}
    if isinstance(schema, list):
        return [strip_titles(v) for v in schema]
    return schema


def use(name: str, input: Any, id: str = "toolu_1") -> dict[str, Any]:
    return {"type": "tool_use", "id": id, "name": name, "input": input}


# --------------------------------------------------------------------------------------------
# Functions used as tools


def get_weather(location: str, units: Literal["c", "f"]) -> str:
    return json.dumps({"location": location, "temperature": "20°C", "condition": "Sunny"})


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Point:
    x: float
    y: float


def numpy_style(a: int, b: float = 2.0, *, scale: Annotated[float, "How much"] = 1.0) -> float:
    """Multiply two numbers.

    The result is scaled.

    Parameters
    ----------
    a : int
        First factor.
    b : float, optional
        Second factor,
        a float.
    scale : float
        Ignored: the Annotated text wins.

    Returns
    -------
    float
        The product.
    """
    return a * b * scale


def google_style(city: str, days: int = 3) -> list[str]:
    """Forecast for a city.

    Args:
        city (str): Name of the city.
        days: How many days ahead.

    Returns:
        One line per day.
    """
    return [f"{city}: sunny"] * days


def untyped(a, b=2, c=None, d="x"):  # type: ignore[no-untyped-def]
    """Untyped.

    Parameters
    ----------
    a : int
        An int, from the docstring.
    """
    return a


def shapes(p: Point, path: list[Point], color: Color, pair: tuple[int, str]) -> str:
    assert isinstance(p, Point) and all(isinstance(q, Point) for q in path)
    assert isinstance(color, Color) and isinstance(pair, tuple)
    return f"{p.x},{p.y} {len(path)} {color.value} {pair}"


def fails(n: int) -> int:
    secret = "local-value-do-not-leak"  # noqa: F841
    raise ValueError(f"n must be positive, got {n}")


# --------------------------------------------------------------------------------------------
# tool_spec


def test_recorded_get_weather_definition() -> None:
    """The recorded real request (a8ac789b) defines get_weather the same way."""
    recorded = exchanges("a8ac789b")[0]["request"]["body"]["tools"][0]
    assert strip_titles(tool_spec(get_weather)) == strip_titles(recorded)
    assert recorded["description"] == "" == tool_spec(get_weather)["description"]


def test_numpy_docstring_spec() -> None:
    spec = tool_spec(numpy_style)
    assert spec["name"] == "numpy_style"
    assert spec["description"] == (
        "Multiply two numbers.\n\nThe result is scaled.\n\nReturns: float: The product."
    )
    assert spec["input_schema"] == {
        "type": "object",
        "properties": {
            "a": {"type": "integer", "description": "First factor."},
            "b": {"type": "number", "description": "Second factor, a float.", "default": 2.0},
            "scale": {"type": "number", "description": "How much", "default": 1.0},
        },
        "required": ["a"],
        "additionalProperties": False,
    }


def test_google_docstring_spec() -> None:
    spec = tool_spec(google_style)
    assert spec["description"] == "Forecast for a city.\n\nReturns: One line per day."
    props = spec["input_schema"]["properties"]
    assert props["city"] == {"type": "string", "description": "Name of the city."}
    assert props["days"] == {"type": "integer", "description": "How many days ahead.", "default": 3}
    assert spec["input_schema"]["required"] == ["city"]


def test_unannotated_parameters() -> None:
    """Any JSON value, unless the default or the docstring says more; never forced to str."""
    props = tool_spec(untyped)["input_schema"]["properties"]
    assert props["a"] == {"type": "integer", "description": "An int, from the docstring."}
    assert props["b"] == {"type": "integer", "default": 2}
    assert props["c"] == {"default": None}
    assert props["d"] == {"type": "string", "default": "x"}
    assert Tool(untyped).call({"a": 5}) == 5
    assert Tool(lambda x: x * 2, name="double").call({"x": 21}) == 42


def test_complex_parameter_types_are_converted() -> None:
    spec = tool_spec(shapes)
    assert spec["input_schema"]["$defs"]["Point"]["additionalProperties"] is False
    assert spec["input_schema"]["properties"]["path"]["items"] == {"$ref": "#/$defs/Point"}
    out = Tool(shapes).call(
        {"p": {"x": 1, "y": 2}, "path": [{"x": 0, "y": 0}], "color": "blue", "pair": [1, "a"]}
    )
    assert out == "1.0,2.0 1 blue (1, 'a')"


def test_defaults_that_are_not_json_are_left_out() -> None:
    marker = object()

    def f(a: int, b: Any = marker, c: Color = Color.RED, d: tuple[int, int] = (1, 2)) -> Any:
        return b

    props = tool_spec(f)["input_schema"]["properties"]
    assert "default" not in props["b"]
    assert props["c"]["default"] == "red"
    assert props["d"]["default"] == [1, 2]
    assert tool_spec(f)["input_schema"]["required"] == ["a"]
    assert Tool(f).call({"a": 1}) is marker


def test_callables_of_every_kind() -> None:
    class Greeter:
        """Greets people."""

        def __init__(self, greeting: str) -> None:
            self.greeting = greeting

        def greet(self, name: str) -> str:
            """Greet someone.

            Args:
                name: Who.
            """
            return f"{self.greeting}, {name}"

        def __call__(self, name: str) -> str:
            return f"{self.greeting}!! {name}"

        @staticmethod
        def shout(text: str) -> str:
            return text.upper()

    g = Greeter("Hello")
    bound = tool_spec(g.greet)
    assert bound["name"] == "greet" and list(bound["input_schema"]["properties"]) == ["name"]
    assert bound["input_schema"]["properties"]["name"]["description"] == "Who."
    assert Tool(g.greet).call({"name": "Ada"}) == "Hello, Ada"

    obj = tool_spec(g)
    assert obj["name"] == "Greeter" and obj["description"] == "Greets people."
    assert Tool(g).call({"name": "Ada"}) == "Hello!! Ada"

    assert Tool(Greeter.shout).call({"text": "hi"}) == "HI"

    part = functools.partial(numpy_style, 3, scale=10.0)
    spec = tool_spec(part)
    assert spec["name"] == "numpy_style"
    assert spec["description"].startswith("Multiply two numbers.")
    assert list(spec["input_schema"]["properties"]) == ["b", "scale"]
    assert spec["input_schema"]["properties"]["scale"]["default"] == 10.0
    assert Tool(part).call({"b": 2}) == 60.0

    @functools.wraps(google_style)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return google_style(*args, **kwargs)

    assert tool_spec(wrapped)["input_schema"] == tool_spec(google_style)["input_schema"]
    assert Tool(wrapped).call({"city": "Oslo", "days": 1}) == ["Oslo: sunny"]


def test_names() -> None:
    with pytest.raises(ValueError, match=r"'<lambda>' is not\. Pass name="):
        tool_spec(lambda: 1)
    assert tool_spec(lambda: 1, name="one")["name"] == "one"
    with pytest.raises(ValueError, match="is not"):
        tool_spec(get_weather, name="get weather")
    with pytest.raises(ValueError, match="is not"):
        tool_spec(get_weather, name="x" * 65)
    assert tool_spec(get_weather, name="x" * 64)["name"] == "x" * 64


def test_spec_dicts_pass_through() -> None:
    recorded = exchanges("a8ac789b")[0]["request"]["body"]["tools"][0]
    assert tool_spec(recorded) == recorded
    server = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}
    assert tool_spec(server) == server
    with pytest.raises(ValueError, match="needs a 'name'"):
        tool_spec({"input_schema": {"type": "object"}})
    with pytest.raises(ValueError, match="is not"):
        tool_spec({"name": "bad name", "input_schema": {"type": "object"}})
    with pytest.raises(TypeError, match="not int"):
        tool_spec(3)  # type: ignore[arg-type]


def test_strict_tool() -> None:
    def grade(score: Annotated[int, "0 to 100", {"minimum": 0, "maximum": 100}]) -> str:
        return "ok"

    spec = tool_spec(grade, strict=True)
    assert spec["strict"] is True
    assert spec["input_schema"]["properties"]["score"] == {
        "type": "integer",
        "description": "0 to 100\n\nminimum: 0. maximum: 100.",
    }
    tool = Tool(grade, strict=True)
    with pytest.raises(StructuredOutputError, match="at most 100"):
        tool.call({"score": 101})  # the full schema is still checked locally

    @dataclasses.dataclass
    class Node:
        children: list[Node]

    def walk(node: Node) -> None: ...

    walk.__annotations__["node"] = Node
    with pytest.raises(TypeError, match="recursive"):
        tool_spec(walk, strict=True)
    tool_spec(walk)  # fine without strict
    with pytest.raises(TypeError, match="can be anything"):
        tool_spec(untyped, strict=True)


def test_hand_written_input_schema() -> None:
    schema = {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    }
    tool = Tool(get_weather, input_schema=schema, description="Weather.")
    assert tool.spec["input_schema"] == schema and tool.spec["description"] == "Weather."
    with pytest.raises(StructuredOutputError, match=r"\$\.location: required"):
        tool.call({})


def test_compare_with_official_sdk_helper() -> None:
    """The SDK's pydantic-made schemas for simple functions equal ours (titles aside).

    Known differences, by design: the SDK puts Enum classes in $defs (we inline them), leaves
    nested classes open (we close them with additionalProperties: false, as structured outputs
    require), ignores Annotated[T, "text"] (we make it the description) and refuses
    typing.TypedDict on Python < 3.12 (we accept it).
    """
    beta_tool = pytest.importorskip("anthropic").beta_tool

    def f1(a: int, b: str = "x", c: float = 1.0, d: bool = False) -> str:
        """Four scalars.

        Args:
            a: The a.
        """
        return ""

    def f2(xs: list[int], m: dict[str, float], o: str | None = None) -> str:
        return ""

    def f3(u: Literal["a", "b"], n: Literal[1, 2], t: tuple[int, str], s: set[int]) -> str:
        return ""

    def f4(x: int | str, a: Any, d: str = "") -> str:
        return ""

    for fn in (get_weather, f1, f2, f3, f4):
        sdk = beta_tool(fn).to_dict()
        ours = tool_spec(fn)
        assert strip_titles(ours["input_schema"]) == strip_titles(sdk["input_schema"]), fn
        assert ours["name"] == sdk["name"]
    assert tool_spec(f1)["description"] == beta_tool(f1).to_dict()["description"]


# --------------------------------------------------------------------------------------------
# Running tool calls


def test_recorded_round_trip_content() -> None:
    """The reply of a8ac789b, run through our tools, gives the tool_result that was sent."""
    first, second = exchanges("a8ac789b")
    results = run_tool_calls(first["response"]["body"], [get_weather])
    sent = second["request"]["body"]["messages"][2]["content"]
    assert [dict(r) for r in results] == [
        {**sent[0], "content": json.loads(json.dumps(sent[0]["content"]))}
    ]
    assert results[0]["tool_use_id"] == "toolu_013DU6hV4C1M8dJ32ybQFAFi"


def test_parallel_calls_from_recorded_runner() -> None:
    """ToolRunner.json: two parallel calls answered in order with string contents."""
    recorded = json.loads((RECORDED / "anthropic-sdk-typescript" / "ToolRunner.json").read_text())
    reply = recorded[2]["response"]
    sent = recorded[3]["body"]["messages"][2]["content"]

    def test_tool(count: float) -> str:
        return f"Called with {count:g}"

    results = run_tool_calls(reply["content"], {"test_tool": test_tool})
    assert [dict(r) for r in results] == sent


def test_every_outcome_in_one_reply() -> None:
    calls: list[Any] = []

    def approve(name: str, input: dict[str, Any]) -> bool:
        calls.append((name, input))
        return name != "google_style"

    reply = {
        "content": [
            {"type": "text", "text": "Let me check."},
            {"type": "thinking", "thinking": "...", "signature": "x"},
            use("get_weather", {"location": "SF", "units": "c"}, "t1"),
            use("get_weather", {"location": "SF", "units": "k"}, "t2"),
            use("nope", {}, "t3"),
            use("fails", {"n": -1}, "t4"),
            use("google_style", {"city": "Oslo"}, "t5"),
            {"type": "server_tool_use", "id": "srv", "name": "web_search", "input": {}},
            use("get_weather", "not an object", "t6"),
        ]
    }
    box = ToolBox([get_weather, fails, google_style])
    results = box.run(reply, approve=approve)
    assert [r["tool_use_id"] for r in results] == ["t1", "t2", "t3", "t4", "t5", "t6"]
    assert [r.is_error for r in results] == [False, True, True, True, True, True]
    ok, bad, unknown, failed, declined, garbage = results
    assert json.loads(ok["content"])["temperature"] == "20°C"
    assert ok.value == ok["content"] and ok.name == "get_weather" and ok.seconds >= 0
    assert bad["content"] == (
        'Invalid input for get_weather: at $.units: expected one of "c", "f"; got string "k". '
        "Call get_weather again with corrected input."
    )
    assert unknown["content"] == (
        "The tool 'nope' is not available. Available tools: get_weather, fails, google_style."
    )
    assert failed["content"] == "ValueError: n must be positive, got -1"
    assert isinstance(failed.exception, ValueError)
    assert failed.exception.__traceback__ is not None  # kept for the user, not sent
    assert "Traceback" not in failed["content"] and "local-value" not in failed["content"]
    assert declined["content"] == "The user declined to run this tool." and declined.declined
    assert garbage["content"] == (
        'Invalid input for get_weather: at $: expected object, got string "not an object". '
        "Call get_weather again with corrected input."
    )
    # approve is asked only for valid calls of known tools, after checking, with the input
    assert calls == [
        ("get_weather", {"location": "SF", "units": "c"}),
        ("fails", {"n": -1}),
        ("google_style", {"city": "Oslo"}),
    ]


def test_declined_tool_does_not_run() -> None:
    ran = []

    def side_effect(x: int) -> int:
        ran.append(x)
        return x

    [result] = run_tool_calls(
        [use("side_effect", {"x": 1})], [side_effect], approve=lambda n, i: False
    )
    assert result.is_error and result.declined and ran == []


def test_exceptions_never_escape_but_interrupts_do() -> None:
    class Weird(Exception):  # noqa: N818
        def __str__(self) -> str:
            return ""

    def weird() -> None:
        raise Weird

    def interrupted() -> None:
        raise KeyboardInterrupt

    assert run_tool_call(use("weird", {}), [weird])["content"] == "Weird"
    with pytest.raises(KeyboardInterrupt):
        run_tool_call(use("interrupted", {}), [interrupted])

    def approve(name: str, input: dict[str, Any]) -> bool:
        raise RuntimeError("approval UI broke")

    with pytest.raises(RuntimeError, match="approval UI broke"):
        run_tool_call(use("weird", {}), [weird], approve=approve)

    def long_message() -> None:
        raise ValueError("x" * 10_000)

    content = run_tool_call(use("long_message", {}), [long_message])["content"]
    assert len(content) < 2100 and content.endswith("[...]")


def test_spec_only_tool_cannot_run() -> None:
    spec = {"name": "remote", "input_schema": {"type": "object"}}
    result = run_tool_call(use("remote", {}), [spec, get_weather])
    assert result.is_error
    assert (
        result["content"] == "The tool 'remote' cannot be run here. Available tools: get_weather."
    )


def test_async_tools() -> None:
    async def slow_add(a: int, b: int) -> int:
        await asyncio.sleep(0)
        return a + b

    assert run_tool_call(use("slow_add", {"a": 1, "b": 2}), [slow_add])["content"] == "3"

    async def inside_a_running_loop() -> str:  # as in a Jupyter kernel
        return run_tool_call(use("slow_add", {"a": 2, "b": 2}), [slow_add])["content"]

    assert run_async(inside_a_running_loop()) == "4"


def test_tools_run_off_the_main_thread() -> None:
    """The widget runs requests on a worker thread; tools must work there too."""
    out: list[Any] = []
    thread = threading.Thread(
        target=lambda: out.extend(
            run_tool_calls([use("google_style", {"city": "Rome", "days": 1})], [google_style])
        )
    )
    thread.start()
    thread.join()
    assert out[0]["content"] == '["Rome: sunny"]'


# --------------------------------------------------------------------------------------------
# Results -> content


class Markdown:
    def _repr_markdown_(self) -> str:
        return "**bold**"


class Plain:
    def __str__(self) -> str:
        return "plain text"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("as is", "as is"),
        ("", "(an empty string)"),
        (None, "(no result: the function returned None)"),
        (42, "42"),
        (2.5, "2.5"),
        (True, "true"),
        ({"a": [1, 2], "b": None}, '{"a": [1, 2], "b": null}'),
        ((1, "x"), '[1, "x"]'),
        ({3, 1, 2}, "[1, 2, 3]"),
        (Point(1.0, 2.0), '{"x": 1.0, "y": 2.0}'),
        (Color.RED, '"red"'),
        ({"when": Plain()}, '{"when": "plain text"}'),
        (b"caf\xc3\xa9", "café"),
        (b"\xff\xfe\x00", "<3 bytes of binary data>"),
        (Markdown(), "**bold**"),
        (Plain(), "plain text"),
        ([{"type": "text", "text": "a block"}], [{"type": "text", "text": "a block"}]),
    ],
)
def test_result_content(value: Any, expected: Any) -> None:
    assert tool_result_content(value) == expected


def test_huge_results_are_truncated() -> None:
    content = tool_result_content("x" * 250_000)
    assert isinstance(content, str)
    assert content.startswith("x" * MAX_RESULT_CHARS)
    assert content.endswith(
        "[... truncated: the result has 250,000 characters; only the first 100,000 are shown]"
    )
    assert len(content) < MAX_RESULT_CHARS + 200
    big = tool_result_content(list(range(100_000)), max_chars=1000)
    assert isinstance(big, str) and len(big) < 1200 and "truncated" in big
    result = run_tool_call(use("big", {}), {"big": lambda: "y" * 300_000}, max_chars=5000)
    assert len(result["content"]) < 5200 and not result.is_error


def test_big_numpy_arrays_are_summarized() -> None:
    np = pytest.importorskip("numpy")
    assert tool_result_content(np.arange(5)) == "[0, 1, 2, 3, 4]"
    text = tool_result_content(np.linspace(0, 1, 1_000_000).reshape(1000, 1000))
    assert isinstance(text, str) and text.startswith("array of shape (1000, 1000), dtype float64")
    assert "..." in text and len(text) < 2000


def test_image_results() -> None:
    Image = pytest.importorskip("PIL.Image")
    np = pytest.importorskip("numpy")
    picture = Image.new("RGB", (40, 30), "red")
    [block] = tool_result_content(picture)
    assert block["type"] == "image" and block["source"]["media_type"] == "image/png"
    [block] = tool_result_content(np.zeros((20, 10, 3), dtype=np.uint8))
    assert block["type"] == "image"
    mixed = tool_result_content(("A red square", picture, {"side": 40}))
    assert isinstance(mixed, list)
    assert [b["type"] for b in mixed] == ["text", "image", "text"]
    assert mixed[0]["text"] == "A red square" and mixed[2]["text"] == '{"side": 40}'
    many = tool_result_content([picture] * 25)
    assert isinstance(many, list)
    assert [b["type"] for b in many].count("image") == 20
    assert many[-1] == {"type": "text", "text": "[5 more images were not sent]"}

    def draw(color: str) -> Any:
        return Image.new("RGB", (8, 8), color)

    result = run_tool_call(use("draw", {"color": "blue"}), [draw])
    assert not result.is_error and result["content"][0]["type"] == "image"
    bad = run_tool_call(use("draw", {"color": "no-such-color"}), [draw])
    assert bad.is_error and bad["content"].startswith("ValueError")


def test_matplotlib_figure_result() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    try:
        [block] = tool_result_content(fig)
    finally:
        plt.close(fig)
    assert block["type"] == "image" and block["source"]["media_type"] == "image/png"


def test_result_that_cannot_be_converted_is_an_error() -> None:
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no text for you")

    result = run_tool_call(use("broken", {}), {"broken": Broken})
    assert result.is_error
    assert result["content"] == (
        "The tool ran, but its result could not be sent: RuntimeError: no text for you"
    )
    assert isinstance(result.value, Broken)


# --------------------------------------------------------------------------------------------
# ToolResult, ToolBox, Tool


def test_tool_result_is_a_plain_dict_on_the_wire() -> None:
    result = run_tool_call(use("fails", {"n": 1}), [fails])
    assert json.loads(json.dumps(result)) == dict(result)
    for twin in (copy.deepcopy(result), pickle.loads(pickle.dumps(result))):
        assert type(twin) is dict and twin == dict(result)
    assert result.input == {"n": 1} and result.name == "fails"


def test_toolbox() -> None:
    box = ToolBox([get_weather, google_style])
    assert len(box) == 2 and box.names == ["get_weather", "google_style"]
    assert "get_weather" in box and get_weather in box and fails not in box
    assert [t.name for t in box] == box.names
    assert box.specs() == [tool_spec(get_weather), tool_spec(google_style)]
    with pytest.raises(ValueError, match="Two tools are named 'get_weather'"):
        ToolBox([get_weather, Tool(google_style, name="get_weather")])

    def get_weather_v2(location: str) -> str:
        return "v2"

    box.add(get_weather_v2, name="get_weather")  # a re-run cell replaces the tool
    assert box.names == ["get_weather", "google_style"]
    assert box.run([use("get_weather", {"location": "x"})])[0]["content"] == "v2"
    box.remove(google_style)
    box.remove("get_weather")
    assert len(box) == 0
    with pytest.raises(KeyError, match="the tools are: none"):
        box["get_weather"]
    with pytest.raises(KeyError):
        box.remove("get_weather")
    assert repr(ToolBox([fails])) == "ToolBox(['fails'])"


def test_tool_object() -> None:
    tool = Tool(numpy_style)
    assert tool(2, 3.0) == 6.0  # still callable as the function
    assert repr(tool) == "<Tool numpy_style(a, b, scale)>"
    renamed = Tool(tool, name="multiply", description="Multiply.")
    assert renamed.spec["name"] == "multiply" and renamed.spec["description"] == "Multiply."
    assert tool.spec["name"] == "numpy_style"  # the original is untouched
    with pytest.raises(StructuredOutputError) as e:
        tool.call({"a": "two", "c": 1})
    assert ("$.a", 'expected integer, got string "two"') in e.value.errors
    assert any("unexpected key" in problem for _, problem in e.value.errors)


# --------------------------------------------------------------------------------------------
# A whole tool round trip through the offline fake (it validates like the real API)


def test_round_trip_through_the_fake_api() -> None:
    pytest.importorskip("httpx")
    from PIL import Image

    from nbclaude._client.client import Client
    from nbclaude.testing import FakeAnthropic, Reply, Text, ToolUse

    def chart(title: str) -> Any:
        """Draw a chart."""
        return [f"Chart: {title}", Image.new("RGB", (16, 16), "green")]

    box = ToolBox([get_weather, chart, fails])
    fake = FakeAnthropic(
        [
            Reply(
                [
                    Text("Checking."),
                    ToolUse("get_weather", {"location": "SF", "units": "c"}),
                    ToolUse("chart", {"title": "Rain"}),
                    ToolUse("fails", {"n": 0}),
                    ToolUse("get_weather", {"location": "SF"}),
                ]
            ),
            Text("Done."),
        ]
    )
    client = Client(api_key=KEY, transport=fake)
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Weather and a chart?"}]
    body = {"model": "claude-haiku-4-5", "max_tokens": 500, "tools": box.specs()}
    reply = client.create(**body, messages=messages)
    assert reply["stop_reason"] == "tool_use"
    results = box.run(reply)
    assert [r.is_error for r in results] == [False, False, True, True]
    messages += [
        {"role": "assistant", "content": reply["content"]},
        {"role": "user", "content": results},
    ]
    final = client.create(**body, messages=messages)  # the fake accepts the pairing
    assert final["content"][0]["text"] == "Done."
    sent = fake.requests[-1].json["messages"][2]["content"]
    assert [b["tool_use_id"] for b in sent] == [b["id"] for b in reply["content"][1:]]
    assert sent[1]["content"][1]["type"] == "image"
    assert KEY not in json.dumps(sent)


class Code(str):
    def __new__(cls, value: str) -> Code:
        if not value.isupper():
            raise ValueError(f"codes are upper case, not {value!r}")
        return super().__new__(cls, value)


def test_unexpected_conversion_failure_is_an_error_result() -> None:
    def lookup(code: Code) -> str:
        return f"found {code}"

    assert run_tool_call(use("lookup", {"code": "AB"}), [lookup])["content"] == "found AB"
    result = run_tool_call(use("lookup", {"code": "ab"}), [lookup])
    assert result.is_error
    assert result["content"] == (
        "Could not prepare the call: ValueError: codes are upper case, not 'ab'"
    )


def test_hand_written_schema_for_a_builtin_and_a_class_as_tool() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}
    biggest = Tool(lambda **kw: max(kw.values()), name="biggest", input_schema=schema)
    assert biggest.call({"a": 1, "b": 7}) == 7
    tool = Tool(max, name="max", input_schema=schema)  # no signature: the input passes as is
    with pytest.raises(TypeError):
        tool.call({"a": 1, "b": 7})  # max(a=1, b=7) is not valid; the error is max's own
    made = Tool(Point, name="make_point").call({"x": 1, "y": 2})
    assert made == Point(1.0, 2.0)


def test_ready_made_blocks_are_kept() -> None:
    pytest.importorskip("PIL")
    from nbclaude._content import document
    from nbclaude._content.images import ImageBlock, image

    np = pytest.importorskip("numpy")
    picture = image(np.zeros((8, 8, 3), dtype=np.uint8))
    doc = document(text="The grass is green.", title="Facts")
    content = tool_result_content([picture, doc])
    assert isinstance(content, list)
    assert content[0] is picture and isinstance(content[0], ImageBlock)  # thumbnails still work
    assert content[1] is doc and content[1]["type"] == "document"

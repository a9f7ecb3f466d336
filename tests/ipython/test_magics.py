"""%%claude and %claude in a real IPython InteractiveShell, against the fake API."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nbclaude
import nbclaude._session.shared as session_module
from nbclaude import Client
from nbclaude.testing import FakeAnthropic, HTTPError, Text, Thinking


def cell(ip: InteractiveShell, source: str) -> tuple[Any, Any]:
    with capture_output() as cap:
        result = ip.run_cell(source, store_history=True)
    return result, cap


def markdown_of(cap: Any, *, raw: bool = False) -> str:
    """The one Markdown output; unless ``raw``, with backslash escapes and character references
    removed (as it reads rendered)."""
    outs = [o.data.get("text/markdown") for o in cap.outputs if "text/markdown" in o.data]
    assert len(outs) == 1, cap.outputs
    if raw:
        return str(outs[0])
    return html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", outs[0]))


def lines_of(text: str) -> list[str]:
    """Printed lines, without the terminal's clear-line escape codes."""
    text = re.sub(r"\x1b\[2K|\r", "", text)
    return [line for line in text.splitlines() if line.strip()]


def last_body(fake: FakeAnthropic) -> dict[str, Any]:
    body = fake.requests[-1].json
    assert body is not None
    return body


# -- the cell magic --------------------------------------------------------------------------


def test_a_turn_streams_and_leaves_one_clean_output(
    ip: InteractiveShell, fake: FakeAnthropic
) -> None:
    fake.add(Text("# Title\n\nSome **bold** text.\n\n```python\nprint(1)\n```\n", chunk_size=3))
    result, cap = cell(ip, "%%claude\nHello, Claude")
    assert result.success
    md = markdown_of(cap)
    assert "# Title" in md and "**bold**" in md and "print(1)" in md
    assert "claude-haiku-4-5" in md and "end_turn" in md  # the footer
    assert last_body(fake)["messages"] == [{"role": "user", "content": "Hello, Claude"}]
    assert nbclaude.get_session().messages[-1]["role"] == "assistant"


def test_options_reach_the_request(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(Text("ok"))
    result, _ = cell(
        ip,
        '%%claude -m claude-haiku-4-5-20251001 -s "Be terse." --max-tokens 77 -t 0.3\nQ',
    )
    assert result.success
    body = last_body(fake)
    assert (body["model"], body["system"], body["max_tokens"], body["temperature"]) == (
        "claude-haiku-4-5-20251001",
        "Be terse.",
        77,
        0.3,
    )
    assert "top_p" not in body and "thinking" not in body


def test_quoting_and_no_ipython_expansion_of_the_line(
    ip: InteractiveShell, fake: FakeAnthropic
) -> None:
    fake.add(Text("ok"))
    ip.user_ns["secret_name"] = "should-not-appear"
    result, _ = cell(ip, "%%claude -s 'Use {secret_name} and $HOME literally'\nQ")
    assert result.success
    assert last_body(fake)["system"] == "Use {secret_name} and $HOME literally"


def test_prefill_and_output_variable(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(Text("C"))
    result, cap = cell(
        ip,
        '%%claude --prefill "The answer is (" --max-tokens 1 -o answer\n'
        "What is latin for Ant? (A) Apoidea, (B) Rhopalocera, (C) Formicidae",
    )
    assert result.success
    reply = ip.user_ns["answer"]
    assert isinstance(reply, nbclaude.Reply) and reply.text == "C"
    assert last_body(fake)["messages"][-1] == {"role": "assistant", "content": "The answer is ("}
    assert "The answer is (C" in markdown_of(cap)
    assert result.result is None  # the reply is not echoed as Out[n]


def test_prefill_refused_is_one_clean_line(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    result, cap = cell(ip, '%%claude -m claude-sonnet-5-5 --prefill "Answer: ("\nQ')
    assert not result.success
    assert "does not accept prefill" in cap.stdout and "Traceback" not in cap.stdout
    assert len(lines_of(cap.stdout)) == 1
    assert fake.requests == []


def test_new_and_once(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(Text("a"), Text("b"), Text("c"))
    cell(ip, "%%claude\nfirst")
    cell(ip, "%%claude --once\nsecond, not kept")
    assert len(nbclaude.get_session().messages) == 2
    assert len(last_body(fake)["messages"]) == 3
    cell(ip, "%%claude --new\nthird")
    assert last_body(fake)["messages"] == [{"role": "user", "content": "third"}]


def test_no_stream_renders_once(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(Text("whole reply", chunk_size=2))
    result, cap = cell(ip, "%%claude --no-stream\nQ")
    assert result.success and "whole reply" in markdown_of(cap)


def test_thinking_budget(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(Thinking("Let me think.", "Done."))
    result, cap = cell(ip, "%%claude --thinking 2048\nQ")
    assert result.success
    body = last_body(fake)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["max_tokens"] > 2048
    md = markdown_of(cap)
    assert "<details><summary>Thinking</summary>" in md and "Let me think." in md


def test_format_text(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(Text("<b>plain</b> text"))
    _result, cap = cell(ip, "%%claude -f text\nQ")
    outs = [o.data for o in cap.outputs]
    assert len(outs) == 1 and "text/markdown" not in outs[0]
    assert "<b>plain</b> text" in outs[0]["text/plain"]


def test_format_code_fills_the_next_cell(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(Text("Here you go:\n\n```python\ndef f():\n    return {1: 2}\n```\n\nEnjoy."))
    ip.rl_next_input = None
    result, cap = cell(ip, "%%claude -f code\nWrite f")
    assert result.success
    # a plain shell keeps it for the next prompt; a kernel sends a set_next_input payload
    assert ip.rl_next_input == "def f():\n    return {1: 2}"
    assert "def f():" in markdown_of(cap)


def test_format_json_parses_and_stores_data(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(Text('Sure:\n```json\n{"name": "Ada", "born": 1815}\n```'))
    result, cap = cell(ip, "%%claude -f json -o person\nQ")
    assert result.success
    assert ip.user_ns["person"].data == {"name": "Ada", "born": 1815}
    assert '"born": 1815' in markdown_of(cap)


def test_bad_options_are_usage_errors(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    for line in [
        "%%claude --nope\nQ",
        "%%claude -f yaml\nQ",
        "%%claude -o 'not a name'\nQ",
        "%%claude --max-tokens many\nQ",
    ]:
        result, cap = cell(ip, line)
        assert not result.success
        assert "UsageError" in cap.stdout + cap.stderr
    assert fake.requests == []


# -- interpolation and images ----------------------------------------------------------------


def test_interpolation_in_the_cell(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(Text("ok"))
    ip.user_ns.update(topic="recursion", n=3)
    result, cap = cell(
        ip, "%%claude\nExplain {topic} in {n} lines. Code: {k: v} {{topic}} {os.environ} {missing}"
    )
    assert result.success
    sent = last_body(fake)["messages"][-1]["content"]
    assert sent == "Explain recursion in 3 lines. Code: {k: v} {topic} {os.environ} {missing}"
    assert "{missing} is not defined" in markdown_of(cap)


def test_no_interpolate(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(Text("ok"))
    ip.user_ns["topic"] = "x"
    cell(ip, "%%claude --no-interpolate\n{topic} {{b}}")
    assert last_body(fake)["messages"][-1]["content"] == "{topic} {{b}}"


def test_images_in_place_and_with_i(
    ip: InteractiveShell, fake: FakeAnthropic, tmp_path: Path
) -> None:
    from PIL import Image

    fake.add(Text("A red and a blue square."))
    ip.user_ns["red"] = Image.new("RGB", (32, 32), "red")
    path = tmp_path / "blue.png"
    Image.new("RGB", (16, 16), "blue").save(path)
    result, cap = cell(
        ip, f"%%claude -i {path} -i https://example.com/cat.jpg\nCompare {{red}} with the others."
    )
    assert result.success, cap.stdout
    content = last_body(fake)["messages"][-1]["content"]
    kinds = [(b["type"], b.get("source", {}).get("type")) for b in content]
    assert kinds == [
        ("image", "base64"),
        ("image", "url"),
        ("text", None),
        ("image", "base64"),
        ("text", None),
    ]
    assert content[2]["text"] == "Compare " and content[4]["text"] == " with the others."
    md = markdown_of(cap)
    assert md.count('<img src="data:image/') == 2  # thumbnails of our own images
    assert "https://example.com/cat.jpg" in md and '<img src="https://example.com' not in md


def test_image_errors_are_one_clean_line(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    before = list(nbclaude.get_session().messages)
    result, cap = cell(ip, "%%claude -i /no/such/file.png\nQ")
    assert not result.success and "ImageError" in cap.stdout and "Traceback" not in cap.stdout
    assert nbclaude.get_session().messages == before and fake.requests == []


# -- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "name"),
    [
        (HTTPError(429), "RateLimitError"),
        (HTTPError(529), "OverloadedError"),
        (HTTPError(401, message=f"invalid x-api-key {KEY}"), "AuthenticationError"),
        (HTTPError(400, message="messages: something is wrong"), "BadRequestError"),
    ],
)
def test_api_errors_are_one_clean_line_with_the_request_id(
    ip: InteractiveShell, fake: FakeAnthropic, item: Any, name: str
) -> None:
    fake.add(item)
    result, cap = cell(ip, "%%claude\nQ")
    assert not result.success
    lines = lines_of(cap.stdout)
    assert len(lines) == 1, cap.stdout
    assert name in lines[0] and "request id req_" in lines[0]
    assert KEY not in cap.stdout + cap.stderr + json.dumps([o.data for o in cap.outputs])
    assert nbclaude.get_session().messages == []


def test_missing_key_message(ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_module, "_default", None)
    result, cap = cell(ip, "%%claude\nQ")
    assert not result.success
    assert "MissingAPIKeyError" in cap.stdout and "ANTHROPIC_API_KEY" in cap.stdout
    assert "%claude offline" in cap.stdout and "Traceback" not in cap.stdout


# -- line commands ---------------------------------------------------------------------------


def test_status_and_usage(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(Text("hi", usage={"input_tokens": 10, "output_tokens": 5}))
    cell(ip, "%%claude\nQ")
    _, cap = cell(ip, "%claude")
    md = markdown_of(cap)
    assert "claude-haiku-4-5" in md and "**turns** 1" in md and "10 in / 5 out" in md
    assert "**key** set" in md and KEY not in md
    _, cap = cell(ip, "%claude usage")
    assert "10 in / 5 out" in cap.stdout and "$" in cap.stdout


def test_reset_undo_history(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(Text("one"), Text("<script>alert(1)</script>two"))
    cell(ip, "%%claude\nfirst")
    cell(ip, "%%claude\nsecond")
    _, cap = cell(ip, "%claude history")
    md = markdown_of(cap, raw=True)
    assert "first" in md and "second" in md and "<script>" not in md
    _, cap = cell(ip, "%claude undo")
    assert "Removed 2" in cap.stdout and len(nbclaude.get_session().messages) == 2
    cell(ip, "%claude reset")
    assert nbclaude.get_session().messages == []
    _, cap = cell(ip, "%claude undo")  # right after a reset, undo brings it back (issue 12)
    assert "Brought back 2 message(s)" in cap.stdout and len(nbclaude.get_session().messages) == 2
    cell(ip, "%claude undo")
    _, cap = cell(ip, "%claude undo")
    assert "Nothing to undo" in cap.stdout


def test_model_and_system_commands(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    cell(ip, "%claude model claude-opus-4-8")
    assert nbclaude.get_session().model == "claude-opus-4-8"
    cell(ip, '%claude system "You are a patient tutor."')
    assert nbclaude.get_session().system == "You are a patient tutor."
    _, cap = cell(ip, "%claude system")
    assert "patient tutor" in cap.stdout
    cell(ip, '%claude system ""')
    assert nbclaude.get_session().system is None


def test_models_command(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    _, cap = cell(ip, "%claude models")
    md = markdown_of(cap)
    assert "claude-haiku-4-5" in md and "| prefill |" in md
    assert any(r.path == "/v1/models" for r in fake.requests)


def test_save_and_load(ip: InteractiveShell, fake: FakeAnthropic, tmp_path: Path) -> None:
    fake.add(Text("saved reply"))
    cell(ip, "%%claude\nkeep me")
    path = tmp_path / "chat.json"
    cell(ip, f"%claude save {path}")
    assert KEY not in path.read_text()
    cell(ip, "%claude reset")
    _, cap = cell(ip, f"%claude load {path}")
    assert "Loaded 1 turn" in cap.stdout
    assert nbclaude.get_session().messages[-1]["content"] == "saved reply"


def test_offline_and_online(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    _, cap = cell(ip, "%claude offline")
    assert "Offline" in cap.stdout
    import os

    assert os.environ.get("NBCLAUDE_OFFLINE") == "1"  # sessions made afterwards are offline too
    assert nbclaude.Session().backend == "offline fake"
    result, cap = cell(ip, "%%claude\nHello, Claude")
    assert result.success and "offline" in markdown_of(cap).lower()
    _, cap = cell(ip, "%claude online")
    assert "api.anthropic.com" in cap.stdout and "No API key" in cap.stdout
    assert "NBCLAUDE_OFFLINE" not in os.environ


def test_unknown_command(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    result, cap = cell(ip, "%claude frobnicate")
    assert not result.success and "unknown command" in cap.stdout + cap.stderr


def test_fix_sends_the_traceback_and_the_cell(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(Text("You divided by zero."))
    cell(ip, "def boom():\n    return 1 / 0\n\nboom()")
    result, cap = cell(ip, "%claude fix")
    assert result.success
    prompt = last_body(fake)["messages"][-1]["content"]
    assert "ZeroDivisionError" in prompt and "def boom():" in prompt
    assert "You divided by zero." in markdown_of(cap)


def test_fix_sends_the_last_failed_cell_as_the_notebook_showed_it(
    ip: InteractiveShell, fake: FakeAnthropic
) -> None:
    fake.add(Text("A key that is not there."))
    cell(ip, "grades = {'Ada': 91}\ngrades['Alan']")
    number = ip.execution_count - 1
    cell(ip, "x = 1  # a cell that works, run after the failing one")
    result, _ = cell(ip, "%claude fix")
    assert result.success
    prompt = last_body(fake)["messages"][-1]["content"]
    assert f"Cell In[{number}], line 2" in prompt  # IPython's traceback, not Python's
    assert "KeyError: 'Alan'" in prompt and "grades['Alan']" in prompt
    assert "\x1b[" not in prompt and "a cell that works" not in prompt


def test_config_traits(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    cell(ip, '%config ClaudeMagics.model = "claude-opus-4-8"')
    cell(ip, "%config ClaudeMagics.max_tokens = 333")
    s = nbclaude.get_session()
    assert (s.model, s.max_tokens) == ("claude-opus-4-8", 333)
    cell(ip, '%config ClaudeMagics.model = ""')
    cell(ip, "%config ClaudeMagics.max_tokens = 0")


def test_help_documents_every_option(ip: InteractiveShell) -> None:
    doc = ip.find_cell_magic("claude").__doc__
    for option in [
        "--model",
        "--system",
        "--max-tokens",
        "--temperature",
        "--prefill",
        "--image",
        "--output",
        "--new",
        "--once",
        "--no-stream",
        "--thinking",
        "--format",
        "--no-interpolate",
    ]:
        assert option in doc


def test_unload_removes_the_magics() -> None:
    shell = InteractiveShell.instance()
    shell.run_line_magic("unload_ext", "nbclaude")
    assert shell.find_cell_magic("claude") is None and shell.find_line_magic("claude") is None
    shell.run_line_magic("load_ext", "nbclaude")
    assert shell.find_cell_magic("claude") is not None


def test_tokens_command(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(Text("hi"))
    cell(ip, "%%claude\nfirst")
    _, cap = cell(ip, "%claude tokens")
    assert "The conversation:" in cap.stdout and "input tokens" in cap.stdout and "$" in cap.stdout
    _, cap = cell(ip, "%claude tokens and a follow-up question")
    assert "plus your text" in cap.stdout
    assert fake.requests[-1].path == "/v1/messages/count_tokens"


def test_models_command_shows_capabilities(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    _, cap = cell(ip, "%claude models")
    md = markdown_of(cap)
    assert "| can do |" in md and "vision" in md


def test_citations_are_footnotes_in_the_cell(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    cite = {
        "type": "char_location",
        "cited_text": "Ants are insects.",
        "document_index": 0,
        "document_title": "Notes",
        "start_char_index": 0,
        "end_char_index": 17,
    }
    fake.add(Text("Ants are insects", citations=[cite]))
    ip.user_ns["doc"] = nbclaude.document(text="Ants are insects.", title="Notes", citations=True)
    result, cap = cell(ip, "%%claude\nUsing {doc}: what are ants?")
    assert result.success
    sent = last_body(fake)["messages"][-1]["content"]
    assert [b["type"] for b in sent] == ["text", "document", "text"]
    md = markdown_of(cap)
    assert "Ants are insects[1]" in md and "1. “Ants are insects.” — Notes" in md


# -- tools and structured output (issue 7) ------------------------------------------------------


def test_tools_run_and_show_collapsed(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    from nbclaude.testing import ToolUse

    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    ip.user_ns["add"] = add
    fake.add(ToolUse("add", {"a": 20, "b": 22}, text="Adding."), Text("The answer is 42."))
    result, cap = cell(ip, "%%claude --tools add --auto-approve\nWhat is 20 + 22?")
    assert result.success
    md = markdown_of(cap)
    assert "<details><summary>🔧 add — done</summary>" in md
    assert '"a": 20' in md and "42" in md and md.index("Adding.") < md.index("The answer is 42.")
    assert fake.requests[0].json["tools"][0]["name"] == "add"


def test_tools_ask_first_by_default(
    ip: InteractiveShell, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    from nbclaude.testing import ToolUse

    ip.user_ns["shout"] = lambda text: text.upper()
    monkeypatch.setattr(builtins, "input", lambda prompt: "n")
    fake.add(ToolUse("shout", {"text": "hi"}), Text("ok, I won't"))
    result, cap = cell(ip, "%%claude --tools shout\nShout hi")
    assert result.success and "🔧 shout — declined" in markdown_of(cap)


def test_unknown_tool_name_is_a_usage_error(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    result, cap = cell(ip, "%%claude --tools nope\nQ")
    assert not result.success and "UsageError" in cap.stdout + cap.stderr and fake.requests == []


def test_schema_option(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    from dataclasses import dataclass

    @dataclass
    class City:
        name: str
        population: int

    ip.user_ns["City"] = City
    fake.add(Text('{"name": "Rome", "population": 2750000}'))
    result, cap = cell(ip, "%%claude --schema City -o r\nThe capital of Italy?")
    assert result.success
    assert ip.user_ns["r"].data == City("Rome", 2750000)
    assert '"population": 2750000' in markdown_of(cap)
    assert fake.requests[0].json["output_config"]["format"]["type"] == "json_schema"


def test_schema_mismatch_is_one_clean_line(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    ip.user_ns["Shape"] = {
        "type": "object",
        "properties": {"sides": {"type": "integer"}},
        "required": ["sides"],
        "additionalProperties": False,
    }
    fake.add(Text('{"sides": "three"}'))
    result, cap = cell(ip, "%%claude --schema Shape\nA triangle?")
    assert not result.success
    lines = lines_of(cap.stdout)
    assert len(lines) == 1 and "StructuredOutputError" in lines[0] and "sides" in lines[0]
    assert "three" in markdown_of(cap)  # the reply is still shown


def test_models_command_marks_models_that_retire_soon(
    ip: InteractiveShell, fake: FakeAnthropic
) -> None:
    """Issue #15: ``%claude models`` says which models retire within 90 days (failed before:
    no retirement dates anywhere)."""
    import datetime as dt

    today = dt.datetime.now(dt.timezone.utc).date()
    soon, later = today + dt.timedelta(days=30), today + dt.timedelta(days=200)
    dated = FakeAnthropic(
        api_key=KEY,
        models=[
            {"id": "claude-test-soon", "display_name": "Soon", "retires_at": f"{soon}T00:00:00Z"},
            {"id": "claude-test-later", "display_name": "Later", "retires_at": f"{later}"},
        ],
    )
    nbclaude.get_session().client = Client(api_key=KEY, transport=dated, max_retries=0)
    _, cap = cell(ip, "%claude models")
    md = markdown_of(cap)
    row = next(line for line in md.splitlines() if "claude-test-soon" in line)
    assert f"⚠ retires {soon}" in row
    later_row = next(line for line in md.splitlines() if "claude-test-later" in line)
    assert "retires" not in later_row
    assert f"Retiring within 90 days: `claude-test-soon` ({soon})" in md

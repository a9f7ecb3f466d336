"""Issue 12 in the magics: turns in the outputs' metadata, a broken stream keeps its text,
``%claude load`` / ``save`` / ``resume``, autosave's setting and status (a real IPython shell,
the fake API). The real-kernel round trip is in test_resume_kernel.py."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import KEY
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from nbformat.v4 import new_code_cell, new_notebook, new_output

import nbclaude
import nbclaude._session.shared as session_module
from nbclaude import Client, Session
from nbclaude.testing import Cut, FakeAnthropic, StreamErrorEvent, Text, ToolUse


@pytest.fixture
def fake(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[FakeAnthropic]:
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    fake = FakeAnthropic(api_key=KEY)
    monkeypatch.setattr(session_module, "_default", None)
    session = nbclaude.get_session()
    session.client = Client(api_key=KEY, transport=fake, max_retries=0)
    session.model = "claude-haiku-4-5"
    yield fake
    keeper(ip).flush()
    ip.run_line_magic("config", "ClaudeMagics.autosave = None")


def keeper(ip: InteractiveShell) -> Any:
    return ip.magics_manager.registry["ClaudeMagics"].keeper


def cell(ip: InteractiveShell, source: str) -> tuple[Any, Any]:
    with capture_output() as cap:
        result = ip.run_cell(source, store_history=True)
    return result, cap


def final(cap: Any) -> Any:
    [out] = [o for o in cap.outputs if "text/markdown" in o.data or "text/plain" in o.data]
    return out


def readable(markdown: str) -> str:
    return html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown))


def one_line(cap: Any) -> str:
    lines = [
        x for x in re.sub(r"\x1b\[[0-9;]*[A-Za-z]|\r", "", cap.stdout).splitlines() if x.strip()
    ]
    assert len(lines) == 1, cap.stdout
    return lines[0]


# -- every final output carries its turn --------------------------------------------------------


def test_a_cells_final_output_carries_its_turn(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(Text("first answer", usage={"input_tokens": 9, "output_tokens": 2}), Text("second"))
    cell(ip, "%%claude\nfirst question")
    result, cap = cell(ip, '%%claude -s "Be brief."\nsecond question')
    assert result.success
    meta = final(cap).metadata["nbclaude"]
    s = nbclaude.get_session()
    assert (meta["version"], meta["kind"], meta["index"], meta["recorded"]) == (1, "cell", 2, True)
    assert meta["messages"] == s.messages[2:]
    assert meta["model"].startswith("claude-haiku-4-5") and meta["session"] == s.id
    assert meta["shared"] is True and meta["usage"]["output_tokens"] > 0
    json.dumps(meta)  # a notebook can hold it


def test_a_once_turn_is_marked_not_recorded(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(Text("kept"), Text("not kept"))
    cell(ip, "%%claude\nkeep")
    _, cap = cell(ip, "%%claude --once\nthrow away")
    meta = final(cap).metadata["nbclaude"]
    assert meta["recorded"] is False
    assert [m["content"] for m in meta["messages"]] == ["throw away", "not kept"]


def test_tool_rounds_are_part_of_the_turn(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    ip.user_ns["add"] = lambda a, b: a + b
    fake.add(ToolUse("add", {"a": 20, "b": 22}), Text("42."))
    _, cap = cell(ip, "%%claude --tools add --auto-approve\n20 + 22?")
    meta = final(cap).metadata["nbclaude"]
    assert [m["role"] for m in meta["messages"]] == ["user", "assistant", "user", "assistant"]
    assert meta["messages"][1]["content"][-1]["type"] == "tool_use"


def test_an_interrupted_reply_carries_what_was_kept(
    ip: InteractiveShell, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbclaude._ipython import display

    fed = {"n": 0}
    feed = display.LiveMarkdown.feed

    def interrupt_after_some(self: Any, text: str) -> None:
        feed(self, text)
        fed["n"] += 1
        if fed["n"] == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(display.LiveMarkdown, "feed", interrupt_after_some)
    fake.add(Text("one two three four five six", chunk_size=4))
    _, cap = cell(ip, "%%claude\ncount")
    meta = final(cap).metadata["nbclaude"]
    assert meta["recorded"] is True and meta["messages"] == nbclaude.get_session().messages


# -- a broken stream keeps what arrived ---------------------------------------------------------


@pytest.mark.parametrize(
    "item",
    [
        StreamErrorEvent(
            after=4, reply=Text("Photosynthesis turns light into sugar", chunk_size=5)
        ),
        Cut(after=4, reply=Text("Photosynthesis turns light into sugar", chunk_size=5)),
    ],
)
def test_text_streamed_before_an_error_stays_with_the_error_under_it(
    ip: InteractiveShell, fake: FakeAnthropic, item: Any
) -> None:
    fake.add(item)
    result, cap = cell(ip, "%%claude\nWhat is photosynthesis?")
    assert not result.success
    out = final(cap)
    shown = readable(out.data["text/markdown"])
    assert "Photosynthesis turns" in shown  # was replaced by the error line alone
    assert "broke off" in shown
    line = one_line(cap)
    assert "StreamError" in line and "Traceback" not in cap.stdout
    meta = out.metadata["nbclaude"]
    kept = bool(nbclaude.get_session().messages)
    assert meta["recorded"] is kept
    assert ("kept in the conversation" in shown) is kept


def test_an_error_before_any_text_shows_only_the_error(
    ip: InteractiveShell, fake: FakeAnthropic
) -> None:
    fake.add(StreamErrorEvent(after=0))
    result, cap = cell(ip, "%%claude\nQ")
    assert not result.success
    assert [o for o in cap.outputs if "text/markdown" in o.data] == []
    assert "StreamError" in one_line(cap)


# -- load and save --------------------------------------------------------------------------------


def test_load_of_a_malformed_file_keeps_the_live_conversation(
    ip: InteractiveShell, fake: FakeAnthropic, tmp_path: Path
) -> None:
    fake.add(Text("live reply"))
    cell(ip, "%%claude\nlive question")
    before = list(nbclaude.get_session().messages)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "nbclaude.session", "version": 1, "model": "m",
                               "max_tokens": 10, "messages": "hello"}))  # fmt: skip
    result, cap = cell(ip, f"%claude load {bad}")
    assert not result.success
    line = one_line(cap)
    assert str(bad) in line and '"messages" must be a list' in line
    assert nbclaude.get_session().messages == before  # nothing was swapped
    _, cap = cell(ip, "%claude history")  # and every later command still works
    assert "live question" in readable(final(cap).data["text/markdown"])


def test_load_says_how_to_undo_it(
    ip: InteractiveShell, fake: FakeAnthropic, tmp_path: Path
) -> None:
    other = Session(model="claude-haiku-4-5")
    other.messages += [{"role": "user", "content": "theirs"}]
    other.save(tmp_path / "other.json")
    fake.add(Text("mine"))
    cell(ip, "%%claude\nmy question")
    _, cap = cell(ip, f"%claude load {tmp_path / 'other.json'}")
    assert "%claude undo brings them back" in cap.stdout
    cell(ip, "%claude undo")
    assert nbclaude.get_session().messages[0]["content"] == "my question"


def test_save_where_it_cannot_is_one_clean_line(
    ip: InteractiveShell, fake: FakeAnthropic, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("x")
    result, cap = cell(ip, f"%claude save {tmp_path / 'a-file' / 'chat.json'}")
    assert not result.success
    line = one_line(cap)
    assert line.startswith("SaveError: Cannot save the session to") and "a-file" in line


# -- autosave: where, status ----------------------------------------------------------------------


def test_autosave_setting_and_status(
    ip: InteractiveShell, fake: FakeAnthropic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, cap = cell(ip, "%claude")
    assert (
        "**autosave** off: the kernel does not know its notebook"
        in final(cap).data["text/markdown"]
    )
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "02-chat.ipynb"))
    fake.add(Text("saved by itself"))
    cell(ip, "%%claude\nremember me")
    assert keeper(ip).flush()
    auto = tmp_path / ".nbclaude" / "02-chat.json"
    assert Session.load(auto).messages[-1]["content"] == "saved by itself"
    _, cap = cell(ip, "%claude")
    assert "**autosave** `.nbclaude/02-chat.json` (saved " in final(cap).data["text/markdown"]
    cell(ip, f'%config ClaudeMagics.autosave = "{tmp_path / "mine.json"}"')
    fake.add(Text("in my own file"))
    cell(ip, "%%claude\nand here")
    assert keeper(ip).flush() and len(Session.load(tmp_path / "mine.json").messages) == 4
    cell(ip, '%config ClaudeMagics.autosave = ""')
    _, cap = cell(ip, "%claude")
    assert 'off (ClaudeMagics.autosave = "")' in final(cap).data["text/markdown"]
    cell(ip, "%config ClaudeMagics.autosave = None")
    monkeypatch.setenv("NBCLAUDE_AUTOSAVE", "0")
    _, cap = cell(ip, "%claude")
    assert "off (NBCLAUDE_AUTOSAVE=0)" in readable(final(cap).data["text/markdown"])


# -- resume ---------------------------------------------------------------------------------------


def _restart(monkeypatch: pytest.MonkeyPatch) -> Session:
    """What a kernel restart leaves: a new, empty shared session."""
    monkeypatch.setattr(session_module, "_default", None)
    return nbclaude.get_session()


def test_resume_brings_back_the_autosave(
    ip: InteractiveShell, fake: FakeAnthropic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "lesson.ipynb"))
    fake.add(Text("before the restart"))
    cell(ip, "%%claude\nremember this")
    assert keeper(ip).flush()
    _restart(monkeypatch)
    _, cap = cell(ip, "%claude resume")
    assert "Resumed 1 turn(s) from .nbclaude/lesson.json." in cap.stdout
    assert nbclaude.get_session().messages[-1]["content"] == "before the restart"
    _, cap = cell(ip, "%claude resume")
    assert "Nothing to resume" in cap.stdout


def test_resume_from_a_saved_notebook(
    ip: InteractiveShell, fake: FakeAnthropic, tmp_path: Path
) -> None:
    fake.add(Text("an answer"))
    _, cap = cell(ip, "%%claude\na question")
    out = final(cap)
    nb = new_notebook(cells=[new_code_cell("%%claude\na question", outputs=[
        new_output("display_data", data=out.data, metadata=out.metadata)])])  # fmt: skip
    nbformat.write(nb, str(tmp_path / "handed-in.ipynb"))
    cell(ip, "%claude reset")
    _, cap = cell(ip, f"%claude resume {tmp_path / 'handed-in.ipynb'}")
    assert "Resumed 1 turn(s)" in cap.stdout and "Read 1 saved output." in cap.stdout
    assert [m["content"] for m in nbclaude.get_session().messages] == ["a question", "an answer"]


def test_resume_without_an_autosave_is_one_clean_line(
    ip: InteractiveShell, fake: FakeAnthropic
) -> None:
    result, cap = cell(ip, "%claude resume")
    assert not result.success
    assert "autosave is off: the kernel does not know its notebook" in one_line(cap)
    result, cap = cell(ip, "%claude resume a b")
    assert not result.success and "UsageError" in cap.stdout + cap.stderr


def test_loading_the_extension_says_an_autosave_is_waiting(
    ip: InteractiveShell, fake: FakeAnthropic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "lesson.ipynb"))
    fake.add(Text("kept"))
    cell(ip, "%%claude\nkeep")
    assert keeper(ip).flush()
    ip.run_line_magic("unload_ext", "nbclaude")
    _restart(monkeypatch)
    with capture_output() as cap:
        ip.run_line_magic("load_ext", "nbclaude")
    assert "%claude resume brings it back" in cap.stdout and ".nbclaude/lesson.json" in cap.stdout
    nbclaude.get_session().client = Client(api_key=KEY, transport=fake, max_retries=0)


def test_a_request_refused_before_any_text_leaves_no_half_output(
    ip: InteractiveShell, fake: FakeAnthropic
) -> None:
    from nbclaude.testing import HTTPError

    fake.add(HTTPError(529))
    result, cap = cell(ip, '%%claude --prefill "The answer is ("\nQ')
    assert not result.success
    assert [o for o in cap.outputs if "text/markdown" in o.data] == []
    assert "OverloadedError" in one_line(cap)


def test_prefill_and_text_before_a_break_stay_together(
    ip: InteractiveShell, fake: FakeAnthropic
) -> None:
    fake.add(StreamErrorEvent(after=2, reply=Text("C) Formicidae", chunk_size=3)))
    result, cap = cell(ip, '%%claude --prefill "The answer is ("\nQ')
    assert not result.success
    assert "The answer is (C) Fo" in readable(final(cap).data["text/markdown"])


def test_no_turn_known_means_no_metadata_rather_than_null() -> None:
    from types import SimpleNamespace

    from nbclaude._ipython.display import finish_broken, finish_reply

    seen: list[Any] = []
    live = SimpleNamespace(finish=lambda bundle, metadata=None: seen.append(metadata))
    reply = SimpleNamespace(prefill=None, text="hi", footer=lambda: "f", images=[])
    shown = SimpleNamespace(markdown="hi", notes=[])
    s = Session()
    finish_reply(live, s, reply, shown, fmt="markdown", warnings=[], started={})  # type: ignore[arg-type]
    finish_broken(live, s, ["half"], None, fmt="markdown", started={})  # type: ignore[arg-type]
    assert seen == [None, None]

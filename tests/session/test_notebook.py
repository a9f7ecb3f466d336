"""``Session.from_notebook``: a conversation rebuilt from a saved notebook's outputs (item 3).

The notebooks here are written with nbformat, their outputs carrying ``metadata["nbclaude"]``
as the magic and the widget write it (``transcript_format.transcript``). A notebook saved by
a real kernel is read in tests/ipython/test_resume_kernel.py.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import KEY
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

import nbclaude
from nbclaude import Session
from nbclaude._session.transcript_format import THUMB_EDGE, transcript


def turn(q: str, a: str) -> list[Any]:
    return [{"role": "user", "content": q}, {"role": "assistant", "content": a}]


A, B, C, D, E = (turn(q, q.lower()) for q in "ABCDE")


def cell_output(messages: list[Any], index: int, **kw: Any) -> Any:
    meta = transcript("cell", messages, model="claude-haiku-4-5", session="s1", index=index, **kw)
    text = messages[-1]["content"] if isinstance(messages[-1]["content"], str) else "…"
    return new_output(
        "display_data",
        data={"text/markdown": text, "text/plain": text},
        metadata={"nbclaude": meta},
    )


def widget_output(messages: list[Any], **kw: Any) -> Any:
    meta = transcript("widget", messages, model="claude-opus-4-8", session="s1", **kw)
    return new_output(
        "display_data", data={"text/html": "<p>chat</p>"}, metadata={"nbclaude": meta}
    )


def notebook(tmp_path: Path, *cells: list[Any]) -> Path:
    nb = new_notebook(cells=[new_markdown_cell("# A lesson")])
    for outputs in cells:
        nb.cells.append(new_code_cell("%%claude\n…", outputs=outputs))
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nb, str(path))
    return path


def contents(session: Session) -> list[str]:
    return [str(m["content"]) for m in session.messages]


# -- the rules ------------------------------------------------------------------------------------


def test_cells_in_order_make_the_conversation(tmp_path: Path) -> None:
    path = notebook(tmp_path, [cell_output(A, 0)], [], [cell_output(B, 2)], [cell_output(C, 4)])
    s = Session.from_notebook(path)
    assert contents(s) == ["A", "a", "B", "b", "C", "c"]
    assert s.model == "claude-haiku-4-5"


def test_a_widget_that_saw_later_cells_is_not_cut_short_by_them(tmp_path: Path) -> None:
    """A cell, then the widget (it lived on: it saw D, typed E), then cell D."""
    path = notebook(
        tmp_path,
        [cell_output(A, 0)],
        [widget_output(A + B + C + D + E)],
        [cell_output(D, 6)],
    )
    assert contents(Session.from_notebook(path)) == list("AaBbCcDdEe")


def test_cells_after_a_restart_and_resume_go_on_from_the_widget(tmp_path: Path) -> None:
    path = notebook(tmp_path, [cell_output(A, 0)], [widget_output(A + B + C)], [cell_output(D, 6)])
    s = Session.from_notebook(path)
    assert contents(s) == list("AaBbCcDd")
    assert s.model == "claude-haiku-4-5"  # the last output's


def test_an_older_widget_view_adds_nothing(tmp_path: Path) -> None:
    path = notebook(tmp_path, [cell_output(A, 0), cell_output(B, 2)], [widget_output(A)])
    assert contents(Session.from_notebook(path)) == list("AaBb")


def test_a_turn_at_index_0_starts_afresh(tmp_path: Path) -> None:
    path = notebook(tmp_path, [cell_output(A, 0)], [cell_output(B, 2)], [cell_output(C, 0)])
    assert contents(Session.from_notebook(path)) == ["C", "c"]


def test_a_different_widget_conversation_later_wins(tmp_path: Path) -> None:
    path = notebook(tmp_path, [widget_output(A + B)], [widget_output(C)])
    assert contents(Session.from_notebook(path)) == ["C", "c"]


def test_once_turns_and_other_sessions_are_left_out(tmp_path: Path) -> None:
    path = notebook(
        tmp_path,
        [cell_output(A, 0)],
        [cell_output(B, 2, recorded=False)],
        [widget_output(C + D, shared=False)],
        [cell_output(E, 2)],
    )
    assert contents(Session.from_notebook(path)) == list("AaEe")


def test_an_index_past_the_end_is_added_at_the_end(tmp_path: Path) -> None:
    path = notebook(tmp_path, [cell_output(A, 8)], [cell_output(B, 20)])
    assert contents(Session.from_notebook(path)) == list("AaBb")


def test_tool_rounds_come_back_whole(tmp_path: Path) -> None:
    rounds = [
        {"role": "user", "content": "What is 20 + 22?"},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Adding."},
            {"type": "tool_use", "id": "toolu_1", "name": "add", "input": {"a": 20, "b": 22}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "42"}
        ]},
        {"role": "assistant", "content": "42."},
    ]  # fmt: skip
    path = notebook(tmp_path, [cell_output(rounds, 0)])
    assert Session.from_notebook(path).messages == rounds


def test_images_come_back_as_thumbnails_and_it_says_so(tmp_path: Path) -> None:
    from PIL import Image

    picture = nbclaude.image(Image.new("RGB", (1200, 900), "red"))
    asked = [{"role": "user", "content": [picture, {"type": "text", "text": "Colour?"}]},
             {"role": "assistant", "content": "Red."}]  # fmt: skip
    path = notebook(tmp_path, [cell_output(asked, 0)])
    with pytest.warns(UserWarning, match="1 image came back as thumbnail"):
        s = Session.from_notebook(path)
    block = s.messages[0]["content"][0]
    assert set(block) == {"type", "source"}  # the mark is removed: the API accepts it
    data = base64.b64decode(block["source"]["data"])
    assert max(Image.open(io.BytesIO(data)).size) <= THUMB_EDGE
    stored = path.read_text(encoding="utf-8")
    assert len(stored) < len(picture["source"]["data"]) / 2  # the notebook stays small


def test_the_key_is_never_in_a_saved_turn() -> None:
    t = transcript("cell", turn(f"my key {KEY}", "ok"), model="m", session="s", secrets=[KEY])
    assert KEY not in json.dumps(t) and "<redacted>" in json.dumps(t)


# -- what cannot be read --------------------------------------------------------------------------


def test_unreadable_outputs_are_skipped_and_counted(tmp_path: Path) -> None:
    bad = new_output("display_data", data={"text/plain": "x"}, metadata={"nbclaude": {
        "version": 1, "kind": "cell", "messages": "hello", "model": "m", "session": "s"}})  # fmt: skip
    future = new_output("display_data", data={"text/plain": "x"}, metadata={"nbclaude": {
        "version": 9, "kind": "cell", "messages": [], "model": "m", "session": "s"}})  # fmt: skip
    path = notebook(tmp_path, [cell_output(A, 0)], [bad, future], [cell_output(B, 2)])
    with pytest.warns(UserWarning, match=r"Skipped 2 unreadable output\(s\) \(cell 3: "):
        s = Session.from_notebook(path)
    assert contents(s) == list("AaBb")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (None, "no such file"),
        ("not json", "not a readable notebook"),
        ("[1, 2]", "not a Jupyter notebook"),
    ],
)
def test_a_file_that_is_not_a_notebook_is_one_clean_line(
    tmp_path: Path, text: str | None, problem: str
) -> None:
    path = tmp_path / "x.ipynb"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(nbclaude.InvalidRequestError) as info:
        Session.from_notebook(path)
    assert str(info.value).startswith(f"Cannot resume from {path}: ") and problem in str(info.value)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_a_notebook_with_cleared_outputs_says_so(tmp_path: Path) -> None:
    path = notebook(tmp_path, [], [])
    with pytest.raises(nbclaude.InvalidRequestError, match="were its outputs cleared"):
        Session.from_notebook(path)

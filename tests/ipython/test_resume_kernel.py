"""Autosave -> kernel restart -> ``%claude resume`` in real kernels (nbclient), and what a
saved notebook holds: its turns in the outputs' metadata, rebuilt by ``Session.from_notebook``,
and the conversation in nbconvert's HTML (issue 12, items 2 and 3)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from ipython.notebook_support import cell_text as texts
from ipython.notebook_support import write_notebook as write

from nbclaude import Session
from nbclaude.testing.notebook import check_outputs, execute

pytestmark = pytest.mark.kernel

PROBE = (
    "import json, nbclaude\n"
    "s = nbclaude.get_session()\n"
    "print(json.dumps([m['content'] for m in s.messages]))"
)


@pytest.fixture
def lesson(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the notebook lives; its kernels run as Jupyter Server starts them."""
    path = tmp_path / "02-lesson.ipynb"
    monkeypatch.setenv("NBCLAUDE_OFFLINE", "1")
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))  # what Jupyter Server sets
    return path


def printed_messages(cell: Any) -> list[Any]:
    [line] = [o.text for o in cell.outputs if o.output_type == "stream"]
    messages: list[Any] = json.loads(line)
    return messages


def test_autosave_then_restart_then_resume(lesson: Path) -> None:
    write(lesson, "%load_ext nbclaude", "%%claude\nWhat is an ant?", "%%claude\nHow many legs?")
    first = execute(lesson, timeout=120)
    assert check_outputs(first) == []
    autosave = lesson.parent / ".nbclaude" / "02-lesson.json"
    assert [m["content"] for m in Session.load(autosave).messages][::2] == [
        "What is an ant?",
        "How many legs?",
    ]
    # the kernel is gone (nbclient shut it down): a new one starts with an empty session
    write(lesson, "%load_ext nbclaude", "%claude resume", "%%claude\nAnd wings?", PROBE)
    second = execute(lesson, timeout=120)
    assert check_outputs(second) == []
    assert "%claude resume brings it back" in texts(second.cells[0])
    assert "Resumed 2 turn(s) from .nbclaude/02-lesson.json." in texts(second.cells[1])
    contents = printed_messages(second.cells[3])
    assert contents[::2] == ["What is an ant?", "How many legs?", "And wings?"]
    assert "It received 5 messages" in contents[-1]  # the request held the resumed history
    assert len(Session.load(autosave).messages) == 6


def test_a_kernel_killed_right_after_a_turn_loses_nothing(lesson: Path) -> None:
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    write(lesson, "%load_ext nbclaude", "%%claude\nRemember the number 7.",
          "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")  # fmt: skip
    nb = nbformat.read(str(lesson), as_version=4)
    client = NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(lesson.parent)}})  # fmt: skip
    with pytest.raises(DeadKernelError):
        client.execute()
    saved = Session.load(lesson.parent / ".nbclaude" / "02-lesson.json").messages
    assert [m["role"] for m in saved] == ["user", "assistant"]
    assert saved[0]["content"] == "Remember the number 7."


def test_autosave_off_in_a_kernel(lesson: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBCLAUDE_AUTOSAVE", "0")
    write(lesson, "%load_ext nbclaude", "%%claude\nQ", "%claude")
    nb = execute(lesson, timeout=120)
    assert "off (NBCLAUDE\\_AUTOSAVE=0)" in texts(nb.cells[2])
    assert not (lesson.parent / ".nbclaude").exists()


def test_a_saved_notebook_holds_its_conversation(lesson: Path, tmp_path: Path) -> None:
    from nbconvert import HTMLExporter
    from PIL import Image

    Image.new("RGB", (900, 600), (200, 30, 30)).save(tmp_path / "red.png")
    write(
        lesson,
        "%load_ext nbclaude",
        "%%claude\nName three insects.",
        "%%claude -i red.png\nWhat colour is this?",
        "%%claude --once\nA side question, not kept.",
        "%%claude\nWhich of them has six legs?",
        PROBE,
    )
    nb = execute(lesson, timeout=120)
    assert check_outputs(nb) == []
    nbformat.write(nb, str(lesson))  # what File > Save writes
    live = printed_messages(nb.cells[5])

    with pytest.warns(UserWarning, match="1 image came back as thumbnail"):
        rebuilt = Session.from_notebook(lesson)
    assert len(rebuilt.messages) == len(live) == 6
    for got, was in zip(rebuilt.messages, live, strict=True):
        if isinstance(was, str):
            assert got["content"] == was
        else:  # the image turn: the same blocks, the picture as its thumbnail
            assert [b["type"] for b in got["content"]] == [b["type"] for b in was]
    assert rebuilt.model.startswith("claude-")
    assert lesson.stat().st_size < 200_000  # thumbnails, not the picture

    html, _ = HTMLExporter().from_filename(str(lesson))  # what a teacher opens without Jupyter
    page = " ".join(html.split())
    for said in ("It received 1 message ", "It received 3 messages", "It received 5 messages",
                 "Last user message: “Which of them has six legs?”"):  # fmt: skip
        assert said in page, said  # the replies, not only the prompts
    assert re.search(r'<img alt="image 1" src="data:image/png;base64,', page)  # its thumbnail

"""Autosave (issue 12, item 2): where it writes, when, and that it never destroys a conversation.

The kernel-level round trip (autosave -> restart -> ``%claude resume``) is in
tests/ipython/test_resume_kernel.py.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY

from nbclaude import Client, Session
from nbclaude._session.autosave import Autosave, Where, kept_copies, where_to_save
from nbclaude.testing import FakeAnthropic, Text

ROOT = Path(__file__).resolve().parents[2]


def make(*script: Any) -> Session:
    fake = FakeAnthropic(list(script), api_key=KEY)
    return Session(model="claude-haiku-4-5", client=Client(api_key=KEY, transport=fake))


def keeper(session: Session, path: Path) -> Autosave:
    return Autosave(session, lambda: Where(path, "test"))


def saved(path: Path) -> list[Any]:
    return list(Session.load(path).messages)


# -- where ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "environ", "user_ns", "expected"),
    [
        (
            None,
            {"JPY_SESSION_NAME": "/home/ada/l/02-chat.ipynb"},
            {},
            "/home/ada/l/.nbclaude/02-chat.json",
        ),
        (None, {"JPY_SESSION_NAME": "l/02-chat.ipynb"}, {}, "/kernel/cwd/.nbclaude/02-chat.json"),
        (
            None,
            {"JPY_SESSION_NAME": "x.ipynb"},
            {"__vsc_ipynb_file__": "/v/a b.ipynb"},
            "/v/.nbclaude/a b.json",
        ),
        (None, {}, {"__vsc_ipynb_file__": "/v/lab.ipynb"}, "/v/.nbclaude/lab.json"),
        (None, {}, {}, None),
        (None, {"JPY_SESSION_NAME": "/n/a.ipynb", "NBCLAUDE_AUTOSAVE": "0"}, {}, None),
        (None, {"JPY_SESSION_NAME": "/n/a.ipynb", "NBCLAUDE_AUTOSAVE": "off"}, {}, None),
        (
            None,
            {"JPY_SESSION_NAME": "/n/a.ipynb", "NBCLAUDE_AUTOSAVE": "1"},
            {},
            "/n/.nbclaude/a.json",
        ),
        ("", {"JPY_SESSION_NAME": "/n/a.ipynb"}, {}, None),
        ("mine.json", {"NBCLAUDE_AUTOSAVE": "0"}, {}, "/kernel/cwd/mine.json"),
        ("/abs/mine.json", {}, {}, "/abs/mine.json"),
    ],
)
def test_where_autosave_writes(
    setting: str | None, environ: dict[str, str], user_ns: dict[str, Any], expected: str | None
) -> None:
    where = where_to_save(setting, environ=environ, user_ns=user_ns, cwd="/kernel/cwd")
    assert (where.path.as_posix() if where.path else None) == expected
    assert where.why


def test_off_says_why_and_how_to_turn_it_on() -> None:
    assert "NBCLAUDE_AUTOSAVE=0" in where_to_save(None, environ={"NBCLAUDE_AUTOSAVE": "0"}).why
    unknown = where_to_save(None, environ={}).why
    assert "does not know its notebook" in unknown and "ClaudeMagics.autosave" in unknown


# -- when -----------------------------------------------------------------------------------------


def test_every_turn_undo_and_reset_is_written_and_never_the_key(tmp_path: Path) -> None:
    path = tmp_path / ".nbclaude" / "lesson.json"
    s = make(Text("one"), Text(f"two (your key is {KEY})"))  # a reply may echo the key
    keep = keeper(s, path)
    s.send("first")
    assert keep.flush() and len(saved(path)) == 2
    s.send("second")
    assert keep.flush() and len(saved(path)) == 4
    s.undo()
    assert keep.flush() and len(saved(path)) == 2
    s.reset()
    assert keep.flush() and saved(path) == []
    s.undo()  # undo after reset brings it back, on disk too
    assert keep.flush() and len(saved(path)) == 2
    assert KEY not in "".join(p.read_text() for p in path.parent.iterdir())
    assert keep.last_error is None and keep.saved_at is not None
    keep.close()


def test_a_half_turn_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    s = make(Text("one"), Text("a long reply " * 20, chunk_size=5))
    keep = keeper(s, path)
    s.send("first")
    assert keep.flush()
    with s.stream("second") as st:
        texts = iter(st)
        next(texts)
        keep.request()  # a change while the turn streams: nothing to write yet
        assert keep.flush()
        assert len(saved(path)) == 2  # the user message of the running turn is not on disk
        for _ in texts:
            pass
    assert keep.flush() and len(saved(path)) == 4
    keep.close()


def test_after_close_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    s = make(Text("one"))
    keeper(s, path).close()
    s.send("first")
    time.sleep(0.05)
    assert not path.exists()


def test_a_pending_write_is_finished_when_python_exits(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    code = f"""
        from pathlib import Path
        from nbclaude import Session
        from nbclaude._session.autosave import Autosave, Where
        s = Session()
        keep = Autosave(s, lambda: Where(Path({str(path)!r}), "test"))
        s.messages += [{{"role": "user", "content": "x" * 3_000_000}}]
        s.reset(); s.undo()  # asks for a write, then exits at once
        """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert len(saved(path)[0]["content"]) == 3_000_000


# -- nothing is destroyed -------------------------------------------------------------------------


def _earlier_kernel(path: Path) -> list[Any]:
    earlier = Session(model="claude-haiku-4-5")
    earlier.messages += [
        {"role": "user", "content": "from before the restart"},
        {"role": "assistant", "content": "kept"},
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    earlier.save(path)
    return list(earlier.messages)


def test_an_earlier_kernels_conversation_is_kept_if_not_resumed(tmp_path: Path) -> None:
    path = tmp_path / ".nbclaude" / "lesson.json"
    before = _earlier_kernel(path)
    s = make(Text("new"))
    keep = keeper(s, path)
    s.model = "claude-opus-4-8"  # a change with nothing to save: the file is left alone
    assert keep.flush() and saved(path) == before
    s.send("a new start")
    assert keep.flush()
    assert [m["content"] for m in saved(path)] == ["a new start", "new"]
    [copy] = kept_copies(path)
    assert keep.kept == [copy] and saved(copy) == before
    assert copy.name.startswith("lesson.") and copy.name != "lesson.json"
    keep.close()


def test_a_resumed_conversation_goes_on_in_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / ".nbclaude" / "lesson.json"
    before = _earlier_kernel(path)
    s = make(Text("more"))
    keep = keeper(s, path)
    s.replace(Session.load(path))
    s.send("and then?")
    assert keep.flush()
    assert saved(path)[:2] == before and len(saved(path)) == 4
    assert kept_copies(path) == []
    keep.close()


def test_reset_keeps_the_forgotten_conversation_beside_the_autosave(tmp_path: Path) -> None:
    path = tmp_path / "lesson.json"
    s = make(Text("one"))
    keep = keeper(s, path)
    s.send("first")
    assert keep.flush()
    s.reset()
    assert keep.flush() and saved(path) == []
    [copy] = kept_copies(path)
    assert [m["content"] for m in saved(copy)] == ["first", "one"]
    s.reset()  # an empty conversation is not kept
    assert keep.flush() and len(kept_copies(path)) == 1
    keep.close()


def test_an_unreadable_earlier_file_is_kept_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "lesson.json"
    path.write_text("{ not json", encoding="utf-8")
    s = make(Text("one"))
    keep = keeper(s, path)
    s.send("first")
    assert keep.flush() and len(saved(path)) == 2
    [copy] = kept_copies(path)
    assert copy.read_text(encoding="utf-8") == "{ not json"
    keep.close()


def test_a_failing_autosave_never_breaks_a_turn_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a-file").write_text("x")
    target = {"path": tmp_path / "a-file" / "chat.json"}  # its folder is a file
    s = make(Text("one"), Text("two"), Text("three"))
    keep = Autosave(s, lambda: Where(target["path"], "test"))
    with caplog.at_level(logging.WARNING, logger="nbclaude"):
        assert s.send("first").text == "one"
        assert keep.flush()
        assert s.send("second").text == "two"
        assert keep.flush()
    assert keep.last_error is not None and "a-file" in keep.last_error
    assert len([r for r in caplog.records if "autosave failed" in r.message]) == 1  # once
    target["path"] = tmp_path / "fixed.json"
    s.send("third")
    assert keep.flush() and keep.last_error is None and len(saved(target["path"])) == 6
    keep.close()


def test_the_saved_file_is_one_message_per_line(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    s = make(Text("one"))
    keep = keeper(s, path)
    s.send("first")
    assert keep.flush()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[2].rstrip(",")) == {"role": "user", "content": "first"}
    keep.close()

"""Saving is atomic and loading checks everything (issue 12, item 1).

Real parts: a process killed with SIGKILL at random moments while it saves in a loop, a write
past ``RLIMIT_FSIZE`` in a subprocess, a folder the saving process may not write to, and a
catalogue of malformed files.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY

import nbclaude
from nbclaude import Client, Session
from nbclaude.testing import FakeAnthropic, Text

ROOT = Path(__file__).resolve().parents[2]


def make(*script: Any, **kwargs: Any) -> Session:
    fake = FakeAnthropic(list(script), api_key=KEY)
    return Session(model="claude-haiku-4-5", client=Client(api_key=KEY, transport=fake), **kwargs)


def good_file(path: Path, *, turns: int = 1) -> dict[str, Any]:
    s = Session(model="claude-haiku-4-5", system="Be brief.", max_tokens=500)
    for i in range(turns):
        s.messages += [
            {"role": "user", "content": f"question {i}"},
            {"role": "assistant", "content": f"answer {i}"},
        ]
    s.save(path)
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def run_python(code: str, *, env: dict[str, str] | None = None, timeout: float = 60) -> Any:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


# -- atomic saves ---------------------------------------------------------------------------------

SAVER = """
import sys
from nbclaude import Session

path = sys.argv[1]
s = Session(model="claude-haiku-4-5")
n = 0
print("ready", flush=True)
while True:
    n += 1
    s.messages.append({"role": "user", "content": f"question {n} " + "x" * 20_000})
    s.messages.append({"role": "assistant", "content": f"answer {n} " + "y" * 20_000})
    if len(s.messages) > 200:
        del s.messages[:2]
    s.save(path)
"""


def test_a_save_killed_at_any_moment_leaves_a_file_that_loads(tmp_path: Path) -> None:
    """SIGKILL at random moments of a save loop, 25 times: the file always loads, whole."""
    path = tmp_path / "chat.json"
    good_file(path)
    rng = random.Random(12)
    sizes = set()
    for _ in range(25):
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(path)],
            stdout=subprocess.PIPE,
            cwd=ROOT,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.01, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        loaded = Session.load(path)  # never truncated, never half-written
        assert all(m["role"] in ("user", "assistant") for m in loaded.messages)
        assert len(loaded.messages) % 2 == 0
        sizes.add(len(loaded.messages))
    assert len(sizes) > 1, "the saver was never caught mid-way: make the test slower"


def test_a_write_past_the_file_size_limit_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    before = good_file(path, turns=3)
    done = run_python(
        f"""
        import resource
        from nbclaude import Session
        s = Session.load({str(path)!r})
        s.messages += [{{"role": "user", "content": "z" * 500_000}},
                       {{"role": "assistant", "content": "ok"}}]
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
        try:
            s.save({str(path)!r})
        except OSError as exc:
            print(type(exc).__name__, "|", exc)
        else:
            print("saved")
        """
    )
    assert done.returncode == 0, done.stderr
    name, _, message = done.stdout.strip().partition(" | ")
    assert name == "SaveError", done.stdout
    assert str(path) in message and "\n" not in message and "too large" in message
    assert json.loads(path.read_text(encoding="utf-8")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chat.json"]  # no temporary file left


def _without_root_powers() -> list[str]:
    """A command prefix under which the folder's permissions apply (root ignores them)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a read-only folder cannot be made")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--inh-caps", "-all"]


def test_saving_into_a_read_only_folder_is_one_clean_line(tmp_path: Path) -> None:
    folder = tmp_path / "handed-in"
    folder.mkdir()
    before = good_file(folder / "chat.json")
    folder.chmod(0o555)
    try:
        code = f"""
            from nbclaude import Session
            s = Session.load({str(folder / "chat.json")!r})
            s.messages.append({{"role": "user", "content": "more"}})
            try:
                s.save({str(folder / "chat.json")!r})
            except OSError as exc:
                print(type(exc).__name__, "|", exc)
            """
        done = subprocess.run(
            [*_without_root_powers(), sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
    finally:
        folder.chmod(0o755)
    assert done.returncode == 0, done.stderr
    name, _, message = done.stdout.strip().partition(" | ")
    assert name == "SaveError" and "\n" not in message, done.stdout
    assert str(folder / "chat.json") in message and "read-only" in message
    assert json.loads((folder / "chat.json").read_text(encoding="utf-8")) == before


def test_save_keeps_the_file_mode_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    good_file(path)
    path.chmod(0o640)
    s = Session.load(path)
    s.messages.append({"role": "user", "content": "again"})
    s.save(path)
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["chat.json"]
    fresh = tmp_path / "new.json"
    s.save(fresh)
    umask = os.umask(0)
    os.umask(umask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600


def test_a_session_that_cannot_be_saved_does_not_touch_the_file(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    before = good_file(path)
    s = Session.load(path)
    s.messages.append({"role": "user", "content": [{"type": "text", "text": Path("x")}]})
    with pytest.raises(OSError, match="message 3") as info:
        s.save(path)
    assert isinstance(info.value, nbclaude.NbClaudeError) and str(path) in str(info.value)
    s.messages[-1] = {"role": "user", "content": object()}  # not JSON at all
    with pytest.raises(OSError, match="message 3"):
        s.save(path)
    assert json.loads(path.read_text(encoding="utf-8")) == before


def test_the_key_is_never_saved_even_when_typed_into_a_prompt(tmp_path: Path) -> None:
    s = make(Text(f"noted: {KEY}"))  # a reply echoing the key (a prompt holding it is refused)
    s.send("keep it safe")
    s.messages.append({"role": "user", "content": f"my key is {KEY}"})  # typed in by hand
    s.save(tmp_path / "chat.json")
    text = (tmp_path / "chat.json").read_text(encoding="utf-8")
    assert KEY not in text and "<redacted>" in text


# -- every message and block survives -----------------------------------------------------------


def test_every_kind_of_block_round_trips(tmp_path: Path) -> None:
    from PIL import Image

    picture = nbclaude.image(Image.new("RGB", (40, 30), "red"))
    messages: list[Any] = [
        {"role": "user", "content": [picture, {"type": "text", "text": "What is it? ünïcödé"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Hmm.", "signature": "sig=="},
                {"type": "redacted_thinking", "data": "opaque"},
                {"type": "text", "text": "Let me look.", "citations": None},
                {"type": "tool_use", "id": "toolu_1", "name": "look", "input": {"n": 1.5}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "red"}, picture],
                    "is_error": False,
                },
                {
                    "type": "document",
                    "source": {"type": "text", "media_type": "text/plain", "data": "Ants."},
                    "title": "Notes",
                },
                {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
            ],
        },
        {"role": "assistant", "content": "A red square."},
    ]
    s = Session(model="claude-haiku-4-5", cache=True, temperature=0.25, max_tokens=7)
    s.messages = messages
    s.save(tmp_path / "all.json")
    loaded = Session.load(tmp_path / "all.json")
    assert json.dumps(loaded.messages) == json.dumps(messages)
    assert (loaded.cache, loaded.params, loaded.max_tokens) == (True, {"temperature": 0.25}, 7)


def test_an_old_indented_version_1_file_still_loads(tmp_path: Path) -> None:
    """Files written by earlier releases (``indent=1``) are the same format version."""
    data = {
        "format": "nbclaude.session",
        "version": 1,
        "model": "claude-haiku-4-5",
        "system": None,
        "max_tokens": 1024,
        "params": {},
        "cache": False,
        "messages": [{"role": "user", "content": "Hi"}],
        "usage": {"input_tokens": 3, "output_tokens": 0},
        "cost": 0.0,
    }
    (tmp_path / "old.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    loaded = Session.load(tmp_path / "old.json")
    assert loaded.messages == data["messages"] and loaded.usage["input_tokens"] == 3


# -- malformed files ------------------------------------------------------------------------------


def _valid(**changes: Any) -> str:
    data: dict[str, Any] = {
        "format": "nbclaude.session",
        "version": 1,
        "model": "claude-haiku-4-5",
        "system": None,
        "max_tokens": 1024,
        "params": {},
        "cache": False,
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": [{"type": "text", "text": "Hello"}]},
        ],
        "usage": {"input_tokens": 1, "output_tokens": 1},
        "cost": 0.0,
    }
    for key, value in changes.items():
        if value is ...:
            del data[key]
        else:
            data[key] = value
    return json.dumps(data)


def _message(content: Any, role: str = "user") -> str:
    return _valid(messages=[{"role": role, "content": content}])


MALFORMED = [
    ("", "empty"),
    ("{", "not valid JSON"),
    ('{"format": "nbclaude.session", "version": 1,', "not valid JSON"),
    ("[1, 2]", "not a saved nbclaude session"),
    ('{"hello": 1}', "not a saved nbclaude session"),
    (_valid(format="other"), "not a saved nbclaude session"),
    (_valid(version=0), "unknown format version 0"),
    (_valid(version=-3), "unknown format version -3"),
    (_valid(version="1"), "format version must be a whole number"),
    (_valid(version=True), "format version must be a whole number"),
    (_valid(version=1.5), "format version must be a whole number"),
    (_valid(version=...), "no format version"),
    (_valid(messages="hello"), '"messages" must be a list'),
    (_valid(messages=...), 'no "messages"'),
    (_valid(messages=["hello"]), "message 1 must be an object"),
    (_valid(messages=[{"role": "system", "content": "x"}]), 'message 1: "role"'),
    (_valid(messages=[{"content": "x"}]), 'message 1: "role"'),
    (_valid(messages=[{"role": "user"}]), 'message 1: no "content"'),
    (_valid(messages=[{"role": "user", "content": "x", "name": "y"}]), "unknown key 'name'"),
    (_message(5), 'message 1: "content" must be'),
    (_message([5]), "message 1, block 1 must be an object"),
    (_message([{"text": "no type"}]), 'message 1, block 1: "type"'),
    (_message([{"type": "text"}]), 'message 1, block 1 (text): "text"'),
    (_message([{"type": "text", "text": 5}]), 'message 1, block 1 (text): "text"'),
    (_message([{"type": "image"}]), 'message 1, block 1 (image): "source"'),
    (
        _message([{"type": "image", "source": {"type": "base64", "media_type": "image/png"}}]),
        '"data"',
    ),
    (_message([{"type": "image", "source": {"type": "ftp", "url": "x"}}]), "source type 'ftp'"),
    (_message([{"type": "document", "source": "x"}]), '(document): "source"'),
    (
        _message([{"type": "tool_use", "id": "t", "name": "f", "input": "x"}], "assistant"),
        '(tool_use): "input"',
    ),
    (_message([{"type": "tool_use", "name": "f", "input": {}}], "assistant"), '(tool_use): "id"'),
    (_message([{"type": "tool_result", "content": "x"}]), '(tool_result): "tool_use_id"'),
    (
        _message([{"type": "tool_result", "tool_use_id": "t", "content": 5}]),
        '(tool_result): "content"',
    ),
    (
        _message([{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text"}]}]),
        'block 1 (tool_result), block 1 (text): "text"',
    ),
    (_message([{"type": "thinking", "thinking": "x"}], "assistant"), '(thinking): "signature"'),
    (_message([{"type": "redacted_thinking"}], "assistant"), '(redacted_thinking): "data"'),
    (_valid(max_tokens=1.9), "max_tokens must be a whole number"),
    (_valid(max_tokens="1024"), "max_tokens must be a whole number"),
    (_valid(max_tokens=True), "max_tokens must be a whole number"),
    (_valid(max_tokens=-1), "max_tokens must be a whole number"),
    (_valid(model=""), '"model" must be'),
    (_valid(model=5), '"model" must be'),
    (_valid(model=...), 'no "model"'),
    (_valid(system=5), '"system" must be'),
    (_valid(system=[{"type": "image"}]), '"system"'),
    (_valid(params="x"), '"params" must be an object'),
    (_valid(params={"messages": []}), "\"params\" may not set 'messages'"),
    (_valid(cache="yes"), '"cache" must be true or false'),
    (_valid(usage="lots"), '"usage" must be an object'),
    (_valid(usage={"input_tokens": -1}), '"usage": input_tokens must be a whole number'),
    (_valid(usage={"input_tokens": 1.5}), '"usage": input_tokens must be a whole number'),
    (_valid(cost="free"), '"cost" must be a number'),
    (_valid(cost=-1), '"cost" must be a number'),
]


@pytest.mark.parametrize(("text", "problem"), MALFORMED)
def test_a_malformed_file_is_refused_in_one_line_naming_it(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(nbclaude.InvalidRequestError) as info:
        Session.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"Cannot load {path}: "), message
    assert problem in message, message
    assert "newer" not in message  # only a higher version number is "from a newer nbclaude"


def test_only_a_higher_version_is_from_a_newer_nbclaude(tmp_path: Path) -> None:
    path = tmp_path / "future.json"
    path.write_text(_valid(version=2), encoding="utf-8")
    with pytest.raises(nbclaude.InvalidRequestError, match="saved by a newer nbclaude"):
        Session.load(path)


@pytest.mark.parametrize(
    ("make_it", "problem"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "a folder"),
        (lambda p: p.write_bytes(b'{"format": "\xff\xfe"}'), "not UTF-8 text"),
        (lambda p: p.write_bytes(b"\x00" * 4096), "not valid JSON"),
    ],
)
def test_unreadable_files_are_one_clean_line(tmp_path: Path, make_it: Any, problem: str) -> None:
    path = tmp_path / "chat.json"
    make_it(path)
    with pytest.raises(nbclaude.InvalidRequestError) as info:
        Session.load(path)
    assert str(info.value).startswith(f"Cannot load {path}: ") and problem in str(info.value)
    assert "\n" not in str(info.value)

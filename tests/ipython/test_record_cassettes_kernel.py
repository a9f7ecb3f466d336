"""``tools/record_cassettes.py``, run as a teacher runs it, on a small notebook of its own
(real kernels, nbclient, the offline fake on 127.0.0.1): recording writes one exchange per
request (the shared session's cells and a session of the notebook's own), never the key; a
fresh kernel with no key replays every one of them (each ``%%claude`` footer says
"replayed", with the recorded text), and ``--check`` says so; a notebook whose prompt changed
since fails the check; a run that fails keeps the old cassette."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "record_cassettes.py"

CELLS = [
    "%load_ext nbclaude",
    "%%claude\nWhat is a hint?",
    "%%claude -m claude-haiku-4-5 --max-tokens 300\nAnd a second question, in fewer words?",
    'import nbclaude\nquiz = nbclaude.Session(model="claude-haiku-4-5")\n'
    'print("QUIZ:", quiz.send("Name a prime number.").text[:60])',
]


def notebook(folder: Path, cells: list[str], name: str = "lesson") -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, str(path))
    return path


def script(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True, text=True, timeout=600, cwd=ROOT, check=False,
    )  # fmt: skip


def replayed_outputs(path: Path, cassette: Path) -> Any:
    """The notebook run as a class runs it: a fresh kernel, NBCLAUDE_REPLAY, no key."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import record_cassettes
    finally:
        sys.path.remove(str(SCRIPT.parent))
    env = record_cassettes.kernel_env(NBCLAUDE_REPLAY=str(cassette))
    assert "ANTHROPIC_API_KEY" not in env and "ANTHROPIC_BASE_URL" not in env
    return record_cassettes.run_notebook(path, env, timeout=120)


def test_record_then_replay_every_request_in_a_fresh_kernel(tmp_path: Path) -> None:
    lesson = notebook(tmp_path, CELLS)
    out = tmp_path / "cassettes"
    done = script(lesson, "--out", out)
    assert done.returncode == 0, done.stdout + done.stderr
    cassette = out / "lesson.jsonl"
    assert f"lesson.ipynb: 3 exchange(s) recorded; wrote {cassette}" in done.stdout
    lines = [json.loads(line) for line in cassette.read_text().splitlines()]
    assert len(lines) == 3
    text = cassette.read_text()
    assert "sk-ant-record-cassettes" not in text  # the loopback fake's made-up key
    recorded = ["".join(b.get("text", "") for b in e["message"]["content"]) for e in lines]
    assert all(r.strip() for r in recorded)
    assert list(tmp_path.glob("*.json")) == []  # no autosaved chat beside the notebook

    nb = replayed_outputs(lesson, cassette)
    shown = [json.dumps(cell.get("outputs", [])) for cell in nb.cells]
    for index in (1, 2):  # the two %%claude cells: the recorded text, "replayed" in the footer
        [output] = nb.cells[index].outputs
        markdown = output["data"]["text/markdown"]
        assert markdown.rstrip().endswith("· replayed</sub>"), markdown[-200:]
        asked = CELLS[index].split("\n", 1)[1]
        assert asked in recorded[index - 1] and asked in markdown  # the fake's recorded words
    assert "offline fake" in recorded[0]  # recorded from the fake: its words come back whole
    assert "QUIZ:" in shown[3] and "error" not in shown[3]

    checked = script(lesson, "--out", out, "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "lesson.ipynb: 3 replayed, 0 not in the cassette" in checked.stdout


def test_a_changed_prompt_fails_the_check_and_a_failed_run_keeps_the_cassette(
    tmp_path: Path,
) -> None:
    lesson = notebook(tmp_path, CELLS[:2])
    out = tmp_path / "cassettes"
    assert script(lesson, "--out", out).returncode == 0
    cassette = out / "lesson.jsonl"
    before = cassette.read_text()
    changed = notebook(tmp_path, [CELLS[0], "%%claude\nWhat is a good hint?"])
    checked = script(changed, "--out", out, "--check")
    assert checked.returncode == 1
    assert "0 replayed, 1 not in the cassette" in checked.stdout
    assert "record it again" in checked.stdout

    broken = notebook(tmp_path, [*CELLS[:2], "1 / 0"])
    failed = script(broken, "--out", out)
    assert failed.returncode == 1 and "ZeroDivisionError" in failed.stdout
    assert "kept the old cassette" in failed.stdout
    assert cassette.read_text() == before
    assert sorted(p.name for p in out.iterdir()) == ["lesson.jsonl"]  # no partial file left


def test_real_needs_a_key(tmp_path: Path) -> None:
    lesson = notebook(tmp_path, CELLS[:2])
    env_free = subprocess.run(
        [sys.executable, str(SCRIPT), str(lesson), "--out", str(tmp_path), "--real"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")},
    )  # fmt: skip
    assert env_free.returncode == 1
    assert "--real needs ANTHROPIC_API_KEY" in env_free.stdout
    assert not (tmp_path / "lesson.jsonl").exists()


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_teaching_notebook_has_a_cassette() -> None:
    shipped = sorted(p.stem for p in (ROOT / "notebooks" / "cassettes").glob("*.jsonl"))
    assert shipped == [p.stem for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_shipped_cassette_replays_its_notebook(path: Path) -> None:
    """What a class without keys runs: the notebook, its cassette, a fresh kernel, no key, no
    network; every request is in the cassette (a notebook changed since its recording fails
    here: run ``python tools/record_cassettes.py notebooks/NAME.ipynb`` again)."""
    done = script("--check", path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{path.name}: " in done.stdout and ", 0 not in the cassette" in done.stdout
    assert " 0 replayed" not in done.stdout

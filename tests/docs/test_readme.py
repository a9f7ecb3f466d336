"""Every command in README.md is exercised, and its tables match the code.

How the README's code blocks are tested (the README's development section says the same):

* Every ``python`` / ``ipython`` fenced block runs, in order, as one cell of a single real kernel
  on the offline fake, and must not fail, print a traceback or show a key.
* An HTML comment on the line before a block changes that:
  ``<!-- readme-test: skip (why) -->`` leaves an illustrative block out (a reason is required),
  ``<!-- readme-test: error -->`` marks a block that must fail, and
  ``<!-- readme-test: ipython_config -->`` marks an ``ipython_config.py``, which is installed in a
  fresh IPython profile and checked in a new kernel.
* Every command in a ``bash`` block must be one this file knows how CI exercises (``SHELL``):
  the two commands at the top run in ``.ci/run``; the fake server, ``npm run build`` and the
  named test files are exercised here; ``npm test`` runs in ``./test.sh``.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MARKER = re.compile(r"^<!--\s*readme-test:\s*(?P<kind>[a-z_]+)\s*(?:\((?P<why>[^)]*)\))?\s*-->$")
KINDS = {"skip", "error", "ipython_config"}
TOP = """# nbclaude

```bash
./quickstart.sh   # set up, then open the quickstart notebook in JupyterLab (offline fake API without a key)
./test.sh         # set up and run the whole test suite (lint, types, vitest, pytest, browser tests)
```
"""


@dataclass
class Block:
    lang: str
    code: str
    line: int  # 1-based line of the opening fence
    mark: str | None = None
    why: str | None = None


def blocks() -> list[Block]:
    """The fenced code blocks of the README, with the marker comment just before each."""
    text = README.read_text(encoding="utf-8")
    tokens = MarkdownIt("commonmark").parse(text)
    found: list[Block] = []
    previous: Any = None
    for token in tokens:
        if token.type == "fence" and token.map is not None:
            block = Block(token.info.strip(), token.content, token.map[0] + 1)
            if previous is not None and previous.type == "html_block" and previous.map is not None:
                m = MARKER.match(previous.content.strip())
                if m and previous.map[1] == token.map[0]:
                    block.mark, block.why = m.group("kind"), m.group("why")
            found.append(block)
        if token.level == 0:
            previous = token
    return found


def runnable() -> list[Block]:
    return [
        b
        for b in blocks()
        if b.lang in ("python", "ipython") and b.mark not in ("skip", "ipython_config")
    ]


def table_rows(heading: str) -> list[list[str]]:
    """The rows (cells as text) of the first table after ``heading``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(heading)
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if not all(set(c) <= set("-: ") for c in cells):
                rows.append(cells)
        elif rows:
            break
    return rows


# -- the shape of the README --------------------------------------------------------------------


def test_the_top_is_the_title_and_the_two_commands() -> None:
    assert README.read_text(encoding="utf-8").startswith(TOP)


def test_the_two_commands_run_in_ci() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^\./test\.sh$", ci, re.M)
    assert re.search(r"^\./quickstart\.sh --execute$", ci, re.M)
    quickstart = (ROOT / "quickstart.sh").read_text(encoding="utf-8")
    assert "notebooks/01-quickstart.ipynb" in quickstart
    assert (ROOT / "notebooks" / "01-quickstart.ipynb").is_file()


def test_markers_are_known_placed_and_few() -> None:
    text = README.read_text(encoding="utf-8")
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if line.startswith("<!--") and "readme-test" in line:
            m = MARKER.match(line.strip())
            assert m and m.group("kind") in KINDS, f"README line {number}: unknown {line!r}"
            assert lines[number].startswith("```"), f"README line {number}: not before a block"
    marked = [b for b in blocks() if b.mark]
    assert all(b.why for b in marked if b.mark == "skip"), "say why a block is skipped"
    assert sum(b.mark == "skip" for b in marked) <= 3, "skip blocks sparingly"
    assert len(runnable()) >= 10


def test_screenshot_and_every_notebook_are_linked() -> None:
    text = README.read_text(encoding="utf-8")
    assert "](docs/screenshot.png)" in text
    assert (ROOT / "docs" / "screenshot.png").stat().st_size > 10_000
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"](notebooks/{path.name})" in text, f"{path.name} is not in the README"


# -- the tables match the code ------------------------------------------------------------------


def test_options_table_is_the_parser() -> None:
    from nbclaude._ipython.magics import ClaudeMagics

    parser: Any = ClaudeMagics.claude_cell.parser  # type: ignore[attr-defined]
    in_code = {s for a in parser._actions for s in a.option_strings} - {"-h", "--help"}
    in_readme = set()
    for row in table_rows("| option | what it does |"):
        in_readme |= {o.split()[0] for o in re.findall(r"`(-[^`]+)`", row[0])}
    assert in_readme == in_code


def test_commands_table_is_the_command_list() -> None:
    from nbclaude._ipython.commands import COMMANDS

    in_readme = set()
    for row in table_rows("| command | what it does |"):
        for command in re.findall(r"`%claude ?([a-z]*)", row[0]):
            in_readme.add(command)
    assert in_readme == {"", *COMMANDS}, "document every %claude command (and only those)"


def test_config_table_is_the_traits() -> None:
    from nbclaude._ipython.magics import ClaudeMagics

    traits = ClaudeMagics.class_traits(config=True)
    rows = table_rows("| setting | default | meaning |")
    documented = {row[0].strip("`").split(".")[1]: row[1].strip("`") for row in rows}
    assert set(documented) == set(traits)
    for name, default in documented.items():
        assert ast.literal_eval(default) == traits[name].default_value, name


def test_environment_variables_are_read_by_the_code() -> None:
    names = [row[0].strip("`") for row in table_rows("| variable | meaning |")]
    assert names == [
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "NBCLAUDE_MODEL",
        "NBCLAUDE_OFFLINE",
        "NBCLAUDE_BUDGET",
        "NBCLAUDE_POLICY",
        "NBCLAUDE_AUTOSAVE",
        "NBCLAUDE_RECORD",
        "NBCLAUDE_REPLAY",
    ]
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "nbclaude").rglob("*.py"))
    for name in names:
        assert f'"{name}"' in source, name


# -- the python / ipython blocks, in a real kernel ----------------------------------------------


def _kernel_env(monkeypatch: pytest.MonkeyPatch, ipython_dir: Path) -> None:
    # conftest.py has removed every ANTHROPIC_* / NBCLAUDE_* variable already.
    monkeypatch.setenv("IPYTHONDIR", str(ipython_dir))
    monkeypatch.setenv("NBCLAUDE_OFFLINE", "1")


def _notebook(cells: list[tuple[str, list[str]]], path: Path) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell(code, metadata={"tags": tags}) for code, tags in cells])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, str(path))
    return path


def _text(output: Any) -> str:
    if output.get("output_type") == "stream":
        return str(output.get("text", ""))
    if output.get("output_type") == "error":
        return f"{output.get('ename')}: {output.get('evalue')}"
    data = output.get("data", {})
    return "\n".join(str(data[m]) for m in ("text/plain", "text/markdown") if m in data)


@pytest.mark.kernel
def test_python_blocks_run_in_order_on_the_offline_fake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbclaude.testing import MARKER as OFFLINE
    from nbclaude.testing.notebook import check_outputs, execute

    _kernel_env(monkeypatch, tmp_path / "ipython")
    todo = runnable()
    cells = [(b.code, ["raises-exception"] if b.mark == "error" else []) for b in todo]
    nb = execute(_notebook(cells, tmp_path / "readme.ipynb"), timeout=120)
    assert check_outputs(nb) == []
    for block, cell in zip(todo, nb.cells, strict=True):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        where = f"README line {block.line}"
        if block.mark == "error":
            assert errors, f"{where}: the block should fail, and did not"
        else:
            assert not errors, f"{where}: {[_text(e) for e in errors]}"
    shown = ["\n".join(_text(o) for o in cell.outputs) for cell in nb.cells]

    def output_of(start: str) -> str:
        [found] = [s for b, s in zip(todo, shown, strict=True) if b.code.startswith(start)]
        return found

    marker = OFFLINE.replace("*", "")
    assert marker in output_of("%%claude -m claude-haiku-4-5").replace("\\", "").replace("*", "")
    assert "'end_turn'" in output_of("answer.text")
    commands = output_of("%claude\n%claude model")
    for said in (
        "**backend** offline fake",  # %claude
        "Model: claude-haiku-4-5",  # %claude model
        "System prompt set.",  # %claude system
        "**You:**",  # %claude history
        "tokens · cost $",  # %claude usage
        "The conversation plus your text: ",  # %claude tokens
        "Saved to chat.json.",  # %claude save
        "Removed 2 message(s).",  # %claude undo
        "Conversation cleared.",  # %claude reset
        "Loaded 1 turn(s) from chat.json.",  # %claude load
        "| prefill |",  # %claude models
    ):
        assert said in commands, said
    assert (tmp_path / "chat.json").is_file()  # the kernel ran in the notebook's folder
    assert "forty-two" in output_of('int("forty-two")')
    assert marker in output_of("%claude fix").replace("\\", "").replace("*", "")
    assert "'C'" in output_of("quiz = nbclaude.Session(")
    assert "ChatWidget(session=" in output_of("nbclaude.ChatWidget()")


@pytest.mark.kernel
def test_the_ipython_config_block_loads_nbclaude(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [config] = [b for b in blocks() if b.mark == "ipython_config"]
    profile = tmp_path / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_config.py").write_text(config.code, encoding="utf-8")
    _kernel_env(monkeypatch, tmp_path / "ipython")
    from nbclaude.testing.notebook import check_outputs, execute

    nb = execute(_notebook([("%claude", [])], tmp_path / "config.ipynb"), timeout=60)
    assert check_outputs(nb) == []  # %claude exists: the profile loaded the extension
    assert "offline fake" in _text(nb.cells[0].outputs[0])


def _configured(block: Block) -> dict[str, Any]:
    """``{"model": ..., "max_tokens": ...}`` from the ``c.ClaudeMagics.NAME = VALUE`` lines."""
    found = {}
    for line in block.code.splitlines():
        m = re.match(r"c\.ClaudeMagics\.(\w+) = (.+)$", line)
        if m:
            found[m.group(1)] = ast.literal_eval(m.group(2))
    return found


@pytest.mark.kernel
def test_the_ipython_config_block_sets_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    [config] = [b for b in blocks() if b.mark == "ipython_config"]
    expected = _configured(config)
    assert expected == {"model": "claude-haiku-4-5", "max_tokens": 2048}
    profile = tmp_path / "ipython" / "profile_default"
    profile.mkdir(parents=True)
    (profile / "ipython_config.py").write_text(config.code, encoding="utf-8")
    _kernel_env(monkeypatch, tmp_path / "ipython")
    from nbclaude.testing.notebook import execute

    probe = (
        "import json, nbclaude\n"
        "s = nbclaude.get_session()\n"
        "print(json.dumps({'model': s.model, 'max_tokens': s.max_tokens}))"
    )
    nb = execute(_notebook([(probe, [])], tmp_path / "config.ipynb"), timeout=60)
    assert json.loads(_text(nb.cells[0].outputs[0])) == expected


# -- the shell commands -------------------------------------------------------------------------


def _in_ci(command: str) -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    script = command.split()[0]
    assert re.search(rf"^{re.escape(script)}( |$)", ci, re.M), f"{command}: not run by .ci/run"


def _in_test_sh(command: str) -> None:
    assert re.search(rf"^{re.escape(command)}$", (ROOT / "test.sh").read_text(), re.M)
    scripts = json.loads((ROOT / "package.json").read_text())["scripts"]
    assert command.split()[-1] in scripts


def _pytest(command: str) -> None:
    words = shlex.split(command)[3:]  # after ".venv/bin/python -m pytest"
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    markers = {m.split(":")[0] for m in config["tool"]["pytest"]["ini_options"]["markers"]}
    if "-m" in words:
        expression = words[words.index("-m") + 1].strip("\"'")
        used = set(re.findall(r"\w+", expression)) - {"and", "or", "not"}
        assert used <= markers, f"{command}: unknown markers {used - markers}"
    files = [w for w in words if w.startswith("tests/")]
    for name in files:
        assert (ROOT / name).is_file(), f"{command}: {name} does not exist"
    if files:
        collected = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", *files],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-2000:]


def _npm_build(command: str) -> None:
    scripts = json.loads((ROOT / "package.json").read_text())["scripts"]
    assert "build" in scripts
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    builder = config["tool"]["hatch"]["build"]["hooks"]["jupyter-builder"]["build-kwargs"]
    assert builder["build_cmd"] == "build"  # pip install (./test.sh, ./quickstart.sh) runs it
    npm = shutil.which("npm")
    if npm is None or not (ROOT / "node_modules" / "esbuild").is_dir():
        pytest.skip("npm or node_modules missing (./test.sh installs them)")
    done = subprocess.run(
        [npm, "run", "build"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for name in ("widget.js", "widget.css"):
        assert (ROOT / "nbclaude" / "_widget" / "static" / name).stat().st_size > 1000


def _fake_server(command: str) -> None:
    import httpx

    args = shlex.split(command)[1:]  # after ".venv/bin/python"
    process = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
        models = httpx.get(
            f"{url}/v1/models",
            headers={"x-api-key": "sk-ant-anything", "anthropic-version": "2023-06-01"},
            timeout=10,
        )
        assert models.status_code == 200
        assert models.json()["data"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


#: README shell command (as a regex) -> how it is exercised.
SHELL: dict[str, Callable[[str], None]] = {
    r"\./quickstart\.sh": _in_ci,
    r"\./test\.sh": _in_ci,
    r"\.venv/bin/python -m pytest .+": _pytest,
    r"npm test": _in_test_sh,
    r"npm run build": _npm_build,
    r"\.venv/bin/python -m nbclaude\.testing serve --port 0": _fake_server,
}


def shell_commands() -> list[str]:
    commands = []
    for block in blocks():
        if block.lang in ("bash", "sh", "console", "shell") and block.mark != "skip":
            for line in block.code.splitlines():
                command = line.split("  #")[0].strip()
                if command and not command.startswith("#"):
                    commands.append(command)
    return commands


def test_every_shell_command_is_known() -> None:
    commands = shell_commands()
    assert "./quickstart.sh" in commands and "./test.sh" in commands
    for command in commands:
        assert any(re.fullmatch(p, command) for p in SHELL), f"how does CI run {command!r}?"


@pytest.mark.parametrize("command", shell_commands())
def test_shell_command_is_exercised(command: str) -> None:
    [check] = [f for p, f in SHELL.items() if re.fullmatch(p, command)]
    check(command)


def test_the_skipped_live_reload_block_names_real_things() -> None:
    """The one shell block CI cannot run (two long-running processes and a browser)."""
    [live] = [b for b in blocks() if b.lang == "bash" and b.mark == "skip"]
    assert "npm run dev" in live.code and "ANYWIDGET_HMR=1" in live.code
    assert "watchfiles" in live.code  # anywidget's live reload needs it
    scripts = json.loads((ROOT / "package.json").read_text())["scripts"]
    assert "--watch" in scripts["dev"]

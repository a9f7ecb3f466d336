"""The teaching notebooks (``notebooks/*.ipynb``) run top to bottom in a real kernel, twice.

* **offline**: ``NBCLAUDE_OFFLINE=1`` and no key, as a class without keys runs them;
* **http**: the loopback fake server (``FakeAnthropic(api_key=KEY).serve()``) in this process,
  with ``ANTHROPIC_BASE_URL`` and ``ANTHROPIC_API_KEY=KEY`` in the kernel's environment and no
  offline flag, as a student with a key runs them: every request crosses HTTP with the key.

A run fails on any error output, any traceback and the key in any output
(:func:`nbclaude.testing.notebook.check_outputs`). Each notebook runs once per mode (memoised
for the content tests) in a copy of ``notebooks/``, so the files a notebook writes never land
in the checkout. The committed notebooks must carry no outputs and no execution counts.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

import nbclaude  # noqa: E402
from nbclaude._api.models import MODELS as MODEL_TABLE  # noqa: E402
from nbclaude._api.models import retiring_soon  # noqa: E402
from nbclaude.testing import MARKER, FakeAnthropic, FakeServer  # noqa: E402
from nbclaude.testing.notebook import check_outputs, execute  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
NAMES = [
    "01-quickstart",
    "02-multi-turn",
    "03-prefill",
    "04-vision",
    "05-chat-widget",
    "06-tools-and-json",
    "07-classroom",
]
MODES = ["offline", "http"]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


# -- helpers ------------------------------------------------------------------------------------


def read(name: str) -> Any:
    return nbformat.read(str(NOTEBOOKS / f"{name}.ipynb"), as_version=4)


def output_text(output: Any) -> str:
    """Everything a person could read in one output (stream text, plain text, Markdown)."""
    if output.get("output_type") == "stream":
        return str(output.get("text", ""))
    if output.get("output_type") == "error":
        return "\n".join(output.get("traceback", []))
    data = output.get("data", {})
    parts = []
    for mime in ("text/plain", "text/markdown"):
        value = data.get(mime)
        if value is not None:
            parts.append("".join(value) if isinstance(value, list) else str(value))
    return "\n".join(parts)


def cell(nb: Any, start: str) -> Any:
    """The one code cell whose source is ``start``, or else starts with it."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    found = [c for c in code if c.source == start] or [
        c for c in code if c.source.startswith(start)
    ]
    assert len(found) == 1, f"{len(found)} code cells start with {start!r}"
    return found[0]


def shown(nb: Any, start: str) -> str:
    """All the text the cell starting with ``start`` showed. Stream outputs are joined as they
    were printed (a loaded kernel may flush one print() as two stream messages)."""
    pieces: list[str] = []
    previous = None
    for output in cell(nb, start).get("outputs", []):
        text = output_text(output)
        stream = output.get("output_type") == "stream"
        if stream and previous == output.get("name") and pieces:
            pieces[-1] += text
        else:
            pieces.append(text)
        previous = output.get("name") if stream else None
    return "\n".join(pieces)


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fake_server() -> Iterator[tuple[FakeAnthropic, FakeServer]]:
    """The fake API on 127.0.0.1, accepting only ``KEY``."""
    fake = FakeAnthropic(api_key=KEY)
    with fake.serve() as server:
        yield fake, server


@pytest.fixture(scope="session")
def workdirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A fresh copy of ``notebooks/`` (with ``data/``) per mode, and an empty IPython dir."""
    dirs = {}
    for mode in MODES:
        dirs[mode] = tmp_path_factory.mktemp(mode) / "notebooks"
        shutil.copytree(NOTEBOOKS, dirs[mode])
    dirs["ipython"] = tmp_path_factory.mktemp("ipython")
    return dirs


class Run:
    """One executed notebook: the notebook, the seconds it took, the HTTP requests it made."""

    def __init__(self, nb: Any, seconds: float, requests: int) -> None:
        self.nb = nb
        self.seconds = seconds
        self.requests = requests


_RUNS: dict[tuple[str, str], Run] = {}


def kernel_env(
    monkeypatch: pytest.MonkeyPatch, mode: str, server: FakeServer, workdirs: dict[str, Path]
) -> None:
    """The environment a kernel started now gets: offline, or the loopback fake with the key.
    (The autouse fixture in conftest.py has removed every ANTHROPIC_* / NBCLAUDE_* variable.)"""
    monkeypatch.setenv("IPYTHONDIR", str(workdirs["ipython"]))  # no personal profile
    if mode == "offline":
        monkeypatch.setenv("NBCLAUDE_OFFLINE", "1")
    else:
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)


@pytest.fixture
def run(
    monkeypatch: pytest.MonkeyPatch,
    fake_server: tuple[FakeAnthropic, FakeServer],
    workdirs: dict[str, Path],
) -> Callable[[str, str], Run]:
    """``run(name, mode)``: execute the notebook (once per session) and return the :class:`Run`."""

    def go(name: str, mode: str) -> Run:
        if (name, mode) in _RUNS:
            return _RUNS[(name, mode)]
        fake, server = fake_server
        kernel_env(monkeypatch, mode, server, workdirs)
        before = len(fake.requests)
        start = time.perf_counter()
        nb = execute(workdirs[mode] / f"{name}.ipynb", timeout=120)
        seconds = time.perf_counter() - start
        _RUNS[(name, mode)] = Run(nb, seconds, len(fake.requests) - before)
        return _RUNS[(name, mode)]

    return go


# -- the committed notebooks --------------------------------------------------------------------


def test_the_teaching_notebooks_are_there() -> None:
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_committed_without_outputs(name: str) -> None:
    nb = read(name)
    nbformat.validate(nb)
    for index, c in enumerate(nb.cells):
        if c.cell_type == "code":
            assert c.outputs == [], f"cell {index} of {name} has outputs: clear them"
            assert c.execution_count is None, f"cell {index} of {name} has an execution count"
    assert "widgets" not in nb.metadata, f"{name} keeps saved widget state: clear it"


@pytest.mark.parametrize("name", NAMES)
def test_shape_goals_setup_exercises(name: str) -> None:
    """Each notebook: a title and learning goals, a labelled setup cell that works with and
    without a key, and exercises; and no way of setting the key that would show it."""
    nb = read(name)
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    assert first.source.startswith(f"# {name[:2]} · ")
    assert "You will learn" in first.source
    setup = next(c for c in nb.cells if c.cell_type == "code")
    assert setup.source.startswith("# Setup:")
    assert "%load_ext nbclaude" in setup.source
    assert re.search(
        r"if not has_key and not os\.environ\.get\(\"NBCLAUDE_OFFLINE\"\):\n"
        r"    %claude offline",
        setup.source,
    ), setup.source
    assert any(c.cell_type == "markdown" and "## Exercises" in c.source for c in nb.cells)
    for c in nb.cells:
        if c.cell_type == "code":
            assert not re.search(r"^\s*%env\b", c.source, re.M), "never %env: it echoes the key"
            assert "sk-ant-" not in c.source


def test_the_data_files_are_small_and_made_by_the_script() -> None:
    data = NOTEBOOKS / "data"
    files = sorted(p.name for p in data.iterdir() if p.suffix != ".py" and p.is_file())
    assert files == ["ant.jpg", "shapes.png"]
    assert sum((data / f).stat().st_size for f in files) < 50_000
    script = (data / "make_data.py").read_text(encoding="utf-8")
    assert all(f in script for f in files)


# -- running them -------------------------------------------------------------------------------


@pytest.mark.kernel
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", NAMES)
def test_runs_clean(run: Callable[[str, str], Run], name: str, mode: str) -> None:
    result = run(name, mode)
    problems = check_outputs(result.nb, secrets=(KEY,))
    assert problems == [], f"{name} ({mode}): {problems}"
    # Belt and braces: the key nowhere in the executed notebook, not even in metadata.
    assert KEY not in json.dumps(result.nb)
    every_code_cell_ran = [c.execution_count for c in result.nb.cells if c.cell_type == "code"]
    assert None not in every_code_cell_ran
    if mode == "http":
        assert result.requests > 0, "the HTTP run made no request: was it offline after all?"
    else:
        assert result.requests == 0
    # Every reply came from the fake and says so; nothing pretends to be Claude.
    everything = "\n".join(
        output_text(o) for c in result.nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert MARKER.replace("*", "") in everything.replace("\\*", "*").replace("*", "")


@pytest.mark.kernel
@pytest.mark.parametrize("mode", MODES)
def test_quickstart(run: Callable[[str, str], Run], mode: str) -> None:
    nb = run("01-quickstart", mode).nb
    status = shown(nb, "%claude")
    if mode == "offline":
        assert "offline fake" in status
        assert "offline, no key needed" in status
    else:
        assert "127.0.0.1" in status and "offline fake" not in status
        assert "**key** set" in status
    hello = cell(nb, "%%claude -o reply")
    final = hello.outputs[-1]["data"]["text/markdown"]
    assert "Hello, Claude" in final  # the offline fake quotes what it received
    # the footer: model · input / output tokens · cost · stop_reason
    assert re.search(
        r"claude-sonnet-5-5 · \d+ in / \d+ out tokens · \\\$[\d.]+ · end\\_turn", final
    )
    fields = shown(nb, "# `%%claude -o reply`")
    assert "id:          msg_" in fields
    assert "stop_reason: end_turn" in fields
    assert "cost (USD): " in fields and "None" not in fields
    assert shown(nb, "short.stop_reason") == "'max_tokens'"
    assert "photosynthesis" in shown(nb, "%%claude --once\nExplain {topic}")
    # a DataFrame is described, not pasted: the fake quotes the start of what it received
    table = shown(nb, "%%claude --once\nWhich student needs help? {marks:describe}")
    assert "“Which student needs help? pandas DataFrame `marks`: 3 rows, 2 columns" in table
    # {Err}: the last failed cell's error (the cell is tagged raises-exception)
    (failed,) = (o for o in cell(nb, 'scores = {"Ada"').outputs if o["output_type"] == "error")
    assert (failed["ename"], failed["evalue"]) == ("KeyError", "'Alan'")
    err = shown(nb, "%%claude --once\nWhy does this fail")
    assert re.search(
        r"“Why does this fail, and how do I fix it\? The error of cell In&#91;\d+&#93;", err
    )
    assert "tokens · cost $" in shown(nb, "%claude usage")
    # the guide's model is retired: the API (and the fake) answers 404, and nothing is recorded
    retired = shown(nb, "import nbclaude\n\ntry:")
    assert retired.startswith("404 not_found_error: model: claude-sonnet-4-5"), retired
    assert "Traceback" not in retired
    (table,) = (o for o in cell(nb, "%claude models").outputs if "data" in o)
    models = table["data"]["text/markdown"]
    assert "`claude-sonnet-5-5` ◀" in models  # the default, marked as the session's model
    assert "`claude-sonnet-4-5" not in models  # a retired model is not listed
    assert "| yes |" in models.split("`claude-haiku-4-5")[1].split("\n")[0]  # Haiku 4.5: prefill
    # ⚠ marks exactly the models that retire within 90 days (today's date decides which)
    soon = {
        spec.id: day
        for spec in MODEL_TABLE.values()
        if (day := retiring_soon(spec.id)) is not None and f"`{spec.id}" in models
    }
    for model, day in soon.items():
        row = next(line for line in models.splitlines() if line.startswith(f"| `{model}"))
        assert f"⚠ retires {day}" in row, row
    assert models.count("⚠ retires") == len(soon), models
    if soon:  # and a note under the table names them
        assert "⚠ Retiring within 90 days: " in models


AUTOSAVE = Path(".nbclaude") / "02-multi-turn.json"  # the setup cell of 02 chooses it


@pytest.mark.kernel
@pytest.mark.parametrize("mode", MODES)
def test_multi_turn(run: Callable[[str, str], Run], workdirs: dict[str, Path], mode: str) -> None:
    nb = run("02-multi-turn", mode).nb
    assert f"**autosave** `{AUTOSAVE}`" in shown(nb, "%claude")
    assert "It received 3 messages" in shown(nb, "%%claude\nCan you describe LLMs")
    assert shown(nb, "len(chat.messages)") == "(4, ['user', 'assistant', 'user', 'assistant'])"
    assert "Removed 2 message(s)." in shown(nb, "%claude undo")
    assert "Loaded 1 turn(s) from my-conversation.json." in shown(nb, "%claude reset\n%claude load")
    assert "**Claude:** Hello!" in shown(nb, "print(chat.to_markdown()")
    assert "stop_reason: end_turn" in shown(nb, "with chat.stream(")
    # undo() right after reset() brings the conversation back
    assert shown(nb, "chat.reset()") == "after reset: 0 messages\nafter undo:  2 messages\n"
    # resume without a restart: the conversation in memory is the saved one
    assert shown(nb, "%claude resume") == (
        f"Nothing to resume: the conversation is already the one in {AUTOSAVE}.\n"
    )
    # the question after the resume was sent with every earlier message
    assert "It received 5 messages" in shown(nb, "%%claude\nWhat is my name")
    # the autosave holds the whole conversation, the last question included
    saved = json.loads((workdirs[mode] / AUTOSAVE).read_text(encoding="utf-8"))
    assert [m["role"] for m in saved["messages"]] == ["user", "assistant"] * 3
    assert saved["messages"][4]["content"] == "What is my name, and what do I teach?"
    assert KEY not in json.dumps(saved)


@pytest.mark.kernel
@pytest.mark.parametrize("mode", MODES)
def test_multi_turn_resume_after_a_restart(
    run: Callable[[str, str], Run],
    monkeypatch: pytest.MonkeyPatch,
    fake_server: tuple[FakeAnthropic, FakeServer],
    workdirs: dict[str, Path],
    mode: str,
) -> None:
    """What notebook 02 tells a student to do: restart the kernel, run the setup cell and the
    next one. A new kernel in the same folder brings the autosaved conversation back."""
    nb = run("02-multi-turn", mode).nb
    restart = next(
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "markdown" and "Restart the kernel" in c.source
    )
    assert "run the setup cell and the next one" in nb.cells[restart].source
    resume, history = [c for c in nb.cells[restart:] if c.cell_type == "code"][:2]
    assert (resume.source, history.source) == ("%claude resume", "%claude history")
    again = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c.source) for c in (cell(nb, "# Setup:"), resume, history)]
    )
    path = workdirs[mode] / "02-after-a-restart.ipynb"
    nbformat.write(again, str(path))
    kernel_env(monkeypatch, mode, fake_server[1], workdirs)
    after = execute(path, timeout=120)
    assert check_outputs(after, secrets=(KEY,)) == []
    setup, resumed, history = ("\n".join(output_text(o) for o in c.outputs) for c in after.cells)
    assert "this notebook's conversation (saved " in setup
    assert f"is in {AUTOSAVE}: %claude resume brings it back." in setup
    assert resumed.startswith(f"Resumed 3 turn(s) from {AUTOSAVE}."), resumed
    assert "Earlier conversations kept beside it: " in resumed  # the reset in section 5 kept one
    assert "**You:** My name is Ada" in history
    assert "**You:** What is my name, and what do I teach?" in history


@pytest.mark.kernel
@pytest.mark.parametrize("mode", MODES)
def test_prefill(run: Callable[[str, str], Run], mode: str) -> None:
    nb = run("03-prefill", mode).nb
    magic = cell(
        nb, '%%claude -m claude-haiku-4-5 --max-tokens 1 --prefill "The answer is (" --once -o'
    )
    assert "The answer is (C" in magic.outputs[-1]["data"]["text/markdown"]
    assert shown(nb, "# `-o answer`") == "('C', 'max_tokens', 1)"
    assert "'content': 'The answer is (C'" in shown(nb, "import nbclaude\n\nquestion")
    assert "| prefill |" in shown(nb, "%claude models")
    refusal = shown(nb, "try:\n    quiz.send(")
    assert "claude-sonnet-5-5 does not accept prefill" in refusal
    assert "claude-haiku-4-5" in refusal  # ... and names a model that does
    assert "'offline': True" in shown(nb, "product.data")
    # a question the fake cannot check: "?", visibly not an answer (never a confident letter)
    hamlet = cell(
        nb, '%%claude -m claude-haiku-4-5 --max-tokens 1 --prefill "The answer is (" --once\nWho'
    )
    final = hamlet.outputs[-1]["data"]["text/markdown"]
    assert final.startswith("The answer is (?\n") and "1 out tokens" in final, final
    # the system-prompt way, offline: the first words of the fake's reply, cut at five tokens
    letter = shown(nb, "%%claude --once --max-tokens 5")
    assert letter.startswith("offline fake") and "5 out tokens" in letter, letter
    assert "max\\_tokens" in letter


@pytest.mark.kernel
@pytest.mark.parametrize("mode", MODES)
def test_vision(run: Callable[[str, str], Run], mode: str) -> None:
    nb = run("04-vision", mode).nb
    assert "Image 1: image/jpeg, 480×320 px" in shown(nb, "import nbclaude\n\nsession")  # noqa: RUF001
    assert "'type': 'url'" in shown(nb, "ant_url = ")
    by_url = shown(nb, "%%claude -i https://")
    assert "Camponotus" in by_url and "(not fetched)" in by_url
    thumbnail = cell(nb, "shapes = nbclaude.image(").outputs[0]["data"]
    assert "image/png" in thumbnail and "400×200" in thumbnail["text/plain"]  # noqa: RUF001
    # the one-line caption under the thumbnail: type, pixels, base64 size, tokens
    assert re.search(
        r'<img src="data:image/png;base64,[^"]+" alt="[^"]+"><figcaption>'
        r"image/png 400×200, [\d.]+ KB base64, ~\d+ tokens</figcaption>",  # noqa: RUF001
        thumbnail["text/html"],
    )
    assert "300×200 px" in shown(nb, "%%claude\nWhich country's flag")  # noqa: RUF001
    assert "256×256 px" in shown(nb, "%%claude\nHow many squares")  # noqa: RUF001
    assert "Image 6: image/png" in shown(nb, "%%claude\nDescribe the trend")
    assert "sent as 1238 x 928 pixels, about 1530 tokens" in shown(nb, "height, width = ")
    assert "sent as 512 x 384 pixels" in shown(nb, "small = nbclaude.image(")


def test_vision_chart_has_one_tick_per_year() -> None:
    """The chart of notebook 04 labels whole years only (matplotlib alone adds 2020.5, ...)."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    source = cell(read("04-vision"), "import matplotlib.pyplot as plt").source
    scope: dict[str, Any] = {}
    try:
        exec(source.replace("plt.show()", ""), scope)  # the notebook's own code
        ticks = list(scope["ax"].get_xticks())
    finally:
        plt.close("all")
    assert ticks == scope["years"] == [2020, 2021, 2022, 2023, 2024]


@pytest.mark.kernel
@pytest.mark.parametrize("mode", MODES)
def test_chat_widget(run: Callable[[str, str], Run], mode: str) -> None:
    nb = run("05-chat-widget", mode).nb
    for start in ("import nbclaude\n\nchat = ", "%claude widget", "tutor = nbclaude.Session("):
        views = [o for o in cell(nb, start).outputs if WIDGET_VIEW in o.get("data", {})]
        assert len(views) == 1, f"{start!r} shows no widget"
    assert shown(nb, "chat.session is nbclaude.get_session()") == "(True, 2)"
    image = shown(nb, "chat.session.send(nbclaude.image(")
    assert "Image 1: image/png, 400×200 px" in image  # noqa: RUF001
    stopped = shown(nb, "session = chat.session")
    assert "interrupted: True | stop_reason: None" in stopped
    assert shown(nb, 'chat.session.model = "claude-haiku-4-5"') == "'claude-haiku-4-5'"
    # money: what the toolbar shows, as plain decimals, and the budget's spent + left
    cost = float(re.search(r"\*\*cost\*\* \\\$([\d.]+)", shown(nb, "%claude")).group(1))
    money = shown(nb, "chat.session.budget = 0.50")
    spent, left = (float(x) for x in re.findall(r"\$(\d+\.\d{4})", money))
    assert money.startswith(f"spent ${spent:.4f} of $0.50; left ") and "(True, 0.5)" in money
    assert cost > 0 and spent == pytest.approx(cost, rel=0.05)
    assert spent + left == pytest.approx(0.50)
    # Clear empties the chat; Undo right after brings all of it back
    assert shown(nb, "before = len(chat.session.messages)") == (
        "after Clear: 0 messages\nafter Undo: 8 messages, as before: 8\n"
    )
    # a tool call waits for an answer (where it is asked); nothing waits before or after
    assert shown(nb, "chat.session.waiting_for is None") == "True"
    asked = shown(nb, "def look_then_run(")
    assert asked.startswith("waiting: get_weather({'city': 'offline fake'}), asked in this cell\n")
    assert "get_weather — done" in asked and "returned: “18 °C and sunny”" in asked
    assert shown(nb, "chat.session.tools = []") == "True"
    # the API asks to wait once: the retry line, then the answer
    retried = shown(nb, 'patient.send("Hello, are you there?")')
    assert retried.startswith("Rate limited (429) — retrying in 1 s (attempt 2 of 3)…\n")
    assert "Last user message: “Hello, are you there?”" in retried
    # the saved copy under the first widget holds the whole conversation, as close() left it
    count = int(
        re.fullmatch(
            r"the shared conversation: (\d+) messages\n", shown(nb, 'chat.session.send("Thank')
        ).group(1)
    )
    copies = [
        o
        for o in cell(nb, "import nbclaude\n\nchat = ").outputs
        if "nbclaude" in o.get("metadata", {})
    ]
    assert len(copies) == 1
    saved = copies[0].metadata["nbclaude"]
    assert saved["kind"] == "widget" and saved["shared"] is True and len(saved["messages"]) == count
    assert saved["messages"][-2] == {"role": "user", "content": "Thank you! That is all for today."}
    assert "Thank you! That is all for today." in copies[0].data["text/html"]


@pytest.mark.kernel
@pytest.mark.parametrize("mode", MODES)
def test_chat_widget_saved_notebook_keeps_the_chat(
    run: Callable[[str, str], Run], tmp_path: Path, mode: str
) -> None:
    """What notebook 05 tells a student about handing it in: nbconvert's HTML shows the chat,
    and %claude resume (Session.from_notebook) rebuilds the whole conversation from the file."""
    exporter = pytest.importorskip("nbconvert").HTMLExporter
    nb = run("05-chat-widget", mode).nb
    printed = shown(nb, 'chat.session.send("Thank')
    count = int(re.fullmatch(r"the shared conversation: (\d+) messages\n", printed).group(1))
    path = tmp_path / "05-chat-widget.ipynb"
    nbformat.write(nb, str(path))
    html, _ = exporter().from_notebook_node(nbformat.read(str(path), as_version=4))
    assert "saved copy of a ChatWidget" in html
    assert "Thank you! That is all for today." in html and "Hello, are you there?" in html
    with pytest.warns(UserWarning, match="came back as thumbnail"):
        rebuilt = nbclaude.Session.from_notebook(path)
    assert len(rebuilt.messages) == count
    assert rebuilt.messages[0]["content"].startswith("Hello, Claude. In one sentence")
    assert rebuilt.messages[-2]["content"] == "Thank you! That is all for today."


@pytest.mark.kernel
@pytest.mark.parametrize("mode", MODES)
def test_tools_and_json(run: Callable[[str, str], Run], mode: str) -> None:
    nb = run("06-tools-and-json", mode).nb
    assert "not valid JSON" in shown(nb, "%%claude -f json -o planets")
    assert '"moons": 1' in shown(nb, "%%claude --schema Planet")
    assert shown(nb, "planet.data") == "Planet(name='offline fake', moons=1)"
    auto = shown(nb, "%%claude --tools get_weather --auto-approve\nWhat is the weather")
    assert "get_weather — done" in auto and "returned: “18 °C and sunny”" in auto
    asked = shown(nb, "import nbclaude\n\nsession = ")
    assert "Claude asks to run get_weather({'city': 'offline fake'})" in asked
    assert "get_weather — done" in asked
    assert "('tool_use', ['text', 'tool_use'])" in shown(nb, "client = session.client")
    by_hand = shown(nb, "calls = [block for block")
    assert "Claude asks for get_weather with {'city': 'offline fake'}" in by_hand
    assert "18 °C and sunny" in by_hand
    assert "user: tool_result" in shown(nb, "for message in messages:")
    # a tool offered but not needed: Claude (here the fake) answers in text and calls nothing
    sky = shown(nb, "%%claude --tools get_weather --auto-approve --once\nWhat color is the sky?")
    assert "`get_weather` (none called: the message does not seem to need them)" in sky
    assert "get_weather — done" not in sky and "end\\_turn" in sky
    # citations as numbered footnotes, and where they point
    cited = shown(nb, "%%claude --once -o cited")
    assert "Ants have six legs.&#91;1&#93;" in cited
    assert "**Sources**\n\n1. “Ants have six legs.” — Biology notes" in cited
    where = shown(nb, '[block["citations"] for block')
    assert "'type': 'char_location'" in where and "'document_title': 'Biology notes'" in where
    assert "'start_char_index': 0" in where and "'end_char_index': 20" in where
    # caching: the first turn writes, the second reads and costs less; none without cache=True,
    # none on a model whose minimum the prompt does not reach
    assert int(shown(nb, "tutor = nbclaude.Session(")) > 512  # over Sonnet 5.5's minimum
    cached = turns_of(shown(nb, "def two_turns("))
    plain = turns_of(shown(nb, "two_turns(nbclaude.Session(system=tutor.system"))
    haiku = turns_of(
        shown(nb, 'two_turns(\n    nbclaude.Session(\n        cache=True, model="claude-haiku')
    )
    (written1, read1, cost1), (written2, read2, cost2) = cached
    assert written1 > 512 and read1 == 0
    assert read2 == written1 and 0 < written2 < written1 and cost2 < cost1
    assert all(w == r == 0 for w, r, _ in plain + haiku)
    assert plain[0][2] < cost1  # writing the cache costs more than the plain input ...
    assert cost1 + cost2 < plain[0][2] + plain[1][2]  # ... and two turns already cost less
    # the batch shows itself as a table; .texts is the plain list
    batch = cell(nb, "grader = nbclaude.Session(")
    table = next(o["data"]["text/html"] for o in batch.outputs if "text/html" in o.get("data", {}))
    assert "3 requests: 3 succeeded" in table and table.count("<td>succeeded</td>") == 3
    assert "<th>status</th><th>reply</th>" in table
    assert "Is this right or wrong? Ants are mammals." in table  # the fake quotes the prompt
    assert shown(nb, "sum(text.strip()") == "0"  # the fake grades nothing right


@pytest.mark.kernel
@pytest.mark.parametrize("mode", MODES)
def test_classroom(run: Callable[[str, str], Run], workdirs: dict[str, Path], mode: str) -> None:
    nb = run("07-classroom", mode).nb
    # record and replay are taught, with the commands and the cassettes that ship
    lesson = "\n".join("".join(c.source) for c in nb.cells if c.cell_type == "markdown")
    for words in ("NBCLAUDE_RECORD=lesson.jsonl", "NBCLAUDE_REPLAY=lesson.jsonl",
                  "%claude replay lesson.jsonl", "notebooks/cassettes/", "--check"):  # fmt: skip
        assert words in lesson, words
    # the policy, as %claude policy shows it (set before %load_ext, as a hub does)
    policy = shown(nb, "%claude policy")
    assert re.match(r"\*\*Course policy\*\* /\S+/nbclaude-course-\S+/policy\.toml\n", policy)
    for row in (
        "| `enabled` | yes |",
        "| `models` | claude-haiku-4-5 |",
        "| `max_tokens` | 512 |",
        "| `budget` | \\$1.00 |",
        "| `tools` | no |",
        "| `message` | Questions about the AI rules of this course? Ask Ms. Rivera. |",
    ):
        assert row in policy, row
    assert re.search(r"\| `log` \| /\S+/nbclaude-course-\S+/class-log\.jsonl \|", policy)
    # the policy's system text is sent first; the session starts on an allowed model, capped
    assert "System prompt: “You are a tutor for CS 101." in shown(nb, "%%claude\nWhat is a hint?")
    assert shown(nb, "import nbclaude\n\nstudent = ") == "('claude-haiku-4-5', 512, True)"
    # each cell tagged raises-exception fails, with one clean line (no traceback frames)
    tagged = [c for c in nb.cells if "raises-exception" in c.metadata.get("tags", [])]
    assert [c.source.split("\n")[0] for c in tagged] == [
        "%%claude -m claude-sonnet-5-5",
        "%%claude",
    ]
    errors = [[o for o in c.outputs if o.output_type == "error"] for c in tagged]
    assert [[e.ename for e in found] for found in errors] == [
        ["PolicyError"],
        ["BudgetExceededError"],
    ]
    assert all(len(found[0].traceback) == 1 for found in errors)
    sonnet, essay = (found[0].evalue for found in errors)
    assert "only these models: claude-haiku-4-5 (not claude-sonnet-5-5)" in sonnet
    assert "rule 'models'; nothing was sent.) Questions about the AI rules" in sonnet
    assert "budget set by %config ClaudeMagics.budget" in essay and "Nothing was sent." in essay
    # refusals in Python: the rule and the file; a bad file; an exam
    tools = shown(nb, "def add(")
    assert tools.startswith("Tools are off in this course: ask without them. (Refused by")
    assert tools.endswith("\nrule: tools | file: policy.toml\n")
    assert "broken.toml has an unknown key 'modles'" in shown(nb, 'broken = course / "broken.toml"')
    exam = shown(nb, 'exam = course / "exam.toml"')
    assert exam.startswith("Claude is switched off for this course. (Refused by the course policy")
    assert "exam.toml, rule 'enabled'; nothing was sent.) Exam today: no AI. Good luck!" in exam
    # a budget: a short answer fits, the essay is refused; spent + left is the budget
    budget = shown(nb, "tutor = nbclaude.Session(budget=0.002")
    spent, left = (
        float(x)
        for x in re.match(r"spent \$([\d.]+) of \$0\.002; left \$([\d.]+)\n", budget).groups()
    )
    assert spent > 0 and spent + left == pytest.approx(0.002)
    assert "but only $0.0015 is left of the $0.002 budget set by Session(budget=...)" in budget
    needed = float(re.search(r"needed \$([\d.]+)\n$", budget).group(1))
    assert needed > left
    assert shown(nb, "len(tutor.messages)") == "(2, True)"
    status = shown(nb, "%config ClaudeMagics.budget = 0.001")
    assert re.search(r"\*\*budget\*\* \S*0\.00061 spent of \S*0\.001 · \S*0\.00039 left$", status)
    # NBCLAUDE_BUDGET and the policy cap what a session asks for; the lowest applies
    assert shown(nb, "%config ClaudeMagics.budget = 0.50") == "(0.5, 0.25)"
    # the instructor's log, read back with pandas: the two turns sent, none of the refused ones
    assert shown(nb, "len(log)") == "(2, ['What is a hint?', 'What is an ant?'])"
    assert re.search(r"claude-haiku-4-5 +2 +0\.00", shown(nb, 'log.groupby("model")'))
    # the notebook cleans up: its files were in a temporary folder, now gone
    assert shown(nb, "import shutil") == "removed: True\n"
    made = [p for p in workdirs[mode].rglob("*") if "cassettes" not in p.parts]  # not shipped
    left_behind = [p.name for p in made if p.suffix in {".toml", ".jsonl"}]
    assert left_behind == []


def turns_of(printed: str) -> list[tuple[int, int, float]]:
    """(written, read, cost) of each line ``two_turns`` printed in notebook 06."""
    found = re.findall(r"written +([\d,]+) · read +([\d,]+) · \$([\d.]+) · ", printed)
    assert len(found) == 2, printed
    return [(int(w.replace(",", "")), int(r.replace(",", "")), float(c)) for w, r, c in found]


@pytest.mark.kernel
def test_runs_are_quick(run: Callable[[str, str], Run]) -> None:
    """All twelve runs (memoised above) stay within the CI budget."""
    seconds = {f"{n} {m}": round(run(n, m).seconds, 1) for n in NAMES for m in MODES}
    print("notebook run times (s):", seconds)
    assert sum(seconds.values()) < 100, seconds

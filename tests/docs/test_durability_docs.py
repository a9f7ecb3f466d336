"""The docs of issue 12 say what the code does: README's "Your work is kept", the
architecture's "Durability", the benchmark's budget."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else None]


def test_readme_says_where_autosaves_go_how_to_resume_and_what_a_notebook_holds() -> None:
    kept = section(README, "## Your work is kept")
    for said in (
        ".nbclaude/<notebook name>.json",
        "%claude resume",
        "%claude resume PATH",
        'ClaudeMagics.autosave = ""',
        "NBCLAUDE_AUTOSAVE=0",
        "Session.from_notebook",
        "thumbnails",
        "metadata",
        "%claude undo",
    ):
        assert said in kept, said


def test_the_autosave_defaults_in_the_readme_are_the_codes() -> None:
    from nbclaude._session.autosave import OFF, autosave_file

    assert "0" in OFF
    source = (ROOT / "nbclaude" / "_session" / "autosave.py").read_text(encoding="utf-8")
    assert '"NBCLAUDE_AUTOSAVE"' in source
    assert autosave_file(Path("/n/lesson.ipynb")).as_posix() == "/n/.nbclaude/lesson.json"


def test_architecture_has_durability_naming_real_modules() -> None:
    durability = section(ARCHITECTURE, "## Durability")
    for module in set(re.findall(r"`(_session/\w+\.py)`", durability)):
        assert (ROOT / "nbclaude" / module).is_file(), module
    for name in ("persist", "validate", "autosave", "transcript_format", "notebook", "resume"):
        assert f"_session/{name}.py" in durability, name


def test_the_autosave_budget_is_the_benchmarks() -> None:
    budgets = section(ARCHITECTURE, "## Performance budgets")
    [row] = [line for line in budgets.splitlines() if line.startswith("| `autosave.py`")]
    script = (ROOT / "benchmarks" / "autosave.py").read_text(encoding="utf-8")
    [budget] = re.findall(r"^BUDGET = ([0-9.]+)$", script, re.M)
    assert f"≤ {budget}x" in row

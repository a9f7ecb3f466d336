"""Classroom controls in real kernels (nbclient), set through the environment as a hub would:
the course policy and the budget obeyed by %%claude, shown by %claude policy, refusals as one
clean line, a bad policy file as one clean line at %load_ext, and the instructor's log read
back with pandas."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ipython.notebook_support import cell_text as shown
from ipython.notebook_support import write_notebook

from nbclaude.testing.notebook import execute

pytestmark = pytest.mark.kernel
pd = pytest.importorskip("pandas")

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

POLICY = """\
models = ["claude-haiku-4-5"]
max_tokens = 300
system = "You are a tutor. Give hints, not answers."
tools = false
log = "{log}"
message = "Questions about these rules? Ask Ms. Rivera."
"""


def rendered(text: str) -> str:
    """Markdown as it reads: escapes (``\\$``, ``&#92;``, ``\\_``) removed."""
    return text.replace("&#92;", "").replace("\\", "")


def one_clean_line(cell: Any, name: str) -> str:
    """The cell failed with exactly one line named ``name`` (no traceback)."""
    [error] = [o for o in cell.outputs if o.output_type == "error"]
    assert error.ename == name, (error.ename, error.evalue)
    assert len(error.traceback) == 1, error.traceback
    line = _ANSI.sub("", error.traceback[0])
    assert "\n" not in line and line.startswith(f"{name}: ")
    return line


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """What the hub sets for every student's kernel (the offline fake stands in for the API)."""
    log = tmp_path / "class-log.jsonl"
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY.format(log=log), encoding="utf-8")
    monkeypatch.setenv("NBCLAUDE_POLICY", str(policy))
    monkeypatch.setenv("NBCLAUDE_BUDGET", "0.05")
    monkeypatch.setenv("NBCLAUDE_OFFLINE", "1")
    monkeypatch.setenv("JUPYTERHUB_USER", "ada")
    monkeypatch.setenv("JPY_SESSION_NAME", "week1/ants.ipynb")
    return policy


def test_a_class_notebook_obeys_the_hubs_policy_and_budget(hub: Path, tmp_path: Path) -> None:
    nb = execute(
        write_notebook(
            tmp_path / "ants.ipynb",
            *[
                ("%load_ext nbclaude", False),
                ("%claude policy", False),
                ("%%claude\nHow many legs has an ant?", False),
                ("%%claude -m claude-opus-5\nAnd a spider?", True),
                ("%%claude --max-tokens 5000 -o big\nAnd a bee?", False),
                ("big.message['usage']['output_tokens'] <= 300", False),
                ("import nbclaude\nnbclaude.get_session().budget_left < 0.05", False),
                ("%config ClaudeMagics.budget = 0.0001\n", False),
                ("%%claude\nAnd a fly?", True),
                ("%claude policy", False),
            ],
        ),
        timeout=120,
    )
    cells = nb.cells
    table = rendered(shown(cells[1]))
    assert str(hub) in table
    for rule, value in [("models", "claude-haiku-4-5"), ("max_tokens", "300"), ("tools", "no")]:
        assert re.search(rf"\| `{rule}` \| {re.escape(value)} \|", table), (rule, table)
    assert "budget" in table and "$0.05" in table and "left" in table
    answer = shown(cells[2])
    assert "offline fake" in answer and "claude-haiku-4-5" in answer  # the class's model
    refused = one_clean_line(cells[3], "PolicyError")
    assert "allows only these models: claude-haiku-4-5" in refused
    assert "Ask Ms. Rivera." in refused and str(hub) in refused
    assert "True" in shown(cells[5]) and "True" in shown(cells[6])
    over = one_clean_line(cells[8], "BudgetExceededError")
    assert "is left of the $0.0001 budget" in over and "Nothing was sent" in over
    assert "spent of $0.0001 · $0.00 left" in rendered(shown(cells[9]))

    log = pd.read_json(tmp_path / "class-log.jsonl", lines=True)
    assert list(log["prompt"]) == ["How many legs has an ant?", "And a bee?"]  # no refusals
    assert set(log["user"]) == {"ada"} and set(log["notebook"]) == {"week1/ants.ipynb"}
    assert set(log["model"]) == {"claude-haiku-4-5"} and (log["cost"] > 0).all()
    assert all(isinstance(r, str) and r for r in log["reply"])


def test_a_bad_policy_file_is_one_clean_line_at_load_ext(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("enabled = true\nmodles = ['claude-haiku-4-5']\n", encoding="utf-8")
    monkeypatch.setenv("NBCLAUDE_POLICY", str(policy))
    monkeypatch.setenv("NBCLAUDE_OFFLINE", "1")
    nb = execute(write_notebook(tmp_path / "lab.ipynb", ("%load_ext nbclaude", True)), timeout=60)
    line = one_clean_line(nb.cells[0], "PolicyError")
    assert str(policy) in line and "unknown key 'modles'" in line and "NBCLAUDE_POLICY" in line


def test_switched_off_for_an_exam(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("enabled = false\nmessage = 'Exam today: no AI.'\n", encoding="utf-8")
    monkeypatch.setenv("NBCLAUDE_POLICY", str(policy))
    monkeypatch.setenv("NBCLAUDE_OFFLINE", "1")
    nb = execute(
        write_notebook(
            tmp_path / "exam.ipynb",
            *[
                ("%load_ext nbclaude", False),
                ("%%claude\nSolve question 3.", True),
                ("%claude tokens How long is this", True),
            ],
        ),
        timeout=60,
    )
    for cell in nb.cells[1:]:
        line = one_clean_line(cell, "PolicyError")
        assert "switched off" in line and "Exam today: no AI." in line

"""%claude policy, the budget line that %claude and %claude usage show, and the
ClaudeMagics.budget trait, in an IPython InteractiveShell."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import KEY
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nbclaude
import nbclaude._session.shared as session_module
from nbclaude import BudgetExceededError, Client, Session
from nbclaude._ipython.commands import _budget_line
from nbclaude.testing import FakeAnthropic, Text


@pytest.fixture(autouse=True)
def _no_class_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NBCLAUDE_BUDGET", raising=False)
    monkeypatch.delenv("NBCLAUDE_POLICY", raising=False)


@pytest.fixture
def ip(monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    monkeypatch.setattr(session_module, "_default", None)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "nbclaude")
    yield shell
    shell.run_line_magic("unload_ext", "nbclaude")


def shown(ip: InteractiveShell, source: str) -> str:
    with capture_output() as cap:
        result = ip.run_cell(source)
    assert result.success, result.error_in_exec
    md = [str(o.data.get("text/markdown", "")) for o in cap.outputs]
    return (cap.stdout + "\n".join(md)).replace("&#92;", "").replace("\\", "")


def test_the_budget_line() -> None:
    fake = FakeAnthropic([Text("ok", usage={"input_tokens": 1000, "output_tokens": 100})])
    s = Session(model="claude-haiku-4-5", client=Client(api_key=KEY, transport=fake))
    assert _budget_line(s) == ""  # no budget: nothing to show
    s.budget = 2.0
    s.send("Hi", max_tokens=100)
    assert _budget_line(s, markdown=False) == "budget $0.0015 spent of $2.00 · $2.00 left"
    assert _budget_line(s).startswith("**budget** ")


def test_policy_command_without_a_policy(ip: InteractiveShell) -> None:
    assert "No course policy: NBCLAUDE_POLICY is not set." in shown(ip, "%claude policy")
    nbclaude.get_session().budget = 1.5
    assert "spent of $1.50" in shown(ip, "%claude policy")


def test_policy_command_shows_every_rule(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        "models = ['claude-haiku-4-5']\nbudget = 0.5\nthinking = false\n"
        'system = "Give hints,\\nnot answers."\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("NBCLAUDE_POLICY", str(policy))
    monkeypatch.setattr(session_module, "_default", None)
    text = shown(ip, "%claude policy")
    assert f"Course policy** {policy}" in text
    for row in [
        "| `enabled` | yes |",
        "| `models` | claude-haiku-4-5 |",
        "| `max_tokens` | — |",
        "| `budget` | $0.50 |",
        "| `system` | Give hints, not answers. |",
        "| `thinking` | no |",
        "| `log` | — |",
    ]:
        assert row in text, row
    assert f"spent of $0.50 · $0.50 left (course policy {policy})" in text


def test_the_budget_setting(ip: InteractiveShell) -> None:
    ip.run_line_magic("config", "ClaudeMagics.budget = 2.0")
    assert nbclaude.get_session().budget == 2.0
    ip.run_line_magic("config", "ClaudeMagics.budget = 0")  # 0 keeps the session's
    assert nbclaude.get_session().budget == 2.0


def test_a_policy_set_after_the_session_was_made_is_named(
    ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """NBCLAUDE_POLICY set after %load_ext: the variable is set, but the shared session was
    made before it (it said "NBCLAUDE_POLICY is not set", which was false)."""
    nbclaude.get_session()
    policy = tmp_path / "policy.toml"
    policy.write_text("models = ['claude-haiku-4-5']\n", encoding="utf-8")
    monkeypatch.setenv("NBCLAUDE_POLICY", str(policy))
    text = shown(ip, "%claude policy")
    assert "not set" not in text
    assert f"NBCLAUDE_POLICY is {policy}, but this session was made before it was set" in text
    assert "restart the kernel" in text


def test_a_budget_set_with_config_says_so_when_it_refuses(ip: InteractiveShell) -> None:
    """The refusal named Session(budget=...) for a budget set with %config."""
    ip.run_line_magic("config", "ClaudeMagics.budget = 0.0001")
    s = nbclaude.get_session()
    s.client = Client(api_key=KEY, transport=FakeAnthropic())
    s.model = "claude-haiku-4-5"
    with pytest.raises(BudgetExceededError, match=r"budget set by %config ClaudeMagics\.budget"):
        s.send("Write a long essay about ants.", max_tokens=1000)
    assert s.messages == []

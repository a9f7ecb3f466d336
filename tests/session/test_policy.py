"""The course policy ($NBCLAUDE_POLICY): read once when a session is made, enforced by the
request builder for every way a session sends (send, stream, count_tokens, batch, the widget),
before anything is sent."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY

from nbclaude import Client, PolicyError, Session
from nbclaude._session.policy import KEYS, read_policy
from nbclaude.testing import FakeAnthropic, Text

HAIKU = "claude-haiku-4-5"

FULL = """\
enabled = true
models = ["claude-haiku-4-5", "claude-sonnet-5-5"]
max_tokens = 512
budget = 2.0
system = "You are a tutor for CS 101. Give hints, not full solutions."
tools = false
thinking = false
batches = false
log = "class-log.jsonl"
message = "Questions about these rules? Ask Ms. Rivera."
"""


@pytest.fixture(autouse=True)
def _no_class_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NBCLAUDE_BUDGET", raising=False)
    monkeypatch.delenv("NBCLAUDE_POLICY", raising=False)


def with_policy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("NBCLAUDE_POLICY", str(path))
    return path


def make(*script: Any, **kwargs: Any) -> tuple[Session, FakeAnthropic]:
    fake = FakeAnthropic(list(script), api_key=KEY)
    kwargs.setdefault("model", HAIKU)
    return Session(client=Client(api_key=KEY, transport=fake, max_retries=0), **kwargs), fake


def posts(fake: FakeAnthropic) -> list[dict[str, Any]]:
    return [r.json for r in fake.requests if r.method == "POST" and r.path == "/v1/messages"]


# -- the file --------------------------------------------------------------------------------------


def test_the_full_example_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = with_policy(monkeypatch, tmp_path, FULL)
    p = read_policy(path)
    assert (p.enabled, p.models, p.max_tokens, p.budget) == (
        True, ("claude-haiku-4-5", "claude-sonnet-5-5"), 512, 2.0
    )  # fmt: skip
    assert p.system is not None and p.system.startswith("You are a tutor")
    assert (p.tools, p.thinking, p.batches) == (False, False, False)
    assert p.log == str(tmp_path / "class-log.jsonl")  # relative to the policy file
    assert p.message == "Questions about these rules? Ask Ms. Rivera."
    assert [k for k, _ in p.rows()] == list(KEYS)
    s = make()[0]
    assert s.policy == p and s.budget == 2.0 and s.max_tokens == 512


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("modles = ['claude-haiku-4-5']\n", "unknown key 'modles'"),
        ("enabled = 'no'\n", "enabled must be true or false"),
        ("models = []\n", "models must be a list of model names"),
        ("max_tokens = 0\n", "max_tokens must be a whole number >= 1"),
        ("budget = -2\n", "budget must be a number of US dollars >= 0"),
        ("system = 3\n", "system must be text"),
        ("log = '/no/such/folder/log.jsonl'\n", "does not exist"),
        ("models = [claude\n", "is not valid TOML"),
    ],
)
def test_a_bad_policy_is_one_clear_error_when_the_session_is_made(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str, said: str
) -> None:
    path = with_policy(monkeypatch, tmp_path, text)
    with pytest.raises(PolicyError) as info:
        Session()
    e = info.value
    assert said in str(e) and str(path) in str(e)
    assert (e.rule, e.path) == ("file", str(path))
    assert "NBCLAUDE_POLICY" in e.hint


def test_a_missing_policy_file_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NBCLAUDE_POLICY", "/no/such/policy.toml")
    with pytest.raises(PolicyError, match="cannot be read"):
        Session()


def test_an_unwritable_log_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "log.jsonl").mkdir()  # a folder where the file should be
    with_policy(monkeypatch, tmp_path, f"log = '{folder / 'log.jsonl'}'\n")
    with pytest.raises(PolicyError, match="cannot be written"):
        Session()


def test_the_log_path_may_name_the_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JUPYTERHUB_USER", "ada")
    path = with_policy(monkeypatch, tmp_path, "log = 'logs-{user}.jsonl'\n")
    assert read_policy(path).log == str(tmp_path / "logs-ada.jsonl")


# -- the rules, in every way a session sends --------------------------------------------------------


def test_switched_off_refuses_everything_before_any_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = with_policy(monkeypatch, tmp_path, "enabled = false\nmessage = 'Exam today: no AI.'\n")
    s, fake = make()
    attempts = [
        lambda: s.send("Hi"),
        lambda: s.stream("Hi").__enter__(),
        lambda: s.count_tokens("Hi"),
        lambda: s.batch(["Hi"], wait=False),
    ]
    for attempt in attempts:
        with pytest.raises(PolicyError) as info:
            attempt()
        e = info.value
        assert e.rule == "enabled" and e.path == str(path)
        assert "switched off" in str(e) and "rule 'enabled'" in str(e) and str(path) in str(e)
        assert e.hint == "Exam today: no AI." and "Exam today: no AI." in str(e)
    assert fake.requests == [] and s.messages == []


def test_only_the_allowed_models(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with_policy(monkeypatch, tmp_path, "models = ['claude-haiku-4-5']\n")
    s, fake = make(Text("ok"), Text("ok"))
    s.send("Hi")
    s.send("Hi", model="claude-haiku-4-5-20251001")  # the dated id of an allowed alias
    with pytest.raises(PolicyError, match=r"allows only these models: claude-haiku-4-5 \(not "
                       r"claude-opus-5\)") as info:  # fmt: skip
        s.send("Hi", model="claude-opus-5")
    assert info.value.rule == "models"
    s.model = "claude-sonnet-5-5"
    with pytest.raises(PolicyError, match="models"):
        s.count_tokens("Hi")
    assert len(posts(fake)) == 2


def test_a_new_session_starts_on_an_allowed_model(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with_policy(monkeypatch, tmp_path, "models = ['claude-haiku-4-5', 'claude-opus-5']\n")
    assert Session().model == "claude-haiku-4-5"  # the default, claude-sonnet-5-5, is not
    monkeypatch.setenv("NBCLAUDE_MODEL", "claude-opus-5")
    assert Session().model == "claude-opus-5"  # an allowed default stays
    assert Session(model="claude-sonnet-5-5").model == "claude-sonnet-5-5"  # refused at send


def test_max_tokens_is_capped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with_policy(monkeypatch, tmp_path, "max_tokens = 256\n")
    s, fake = make(Text("a"), Text("b"), max_tokens=4096)
    assert s.max_tokens == 256  # the default is lowered, so status shows the truth
    s.send("Hi")
    s.send("Hi", max_tokens=10_000)
    assert [b["max_tokens"] for b in posts(fake)] == [256, 256]


def test_a_thinking_budget_that_cannot_fit_under_the_cap_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with_policy(monkeypatch, tmp_path, "max_tokens = 2000\n")
    s, fake = make(Text("ok"))
    with pytest.raises(PolicyError, match="thinking budget of 4,000") as info:
        s.send("Think", thinking=4000)
    assert info.value.rule == "max_tokens" and fake.requests == []


def test_tools_and_thinking_can_be_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with_policy(monkeypatch, tmp_path, "tools = false\nthinking = false\n")

    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    s, fake = make(Text("ok"))
    with pytest.raises(PolicyError, match="Tools are off") as info:
        s.send("1+2?", tools=[add])
    assert info.value.rule == "tools"
    s.tools.append(add)  # the session's own tools count too
    with pytest.raises(PolicyError, match="Tools are off"):
        s.send("1+2?")
    s.tools.clear()
    with pytest.raises(PolicyError, match="thinking is off") as info:
        s.send("Think", thinking=2048, max_tokens=4096)
    assert info.value.rule == "thinking"
    s.send("Hi", thinking={"type": "disabled"})  # asking for none is fine
    assert len(posts(fake)) == 1


def test_batches_can_be_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with_policy(monkeypatch, tmp_path, "batches = false\n")
    s, fake = make()
    with pytest.raises(PolicyError, match="Message Batches are off") as info:
        s.batch(["a", "b"])
    assert info.value.rule == "batches" and fake.requests == []


def test_the_system_text_comes_first_in_every_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with_policy(monkeypatch, tmp_path, "system = 'Give hints, not answers.'\n")
    first = {"type": "text", "text": "Give hints, not answers."}
    s, fake = make(Text("a"), Text("b"), Text("c"), system="Answer in French.")
    s.send("Hi")
    s.send(
        "Hi", system=[{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
    )
    s.system = None
    s.send("Hi")
    systems = [b["system"] for b in posts(fake)]
    assert systems == [
        [first, {"type": "text", "text": "Answer in French."}],
        [first, {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        [first],
    ]
    assert s.system is None  # the policy's text is not the user's setting
    s.count_tokens("Hi")
    counted = [r.json for r in fake.requests if r.path == "/v1/messages/count_tokens"]
    assert counted[0]["system"] == [first]  # counts what a turn would send
    s.batch(["x"], poll_interval=0)
    [create] = [r.json for r in fake.requests if r.path == "/v1/messages/batches"]
    assert create["requests"][0]["params"]["system"] == [first]


def test_the_system_text_is_the_start_of_the_cached_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with_policy(monkeypatch, tmp_path, "system = 'Give hints, not answers.'\n")
    s, fake = make(Text("a"), cache=True, system="Answer in French.")
    s.send("Hi")
    system = posts(fake)[0]["system"]
    assert system[0] == {"type": "text", "text": "Give hints, not answers."}
    assert "cache_control" in system[-1] and "cache_control" not in system[0]


def test_the_chat_widget_obeys_the_policy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    comm = pytest.importorskip("comm")
    from comm.base_comm import BaseComm

    class QuietComm(BaseComm):  # type: ignore[misc]
        def publish_msg(self, *args: Any, **kwargs: Any) -> None:
            pass

    monkeypatch.setattr(comm, "create_comm", lambda *a, **k: QuietComm(*a, **k))
    from nbclaude._widget import protocol as proto
    from nbclaude._widget.widget import ChatWidget

    with_policy(
        monkeypatch, tmp_path, "models = ['claude-sonnet-5-5']\nmessage = 'See the syllabus.'\n"
    )
    s, fake = make()  # the session's model, claude-haiku-4-5, is not allowed
    widget = ChatWidget(session=s)
    try:
        msg = {"type": proto.SEND, "text": "Hello from the widget"}
        widget._handle_msg(
            {"content": {"data": {"method": "custom", "content": msg}}, "buffers": []}
        )
        deadline = time.monotonic() + 10
        while widget.error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert widget.error is not None
        shown = str(widget.error)
        assert "PolicyError" in shown and "claude-sonnet-5-5" in shown
        assert "See the syllabus." in shown
        assert posts(fake) == []
    finally:
        for thread in list(getattr(widget, "_workers", [])):
            if isinstance(thread, threading.Thread):
                thread.join(5)
        widget.close()

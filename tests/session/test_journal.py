"""The instructor's log: one JSON line per turn (and per batch prompt), never the key, appended
safely by many processes at once, and read back with pandas as a teacher would."""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY

from nbclaude import Client, SecretInRequestError, Session, image
from nbclaude._session.journal import MAX_TEXT, append_line
from nbclaude.testing import Cut, FakeAnthropic, HTTPError, Text, ToolUse

pd = pytest.importorskip("pandas")

HAIKU = "claude-haiku-4-5"


@pytest.fixture(autouse=True)
def _no_class_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NBCLAUDE_BUDGET", raising=False)
    monkeypatch.delenv("NBCLAUDE_POLICY", raising=False)
    monkeypatch.setenv("JUPYTERHUB_USER", "ada")
    monkeypatch.setenv("JPY_SESSION_NAME", "week1/lab.ipynb")


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    policy = tmp_path / "policy.toml"
    policy.write_text("log = 'class.jsonl'\n", encoding="utf-8")
    monkeypatch.setenv("NBCLAUDE_POLICY", str(policy))
    return tmp_path / "class.jsonl"


def make(*script: Any, **kwargs: Any) -> tuple[Session, FakeAnthropic]:
    fake = FakeAnthropic(list(script), api_key=KEY)
    kwargs.setdefault("model", HAIKU)
    return Session(client=Client(api_key=KEY, transport=fake, max_retries=0), **kwargs), fake


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_one_line_per_turn_read_back_with_pandas(log: Path) -> None:
    s, _ = make(
        Text(
            "Photosynthesis turns light into sugar.", usage={"input_tokens": 12, "output_tokens": 7}
        ),
        Text("Chlorophyll.", usage={"input_tokens": 30, "output_tokens": 3}),
    )
    s.send("What is photosynthesis?")
    with s.stream("What makes leaves green?") as st:
        "".join(st)
    df = pd.read_json(log, lines=True)
    assert list(df["prompt"]) == ["What is photosynthesis?", "What makes leaves green?"]
    assert list(df["reply"]) == ["Photosynthesis turns light into sugar.", "Chlorophyll."]
    assert set(df["user"]) == {"ada"} and set(df["notebook"]) == {"week1/lab.ipynb"}
    assert set(df["kind"]) == {"turn"} and set(df["model"]) == {HAIKU}
    assert list(df["input_tokens"]) == [12, 30] and list(df["output_tokens"]) == [7, 3]
    assert df["cost"].sum() == pytest.approx((12 + 30) * 1e-6 + (7 + 3) * 5e-6)
    assert list(df["stop_reason"]) == ["end_turn", "end_turn"]
    assert not df["interrupted"].any()
    assert pd.to_datetime(df["time"], utc=True).is_monotonic_increasing
    # how a teacher sums up a class: cost and questions per student
    per_user = df.groupby("user").agg(questions=("prompt", "count"), cost=("cost", "sum"))
    assert per_user.loc["ada", "questions"] == 2


def test_images_are_listed_by_size_and_hash_not_copied(log: Path) -> None:
    import numpy as np

    s, _ = make(Text("A red square."))
    picture = image(np.full((40, 60, 3), (200, 30, 30), dtype=np.uint8))
    s.send(picture, "What is this?")
    [line] = lines(log)
    raw = base64.b64decode(picture["source"]["data"])
    assert line["prompt"] == "What is this?"
    assert line["images"] == [
        {"media_type": "image/png", "bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()}
    ]
    assert picture["source"]["data"][:40] not in log.read_text()


def test_the_key_never_gets_into_the_log(log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    s, _ = make(Text(f"You said {KEY}"))
    # A key pasted into a prompt is refused before it is sent (and so is not logged either)...
    with pytest.raises(SecretInRequestError):
        s.send("my key is " + KEY)
    assert not log.exists() or KEY not in log.read_text()
    # ...but a reply (or a tool result) can still echo it: the log blanks it.
    s.send("What did I say?")
    text = log.read_text()
    assert KEY not in text and "<redacted>" in text


def test_a_turn_with_tools_is_one_line_with_all_its_tokens(log: Path) -> None:
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    s, _ = make(
        ToolUse("add", {"a": 1, "b": 2}, usage={"input_tokens": 100, "output_tokens": 20}),
        Text("3", usage={"input_tokens": 150, "output_tokens": 2}),
    )
    s.send("1+2?", tools=[add], auto_approve=True)
    [line] = lines(log)
    assert (line["prompt"], line["reply"]) == ("1+2?", "3")
    assert (line["input_tokens"], line["output_tokens"]) == (250, 22)


def test_failed_and_stopped_turns_are_logged_too(log: Path) -> None:
    story = "Once upon a time, far away, there lived an ant. " * 20
    s, _ = make(HTTPError(429), Cut(after=3), Text(story, chunk_size=4))
    with pytest.raises(Exception, match="429"):
        s.send("First")
    with pytest.raises(Exception):  # noqa: B017 (the stream was cut: a StreamError)
        s.send("Second")
    with s.stream("Third") as st:
        for _ in st:
            break  # the reader stops the reply
    failed, cut, stopped = lines(log)
    assert failed["prompt"] == "First" and failed["reply"] == ""
    assert failed["error"].startswith("RateLimitError: 429")
    assert cut["prompt"] == "Second" and cut["error"].startswith("StreamError")
    assert stopped["prompt"] == "Third" and stopped["interrupted"] is True
    assert stopped["reply"] and story.startswith(stopped["reply"])


def test_refused_requests_are_not_turns(log: Path) -> None:
    s, _ = make(budget=0.0)
    with pytest.raises(Exception, match="budget"):
        s.send("Hello")
    assert log.read_text() == ""


def test_long_texts_are_cut_so_lines_stay_bounded(log: Path) -> None:
    s, _ = make(Text("ok"))
    s.send("x" * (MAX_TEXT + 5_000))
    [line] = lines(log)
    assert len(line["prompt"]) == MAX_TEXT and line["truncated"] is True


def test_one_line_per_batch_prompt_when_the_results_arrive(log: Path) -> None:
    s, _ = make(Text("Paris"), Text("Rome"), HTTPError(400))
    job = s.batch(["Capital of France?", "Capital of Italy?"], wait=False)
    assert log.read_text() == ""  # nothing back yet
    job.wait(poll_interval=0)
    job.results()  # fetched again: logged once
    df = pd.read_json(log, lines=True)
    assert list(df["kind"]) == ["batch", "batch"]
    assert list(df["prompt"]) == ["Capital of France?", "Capital of Italy?"]
    assert list(df["reply"]) == ["Paris", "Rome"]
    assert list(df["custom_id"]) == ["item-0", "item-1"] and df["batch_id"].nunique() == 1
    assert (df["cost"] > 0).all()


# -- many kernels, one file --------------------------------------------------------------------------


def _writer(path: str, writer: int, count: int) -> None:
    # Long, multi-byte lines: a torn or interleaved write would break the JSON.
    for i in range(count):
        append_line(path, {"writer": writer, "i": i, "prompt": f"{writer}-{i} " + "é" * 9000})


def test_several_processes_append_at_once_and_every_line_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "class.jsonl"
    ctx = multiprocessing.get_context("spawn")
    writers = [ctx.Process(target=_writer, args=(str(path), w, 60)) for w in range(4)]
    for p in writers:
        p.start()
    for p in writers:
        p.join(120)
        assert p.exitcode == 0
    raw = path.read_bytes().splitlines()
    assert len(raw) == 4 * 60
    records = [json.loads(line) for line in raw]  # every line is valid JSON
    for w in range(4):
        assert sorted(r["i"] for r in records if r["writer"] == w) == list(range(60))
    df = pd.read_json(path, lines=True)
    assert len(df) == 240
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o600)  # created private

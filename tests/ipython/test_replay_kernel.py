"""Record and replay across real kernels (README, "Teaching a class"), the variables set before each kernel
starts, as a hub sets them: a teacher's kernel with a key records every exchange against the
loopback fake (``NBCLAUDE_RECORD``); a student's kernel with no key, an unreachable base URL
and no network at all replays it (``NBCLAUDE_REPLAY``): the same reply text, streamed like a
live one, "replayed" in the footer; a prompt the cassette lacks gets the offline fake, marked;
``%claude`` says what is going on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY
from ipython.kernel_support import everything, final_markdown, kernel, loaded_kernel, readable, run

from nbclaude.testing import MARKER, FakeAnthropic, Text

pytestmark = pytest.mark.kernel

ANTS = "Ants have **six legs**, like every insect.\n\nThey live in colonies."
BEES = "Bees make honey from nectar."
MODEL = {"NBCLAUDE_MODEL": "claude-haiku-4-5", "NBCLAUDE_AUTOSAVE": "0"}

NO_NETWORK = """\
import socket
def _refuse(*args, **kwargs):
    raise OSError("this kernel has no network")
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FakeAnthropic]:
    """A lesson recorded by a teacher's kernel: the cassette, and the fake it talked to."""
    folder = tmp_path_factory.mktemp("lesson")
    fake = FakeAnthropic(api_key=KEY)
    with fake.serve(port=0) as server:
        env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url,
               "NBCLAUDE_RECORD": "lesson.jsonl", **MODEL}  # fmt: skip
        with loaded_kernel(env, cwd=folder) as (_km, kc):
            _, status = run(kc, "%claude")
            said = readable(final_markdown(status)).replace("**", "")
            assert f"backend {server.url} · recording to lesson.jsonl" in said, said
            assert "key set ($ANTHROPIC_API_KEY)" in said, said
            fake.add(Text(ANTS, chunk_size=5), Text(BEES, chunk_size=5))
            for prompt in ("How many legs has an ant?", "And what do bees make?"):
                reply, outputs = run(kc, f"%%claude\n{prompt}")
                assert reply["status"] == "ok" and KEY not in everything(outputs)
            assert "replayed" not in final_markdown(outputs)
    assert len(fake.requests) == 2
    return folder / "lesson.jsonl", fake


def test_the_teachers_kernel_recorded_every_exchange_and_never_the_key(
    recorded: tuple[Path, FakeAnthropic],
) -> None:
    cassette, _ = recorded
    text = cassette.read_text(encoding="utf-8")
    assert KEY not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [e["message"]["content"][0]["text"] for e in lines] == [ANTS, BEES]
    assert lines[1]["request"]["messages"][0]["content"] == "How many legs has an ant?"
    assert lines[1]["request"]["model"] == "claude-haiku-4-5"


@pytest.fixture(scope="module")
def student(recorded: tuple[Path, FakeAnthropic]) -> Iterator[Any]:
    """A student's kernel: no key, an address nothing answers at, the cassette to replay."""
    cassette, _ = recorded
    env = {"ANTHROPIC_BASE_URL": "http://127.0.0.1:9", "NBCLAUDE_REPLAY": str(cassette), **MODEL}
    with kernel(env, cwd=cassette.parent) as (_km, kc):
        assert run(kc, NO_NETWORK)[0]["status"] == "ok"
        assert run(kc, "%load_ext nbclaude")[0]["status"] == "ok"
        yield kc


def status(kc: Any) -> str:
    reply, outputs = run(kc, "%claude")
    assert reply["status"] == "ok"
    return readable(final_markdown(outputs)).replace("**", "")


def test_a_class_without_a_key_gets_the_recorded_answers_streamed(
    student: Any, recorded: tuple[Path, FakeAnthropic]
) -> None:
    _, fake = recorded
    said = status(student)
    assert "backend replaying lesson.jsonl (0 hits, 0 misses)" in said, said
    assert "key not needed (replaying a cassette)" in said, said
    reply, outputs = run(student, "%%claude\nHow many legs has an ant?")
    assert reply["status"] == "ok", reply
    md = final_markdown(outputs)
    assert "Ants have **six legs**, like every insect." in md and "They live in colonies." in md
    footer = readable(md.rsplit("<sub>", 1)[1])
    assert footer.rstrip().endswith("· end_turn · replayed</sub>"), footer
    # streamed like a live reply: the text arrived in several updates before the final output
    live = [
        m
        for m in outputs
        if m["msg_type"] in ("display_data", "update_display_data")
        and "text/markdown" in m["content"]["data"]
        and "replayed" not in m["content"]["data"]["text/markdown"]
    ]
    pieces = {m["content"]["data"]["text/markdown"] for m in live if "Ants" in str(m["content"])}
    assert len(pieces) >= 2, pieces
    reply, outputs = run(student, "%%claude\nAnd what do bees make?")
    assert reply["status"] == "ok"
    assert BEES in final_markdown(outputs) and "replayed" in final_markdown(outputs)
    assert "(2 hits, 0 misses)" in status(student)
    assert len(fake.requests) == 2  # the teacher's fake heard nothing more


def test_a_prompt_the_cassette_lacks_gets_the_offline_fake_marked(student: Any) -> None:
    reply, outputs = run(student, "%%claude\nAnd spiders, how many legs?")
    assert reply["status"] == "ok", reply
    md = readable(final_markdown(outputs))
    assert MARKER.strip("*") in md
    assert "replayed" not in md
    assert "(2 hits, 1 miss)" in status(student)


def test_the_student_kernel_is_offline_and_keyless(student: Any) -> None:
    code = (
        "import os, socket\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', 9))\n"
        "except OSError as exc:\n"
        "    print('refused:', exc)\n"
        "print(sorted(k for k in os.environ if k.startswith('ANTHROPIC_API') or k.endswith('_TOKEN')))"
    )
    _, outputs = run(student, code)
    text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
    assert "refused: this kernel has no network" in text and "[]" in text

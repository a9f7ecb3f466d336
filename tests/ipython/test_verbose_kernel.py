"""The key in a real kernel under ``%xmode Verbose`` (which prints every frame's arguments and the
values its failing line names): API errors, transport failures, broken streams, a refused
request and kernel interrupts, with a key and with a token. No iopub message may hold the
secret, nor any 12-character piece of it. Also: a kernel interrupt while the request waits for
its headers ends the cell at once and sends nothing more; one during image preprocessing is one
clean line."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from client.hostile import Hostile, bad_gzip, redirect, respond, stall
from conftest import KEY

from nbclaude.testing import SSE, FakeAnthropic, HTTPError, StreamErrorEvent, Text

pytestmark = pytest.mark.kernel

TOKEN = "tok-Zq9wYx7Vb6Nm5Lk4Jh3Gf2Ds1-bearer"
SECRETS = {"key": KEY, "token": TOKEN}


def pieces(secret: str) -> set[str]:
    return {secret[i : i + 12] for i in range(len(secret) - 11)}


@pytest.fixture(scope="module", params=["key", "token"])
def world(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """A fake API on loopback, three hostile servers and a kernel whose environment holds the
    key (or the token), in Verbose mode."""
    from jupyter_client.manager import KernelManager

    kind = str(request.param)
    secret = SECRETS[kind]
    fake = FakeAnthropic(api_key=KEY if kind == "key" else None)
    with (
        fake.serve(port=0) as server,
        Hostile(respond(200, b"{}")) as elsewhere,
        Hostile(redirect(elsewhere.url + "/v1/messages", 307)) as redirecting,
        Hostile(bad_gzip()) as garbled,
        Hostile(stall(20)) as stalling,
    ):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "NBCLAUDE_"))}
        env.update(ANTHROPIC_BASE_URL=server.url, NBCLAUDE_MODEL="claude-haiku-4-5")
        env["ANTHROPIC_API_KEY" if kind == "key" else "ANTHROPIC_AUTH_TOKEN"] = secret
        km = KernelManager(kernel_name="python3")
        km.start_kernel(env=env)
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        world = {
            "kind": kind, "secret": secret, "fake": fake, "km": km, "kc": kc,
            "redirecting": redirecting.url, "garbled": garbled.url, "stalling": stalling,
            "elsewhere": elsewhere, "seen": [],
        }  # fmt: skip
        run(world, "%load_ext nbclaude\n%xmode Verbose\nimport os, nbclaude")
        # A key pasted with a stray character, behind a function (so that the failing cell's
        # own line names no variable holding it: IPython would show that value, not ours).
        arg = "api_key" if kind == "key" else "auth_token"
        run(
            world,
            f"def pasted(c):\n    s = os.environ.get('ANTHROPIC_API_KEY') or "
            f"os.environ['ANTHROPIC_AUTH_TOKEN']\n    return {{{arg!r}: s[:10] + c + s[10:]}}",
        )
        yield world
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        assert elsewhere.count == 0


def run(world: dict[str, Any], code: str, timeout: float = 60) -> dict[str, Any]:
    kc = world["kc"]
    outputs: list[dict[str, Any]] = []
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=outputs.append)
    world["seen"] += [reply, *outputs]
    return {"reply": reply["content"], "outputs": outputs}


def error_of(result: dict[str, Any]) -> str:
    errors = [m["content"] for m in result["outputs"] if m["msg_type"] == "error"]
    assert len(errors) == 1, result["outputs"]
    return "\n".join(errors[0]["traceback"])


def assert_clean(world: dict[str, Any]) -> None:
    text = json.dumps(world["seen"], default=str)
    leaked = [p for p in pieces(world["secret"]) if p in text]
    assert not leaked, leaked[:3]


BODY = 'model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "hi"}]'

SCENARIOS = {
    "Session.send, 401 echoing the key": (
        [HTTPError(401, message=f"invalid x-api-key: {KEY} / {TOKEN}")],
        "nbclaude.Session().send('hello')",
        "AuthenticationError",
    ),
    "Client.create, 500 three times": (
        [HTTPError(500), HTTPError(500), HTTPError(500)],
        f"nbclaude.Client().create({BODY})",
        "InternalServerError",
    ),
    "Client.stream, an error event": (
        [StreamErrorEvent(after=3, reply=Text("some words first", chunk_size=3))],
        f"with nbclaude.Client().stream({BODY}) as st:\n    st.get_final_message()",
        "StreamError",
    ),
    "Session.send, a malformed event": (
        [SSE('event: message_start\ndata: {"type": "message_start", "message": []}\n\n')],
        "nbclaude.Session().send('hello')",
        "StreamError",
    ),
    "a redirect to another origin": (
        [], "nbclaude.Client(base_url={redirecting!r}).create(" + BODY + ")", "RedirectError"
    ),
    "a bad gzip body": (
        [], "nbclaude.Client(base_url={garbled!r}).create(" + BODY + ")", "APIConnectionError"
    ),
    "a bad base URL": ([], "nbclaude.Client(base_url='ftp://x').create(" + BODY + ")",
                       "APIConnectionError"),
    "a refused request holding the secret": (
        [],
        "nbclaude.Client().create(model='claude-haiku-4-5', max_tokens=5, messages=[{'role': "
        "'user', 'content': 'mine: ' + (os.environ.get('ANTHROPIC_API_KEY') or "
        "os.environ['ANTHROPIC_AUTH_TOKEN'])}])",
        "SecretInRequestError",
    ),
    "a key pasted with a non-ASCII character": (
        [], "nbclaude.Client(**pasted('\\u2026')).create(" + BODY + ")", "MissingAPIKeyError"
    ),
    "a key pasted with a line break inside": (
        [], "nbclaude.Client(**pasted('\\n')).create(" + BODY + ")", "MissingAPIKeyError"
    ),
    "%%claude, 401 echoing the key": (
        [HTTPError(401, message=f"invalid x-api-key: {KEY} / {TOKEN}")],
        "%%claude\nhello",
        "AuthenticationError",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_no_secret_in_any_verbose_traceback(world: dict[str, Any], name: str) -> None:
    script, code, error = SCENARIOS[name]
    assert not world["fake"].pending
    world["fake"].add(*script)
    for name_ in ("redirecting", "garbled"):
        code = code.replace("{" + name_ + "!r}", repr(world[name_]))
    result = run(world, code)
    assert not world["fake"].pending  # the scenario used its script
    assert result["reply"]["status"] == "error"
    assert_clean(world)
    shown = error_of(result)
    assert error in shown


def test_verbose_shows_frames_at_all(world: dict[str, Any]) -> None:
    """The check above means something: Verbose mode prints arguments of our frames."""
    world["fake"].add(HTTPError(400, message="nope"))
    shown = error_of(run(world, "nbclaude.Session().send('hello')"))
    assert "send(" in shown and "self=" in shown
    assert_clean(world)


def interrupt_after(world: dict[str, Any], code: str, delay: float) -> tuple[dict[str, Any], float]:
    kc, km = world["kc"], world["km"]
    msg_id = kc.execute(code)
    time.sleep(delay)
    t = time.monotonic()
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=20)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=20)
    elapsed = time.monotonic() - t
    outputs = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=10)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        outputs.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    world["seen"] += [reply, *outputs]
    return {"reply": reply["content"], "outputs": outputs}, elapsed


@pytest.mark.parametrize(
    "code",
    [
        "nbclaude.Client(base_url={url!r}).create(" + BODY + ")",
        "s = nbclaude.get_session(); s.client = nbclaude.Client(base_url={url!r})\ns.send('hello')",
        "%%claude\nhello",
    ],
)
def test_an_interrupt_while_waiting_for_headers_ends_at_once_and_sends_nothing_more(
    world: dict[str, Any], code: str
) -> None:
    stalling = world["stalling"]
    before = stalling.count
    if code.startswith("%%"):
        run(world, f"nbclaude.get_session().client = nbclaude.Client(base_url={stalling.url!r})")
    result, elapsed = interrupt_after(world, code.replace("{url!r}", repr(stalling.url)), 1.0)
    assert elapsed < 1.0, elapsed
    assert result["reply"]["status"] == "error"
    assert result["reply"]["ename"] in ("KeyboardInterrupt", "Interrupted")
    time.sleep(2.0)  # longer than the first backoff: a retry would have been sent by now
    assert stalling.count == before + 1
    if code.startswith("%%"):
        assert len(result["reply"]["traceback"]) == 1
    run(world, "nbclaude.get_session().client = nbclaude.Client()")
    assert_clean(world)


def test_an_interrupt_during_image_preprocessing_is_one_clean_line(
    world: dict[str, Any], tmp_path: Path
) -> None:
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)  # opening it blocks until someone writes: the image is "being read"
    sent = len(world["fake"].requests)
    result, elapsed = interrupt_after(world, f"%%claude -i {fifo}\nWhat is this?", 1.0)
    assert elapsed < 2.0
    reply = result["reply"]
    assert reply["status"] == "error" and reply["ename"] == "Interrupted", reply
    assert len(reply["traceback"]) == 1 and "nothing was sent" in reply["traceback"][0]
    assert len(world["fake"].requests) == sent
    assert_clean(world)

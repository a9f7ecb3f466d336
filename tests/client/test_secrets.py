"""The key never leaves in a request body, never sits where a traceback shows it, and says where
it came from: the body scan (exact, letter case, base64), key checks, ``Credentials.source``,
Colab Secrets (a fake ``google.colab`` package in a subprocess: a real module boundary)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from client.reach import assert_unreachable
from client.support import BODY
from conftest import KEY

import nbclaude
from nbclaude import Client, Session
from nbclaude._client.credentials import Credentials, Secret, redact, secrets
from nbclaude.testing import FakeAnthropic, Text, ToolUse

TOKEN = "tok-Zq9wYx7Vb6Nm5Lk4Jh3Gf2Ds1-bearer"


def body_with(content: Any) -> dict[str, Any]:
    return {**BODY, "messages": [{"role": "user", "content": content}]}


def refused(c: Client, body: dict[str, Any]) -> nbclaude.InvalidRequestError:
    for method in ("create", "stream"):
        with pytest.raises(nbclaude.InvalidRequestError) as info:
            if method == "create":
                c.create(**body)
            else:
                c.stream(**body)
        assert_unreachable(info.value, KEY, TOKEN)
    return info.value


# -- the body scan ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret_of", "text", "how"),
    [
        (lambda k: k, "my key is {}", "as it is"),
        (lambda k: k.upper(), "MY KEY IS {}", "in other letter case"),
        (lambda k: k.lower(), "key: {} (lower)", "in other letter case"),
    ],
)
def test_a_prompt_holding_the_key_is_refused_before_it_leaves(
    secret_of: Any, text: str, how: str
) -> None:
    fake = FakeAnthropic(api_key=KEY)
    c = Client(api_key=KEY, transport=fake)
    err = refused(c, body_with(text.format(secret_of(KEY))))
    assert fake.requests == []
    assert f"the API key is in it ({how}), at messages.0.content" in str(err)
    assert "Nothing was sent" in str(err)
    assert getattr(err, "where", None) == "messages.0.content"


@pytest.mark.parametrize("prefix", [b"", b"a", b"ab"])  # the three base64 alignments
@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_the_key_in_base64_is_found_at_any_alignment(prefix: bytes, encode: Any) -> None:
    pdf = b"%PDF-1.4\n" + prefix + b"(notes for class: " + KEY.encode() + b") Tj\n%%EOF\n"
    data = encode(pdf).decode()
    block = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
                                            "data": data}}  # fmt: skip
    fake = FakeAnthropic(api_key=KEY)
    err = refused(Client(api_key=KEY, transport=fake), body_with([block]))
    assert "in base64" in str(err) and "messages.0.content.0.source.data" in str(err)
    assert fake.requests == []


def test_the_token_and_the_environment_s_key_are_looked_for_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeAnthropic()
    c = Client(auth_token=TOKEN, transport=fake)
    err = refused(c, body_with(f"Bearer {TOKEN}"))
    assert "the auth token" in str(err)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    offline = Client(api_key="offline", transport=fake)  # a key of its own, none to look for
    assert "the API key" in str(refused(offline, body_with(f"env key {KEY}")))
    assert fake.requests == []


def test_short_keys_are_not_looked_for() -> None:
    fake = FakeAnthropic()
    c = Client(api_key="offline", transport=fake)
    fake.add(Text("ok"))
    assert c.create(**body_with("Go offline and stay OFFLINE."))["content"][0]["text"] == "ok"


def test_in_ipython_the_refusal_is_one_line_with_no_frames() -> None:
    c = Client(api_key=KEY, transport=FakeAnthropic(api_key=KEY))
    with pytest.raises(nbclaude.InvalidRequestError) as info:
        c.create(**body_with(KEY))
    lines = info.value._render_traceback_()  # type: ignore[attr-defined]
    assert len(lines) == 1 and KEY not in lines[0]


def test_a_tool_result_holding_the_key_is_refused_and_the_turn_rolled_back() -> None:
    def get_secret() -> str:
        """Return the configuration."""
        return f"ANTHROPIC_API_KEY={KEY}"

    fake = FakeAnthropic([ToolUse("get_secret", {}), Text("never")], api_key=KEY)
    s = Session(model="claude-haiku-4-5", client=Client(api_key=KEY, transport=fake))
    with pytest.raises(nbclaude.InvalidRequestError, match=r"messages\.2\.content\.0\.content"):
        s.send("What is the config?", tools=[get_secret], auto_approve=True)
    assert len(fake.requests) == 1  # the tool call was asked for; the result never left
    assert s.messages == []
    assert KEY not in json.dumps(fake.requests[0].json)


# -- the key as it is set -----------------------------------------------------------------------


def test_surrounding_whitespace_of_a_pasted_key_is_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", f"  {KEY}\n")
    fake = FakeAnthropic(api_key=KEY)
    fake.add(Text("ok"))
    Client(transport=fake).create(**BODY)
    assert fake.requests[-1].headers["x-api-key"] == KEY


@pytest.mark.parametrize("bad", [KEY[:10] + " " + KEY[10:], KEY[:10] + "\u2026" + KEY[10:],
                                 KEY[:10] + "\n" + KEY[10:]])  # fmt: skip
def test_a_key_that_cannot_be_sent_is_refused_without_showing_it(bad: str) -> None:
    fake = FakeAnthropic(api_key=KEY)
    c = Client(api_key=bad, transport=fake)
    for method in ("create", "stream"):
        with pytest.raises(nbclaude.MissingAPIKeyError, match="position 10") as info:
            c.create(**BODY) if method == "create" else c.stream(**BODY).__enter__()
        assert_unreachable(info.value, bad, KEY)
    assert fake.requests == []


def test_secrets_never_show_in_a_repr() -> None:
    assert repr(Secret(KEY)) == str(Secret(KEY)) == "<redacted>"
    assert KEY not in repr(secrets(Client(api_key=KEY)))
    assert KEY not in repr(Credentials(KEY, TOKEN).patterns())
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(Secret(KEY))


def test_a_one_letter_key_does_not_mangle_words() -> None:
    assert Credentials("k").redact("tokens are kept") == "tokens are kept"
    assert redact("to<redacted>ens", ["k"]) == "to<redacted>ens"
    assert Credentials(KEY).redact(f"x{KEY}y") == "x<redacted>y"


@pytest.mark.parametrize(
    ("env", "args", "source"),
    [
        ({"ANTHROPIC_API_KEY": KEY}, {}, "$ANTHROPIC_API_KEY"),
        ({"ANTHROPIC_AUTH_TOKEN": TOKEN}, {}, "$ANTHROPIC_AUTH_TOKEN"),
        ({"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_AUTH_TOKEN": TOKEN}, {},
         "$ANTHROPIC_API_KEY and $ANTHROPIC_AUTH_TOKEN"),
        ({"ANTHROPIC_API_KEY": KEY}, {"api_key": "sk-other-0123456789"}, "the api_key argument"),
        ({}, {}, None),
    ],
)  # fmt: skip
def test_credentials_say_where_they_came_from(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], args: dict[str, str], source: str | None
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Client(**args).credentials.source == source


# -- Colab Secrets, through a fake google.colab package on sys.path --------------------------


FAKE_USERDATA = """
import json, os

class SecretNotFoundError(Exception):
    pass

class NotebookAccessError(Exception):
    pass

def get(name):
    with open(os.environ["FAKE_COLAB_LOG"], "a") as log:
        log.write(name + "\\n")
    mode = os.environ.get("FAKE_COLAB_MODE", "ok")
    if mode == "missing":
        raise SecretNotFoundError(name)
    if mode == "denied":
        raise NotebookAccessError(name)
    return os.environ["FAKE_COLAB_VALUE"]
"""

COLAB_SCRIPT = """
import json, sys, nbclaude
from nbclaude import Client
from nbclaude.testing import FakeAnthropic, Text
fake = FakeAnthropic([Text("from Colab")])
c = Client(transport=fake)
before = {"source": c.credentials.source, "configured": c.has_credentials}
out = {"before": before, "log_before": open(sys.argv[1]).read()}
try:
    msg = c.create(model="claude-haiku-4-5", max_tokens=5,
                   messages=[{"role": "user", "content": "hi"}])
    out["text"] = msg["content"][0]["text"]
    out["sent_key"] = fake.requests[-1].headers.get("x-api-key") == sys.argv[2]
except nbclaude.MissingAPIKeyError as exc:
    out["error"] = str(exc)
c.create(model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "again"}]) if "text" in out else None
out["after"] = c.credentials.source
out["log_after"] = open(sys.argv[1]).read()
print(json.dumps(out))
"""


@pytest.fixture
def colab(tmp_path: Path) -> Any:
    package = tmp_path / "site" / "google" / "colab"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "userdata.py").write_text(FAKE_USERDATA)
    log = tmp_path / "userdata.log"
    log.write_text("")

    def run(mode: str = "ok", **env: str) -> dict[str, Any]:
        base = {
            k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "NBCLAUDE_"))
        }
        base.update(
            PYTHONPATH=str(tmp_path / "site"),
            FAKE_COLAB_LOG=str(log),
            FAKE_COLAB_MODE=mode,
            FAKE_COLAB_VALUE=KEY,
            **env,
        )
        log.write_text("")
        done = subprocess.run(
            [sys.executable, "-c", COLAB_SCRIPT, str(log), KEY],
            capture_output=True, text=True, env=base, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        assert KEY not in done.stdout + done.stderr
        return dict(json.loads(done.stdout))

    return run


def test_in_colab_the_key_comes_from_colab_secrets_at_the_first_request(colab: Any) -> None:
    out = colab()
    assert out["log_before"] == ""  # building the client asked Colab nothing
    assert out["before"] == {
        "source": "Colab Secrets (ANTHROPIC_API_KEY), read at the first request",
        "configured": True,
    }
    assert out["text"] == "from Colab" and out["sent_key"] is True
    assert out["log_after"] == "ANTHROPIC_API_KEY\n"  # read once, for two requests
    assert out["after"] == "Colab Secrets (ANTHROPIC_API_KEY)"


def test_an_environment_variable_wins_over_colab_secrets(colab: Any) -> None:
    out = colab(ANTHROPIC_API_KEY="sk-ant-from-the-environment-123")
    assert out["log_after"] == "" and out["after"] == "$ANTHROPIC_API_KEY"


@pytest.mark.parametrize(
    ("mode", "says"),
    [("missing", "there is no secret named ANTHROPIC_API_KEY"),
     ("denied", "may not read ANTHROPIC_API_KEY")],
)  # fmt: skip
def test_colab_secrets_without_the_key_is_one_clear_error(colab: Any, mode: str, says: str) -> None:
    out = colab(mode)
    assert says in out["error"] and "Colab" in out["error"] and "Secrets" in out["error"]
    assert out["log_after"] == "ANTHROPIC_API_KEY\n"


def test_outside_colab_nothing_is_looked_up() -> None:
    code = textwrap.dedent(
        """
        import sys, nbclaude
        c = nbclaude.Client()
        print(c.credentials.source, c.has_credentials, "google.colab" in sys.modules)
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "NBCLAUDE_"))}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60, check=True)  # fmt: skip
    assert done.stdout.split() == ["None", "False", "False"]


def test_an_interrupt_during_the_scan_leaves_no_form_of_the_key_in_a_verbose_traceback() -> None:
    import linecache

    from IPython.core.ultratb import VerboseTB

    from nbclaude._client.scan import _b64_forms

    patterns = Credentials(KEY).patterns()
    code = type(patterns).match.__code__

    def local(frame: Any, event: str, arg: Any) -> Any:
        line = linecache.getline(code.co_filename, frame.f_lineno)
        if event == "line" and "in lowered" in line:
            raise KeyboardInterrupt  # as a kernel interrupt would, in the middle of the scan
        return local

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        return local if frame.f_code is code else None

    sys.settrace(tracer)
    try:
        with pytest.raises(KeyboardInterrupt) as info:
            patterns.match(b'{"messages": [{"role": "user", "content": "nothing secret"}]}')
    finally:
        sys.settrace(None)
    shown = "\n".join(
        VerboseTB(theme_name="nocolor").structured_traceback(
            info.type, info.value, info.value.__traceback__
        )
    )
    assert "in lowered" in shown  # the frame is there, with its values
    forms = [KEY.encode(), KEY.lower().encode(), *_b64_forms(KEY.encode())]
    for form in forms:
        assert form.decode() not in shown and repr(form) not in shown


def _verbose_text_of_interrupts(call: Any, code: Any) -> list[str]:
    """Run ``call()`` once per line of ``code`` (but its ``finally`` cleanup), raising a
    KeyboardInterrupt at that line, as a kernel interrupt would; IPython's Verbose traceback of
    each."""
    import linecache

    from IPython.core.ultratb import VerboseTB

    # Not the cleanup itself, nor a try: line (the entry of a function, before its try begins,
    # is the window that is left: a parameter holds the key until then).
    cleanup = ("finally", "= None", '= ""', '= b""', ".clear()", "del ", "forms = []", "try:")
    shown: list[str] = []
    line_no = 0
    while True:
        state = {"seen": 0, "fired": False, "at": line_no + 1}

        def local(frame: Any, event: str, arg: Any, state: dict[str, Any] = state) -> Any:
            if event != "line" or state["fired"]:
                return local
            text = linecache.getline(code.co_filename, frame.f_lineno)
            if any(c in text for c in cleanup):
                return local
            state["seen"] += 1
            if state["seen"] == state["at"]:
                state["fired"] = True
                raise KeyboardInterrupt
            return local

        def tracer(frame: Any, event: str, arg: Any) -> Any:
            return local if frame.f_code is code else None

        sys.settrace(tracer)
        try:
            call()
        except KeyboardInterrupt as exc:
            sys.settrace(None)
            tb = exc.__traceback__
            while tb is not None and tb.tb_frame.f_code is not code:
                tb = tb.tb_next  # from the frame under test on: the test's own frames hold KEY
            assert tb is not None
            tb.tb_next = None  # ... and not the tracer's frame, which raised
            shown.append(
                "\n".join(VerboseTB(theme_name="nocolor").structured_traceback(type(exc), exc, tb))
            )
        finally:
            sys.settrace(None)
        if not state["fired"]:
            return shown
        line_no += 1


@pytest.mark.parametrize(
    ("name", "call", "code"),
    [
        ("Credentials()", lambda: Credentials(KEY, TOKEN), Credentials.__init__.__code__),
        ("patterns()", lambda: CREDS.patterns(), Credentials.patterns.__code__),
        ("redact()", lambda: redact("nothing here", CREDS.secrets(), any_case=True),
         redact.__code__),
        ("secrets found_in()", lambda: CREDS.secrets().found_in("nothing"), None),
    ],
)  # fmt: skip
def test_an_interrupt_at_any_line_leaves_no_key_in_a_verbose_traceback(
    name: str, call: Any, code: Any
) -> None:
    from nbclaude._client import secret as secret_module

    code = code or secret_module.found_in.__code__
    shown = _verbose_text_of_interrupts(call, code)
    assert len(shown) >= 2, name  # the interrupt did land on the lines
    for text in shown:
        for secret in (KEY, TOKEN):
            pieces = {secret[i : i + 12] for i in range(len(secret) - 11)}
            assert not [p for p in pieces if p in text], (name, text[-1500:])


CREDS = Credentials(KEY, TOKEN)

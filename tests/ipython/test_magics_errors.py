"""Item 10 of the hardening issue in a real IPython shell: each of these is one clean line, never
a traceback, and nothing is sent: ``--max-steps -1``, an unsupported ``--schema`` field type, a
``{x}`` whose ``__str__`` raises, a 10 MB error message, a prompt holding the key; and
``%claude fix`` never sends the key in any letter case."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from conftest import KEY
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import nbclaude
from nbclaude.testing import FakeAnthropic, HTTPError, Text


def one_line(ip: InteractiveShell, source: str) -> str:
    """Run a cell that must fail; return its one line of error."""
    with capture_output() as cap:
        result = ip.run_cell(source, store_history=True)
    assert not result.success
    text = re.sub(r"\x1b\[[0-9;]*m|\x1b\[2K|\r", "", cap.stdout + cap.stderr)
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    assert KEY not in text + json.dumps([o.data for o in cap.outputs])
    return lines[0]


def test_a_negative_max_steps_is_a_usage_error(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    line = one_line(ip, "%%claude --max-steps -1\nQ")
    assert "UsageError" in line and "--max-steps" in line and "-1" in line
    assert fake.requests == []


def test_an_unsupported_schema_field_type_is_one_line(
    ip: InteractiveShell, fake: FakeAnthropic
) -> None:
    ip.run_cell("import dataclasses\n@dataclasses.dataclass\nclass Reading:\n    value: complex\n")
    line = one_line(ip, "%%claude --schema Reading\nQ")
    assert "--schema Reading" in line and "complex" in line and "Reading.value" in line
    assert fake.requests == []


def test_the_schema_error_is_an_nbclaude_error_and_a_type_error() -> None:
    from dataclasses import dataclass

    from nbclaude._schema import output_format

    @dataclass
    class Reading:
        value: complex

    with pytest.raises(nbclaude.NbClaudeError) as info:
        output_format(Reading)
    assert isinstance(info.value, TypeError) and "Reading.value" in str(info.value)


def test_a_value_whose_str_raises_is_one_line(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    ip.run_cell(
        "class Moody:\n"
        "    def __str__(self):\n"
        "        raise ValueError('not today')\n"
        "moody = Moody()\n"
    )
    line = one_line(ip, "%%claude\nWhat is {moody}?")
    assert "{moody}" in line and "ValueError" in line and "not today" in line
    assert fake.requests == []


def test_a_10_mb_error_message_is_one_short_line(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(HTTPError(400, message="x" * 10_000_000))
    line = one_line(ip, "%%claude\nQ")
    assert "BadRequestError" in line and len(line) < 3000 and "more characters" in line


def test_a_prompt_holding_the_key_is_one_line(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    ip.user_ns["notes"] = f"my notes (and my key: {KEY.upper()})"
    line = one_line(ip, "%%claude --no-interpolate\nQ " + KEY.upper())
    assert "SecretInRequestError" in line and "other letter case" in line
    assert fake.requests == []


def test_fix_never_sends_the_key_in_any_case(
    ip: InteractiveShell, fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    fake.add(Text("Explained."))
    ip.run_cell(f"raise ValueError('keys: {KEY} {KEY.upper()} {KEY.lower()}')")
    with capture_output():
        result = ip.run_cell("%claude fix")
    assert result.success
    sent = json.dumps(fake.requests[-1].json)
    assert KEY.lower() not in sent.lower() and "<redacted>" in sent


def test_an_api_error_line_never_claims_retries_it_did_not_make(
    ip: InteractiveShell, fake: FakeAnthropic
) -> None:
    fake.add(HTTPError(429))
    line = one_line(ip, "%%claude\nQ")
    assert "RateLimitError" in line and "1 attempt" in line and "already retried" not in line


def test_bad_cells_leave_the_history_alone(ip: InteractiveShell, fake: FakeAnthropic) -> None:
    fake.add(Text("kept"))
    with capture_output():
        ip.run_cell("%%claude\nfirst")
    before: list[Any] = list(nbclaude.get_session().messages)
    ip.run_cell("class Moody:\n    def __str__(self):\n        raise OSError\nmoody = Moody()")
    one_line(ip, "%%claude --max-steps -5\nQ")
    one_line(ip, "%%claude\nWhat is {moody}?")
    assert nbclaude.get_session().messages == before

"""Money and the key's origin as a real kernel shows them (every iopub message kept): every
dollar amount in ``%%claude``'s footer, ``%claude``, ``usage``, ``tokens``, ``models`` and
``policy`` is a plain decimal (never ``4.6e-05``), escaped wherever it is Markdown (a bare ``$``
starts maths); ``%claude`` says where the key came from: the environment, or Colab Secrets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY
from ipython.kernel_support import (
    everything,
    final_markdown,
    loaded_kernel,
    loopback_env,
    readable,
    run,
    served_fake,
)

from nbclaude.testing import FakeAnthropic, Text

pytestmark = pytest.mark.kernel

SCIENTIFIC = re.compile(r"\d(?:\.\d+)?e-?\d", re.I)
BARE_DOLLAR = re.compile(r"(?<!\\)\$(?=[\d.])")
AMOUNT = re.compile(r"\$(\d[\d,]*\.\d+)")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with served_fake() as fake:
        yield fake


def money_in(outputs: list[dict[str, Any]]) -> list[str]:
    """Every amount shown, after checking how each message writes it."""
    found: list[str] = []
    for msg in outputs:
        data = msg["content"].get("data") or {}
        markdown = data.get("text/markdown")
        plain = data.get("text/plain") or msg["content"].get("text") or ""
        for text in (markdown, plain):
            if text:
                assert not SCIENTIFIC.search(str(text)), text
        if markdown:
            assert not BARE_DOLLAR.search(str(markdown)), markdown  # escaped: \$0.0046
            found += AMOUNT.findall(readable(str(markdown)))
        else:
            found += AMOUNT.findall(str(plain))
    return found


def test_every_amount_is_a_plain_decimal_escaped_in_markdown(fake: FakeAnthropic) -> None:
    env = {**loopback_env(fake.url), "NBCLAUDE_BUDGET": "0.5"}  # type: ignore[attr-defined]
    with loaded_kernel(env) as (_km, kc):
        fake.add(Text("Six."))
        _, turn = run(kc, "%%claude\nHow many legs has an ant?")
        footer = readable(final_markdown(turn))
        assert re.search(r"· \$0\.0000\d\d? ·", footer), footer  # a tiny turn: $0.000031
        amounts = money_in(turn)
        for command in ("%claude", "%claude usage", "%claude tokens", "%claude models",
                        "%claude policy"):  # fmt: skip
            reply, outputs = run(kc, command)
            assert reply["status"] == "ok", (command, reply)
            shown = money_in(outputs)
            assert shown, f"{command} showed no amount"
            amounts += shown
            assert KEY not in everything(outputs)
        assert "0.50" in amounts  # the budget
        assert any(a.startswith("0.0000") for a in amounts)  # the turn's cost
        _, outputs = run(kc, "%claude")
        said = readable(final_markdown(outputs)).replace("**", "")
        assert "key set ($ANTHROPIC_API_KEY)" in said, said


FAKE_USERDATA = """
import os

def get(name):
    return os.environ["FAKE_COLAB_VALUE"]
"""


def test_in_colab_the_status_says_the_key_comes_from_colab_secrets(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    package = tmp_path / "site" / "google" / "colab"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "userdata.py").write_text(FAKE_USERDATA)
    env = {"PYTHONPATH": str(tmp_path / "site"), "FAKE_COLAB_VALUE": KEY,
           "ANTHROPIC_BASE_URL": fake.url,  # type: ignore[attr-defined]
           "NBCLAUDE_MODEL": "claude-haiku-4-5", "NBCLAUDE_AUTOSAVE": "0"}  # fmt: skip
    with loaded_kernel(env) as (_km, kc):
        _, outputs = run(kc, "%claude")
        said = readable(final_markdown(outputs)).replace("**", "")
        assert "key set (Colab Secrets (ANTHROPIC_API_KEY), read at the first request)" in said
        fake.add(Text("Hello from Colab."))
        reply, outputs = run(kc, "%%claude\nHi")
        assert reply["status"] == "ok" and KEY not in everything(outputs)
        _, outputs = run(kc, "%claude")
        said = readable(final_markdown(outputs)).replace("**", "")
        assert "key set (Colab Secrets (ANTHROPIC_API_KEY))" in said, said
        assert KEY not in everything(outputs)

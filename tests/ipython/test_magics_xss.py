"""The XSS corpus through %%claude: the mime bundle the cell really publishes is safe in
JupyterLab (marked + its math handling), VS Code-like markdown-it and CommonMark."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import KEY
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from render_harness import ATTACKS, BENIGN, Marked, assert_safe

import nbclaude
import nbclaude._session.shared as session_module
from nbclaude import Client
from nbclaude.testing import FakeAnthropic, Text


@pytest.fixture(scope="module")
def ip() -> InteractiveShell:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "nbclaude")
    return shell


@pytest.fixture
def fake(ip: InteractiveShell, monkeypatch: pytest.MonkeyPatch) -> FakeAnthropic:
    fake = FakeAnthropic(api_key=KEY)
    monkeypatch.setattr(session_module, "_default", None)
    nbclaude.get_session().client = Client(api_key=KEY, transport=fake, max_retries=0)
    nbclaude.get_session().model = "claude-haiku-4-5"
    return fake


def published(ip: InteractiveShell, fake: FakeAnthropic, reply: str, flags: str = "") -> str:
    fake.add(Text(reply, chunk_size=7))
    with capture_output() as cap:
        result = ip.run_cell(f"%%claude {flags}\nShow me something")
    assert result.success
    bundles = [o.data for o in cap.outputs]
    assert len(bundles) == 1
    return str(bundles[0]["text/markdown"])


@pytest.mark.parametrize("vector", ATTACKS, ids=[v["id"] for v in ATTACKS])
def test_attack_vectors_in_the_cell_output(
    ip: InteractiveShell,
    fake: FakeAnthropic,
    vector: dict[str, Any],
    marked: Marked,
) -> None:
    markdown = published(ip, fake, vector["markdown"])
    assert_safe(markdown, marked)


@pytest.mark.parametrize("vector", ATTACKS[::7], ids=[v["id"] for v in ATTACKS[::7]])
def test_attack_vectors_in_the_history_and_reply_repr(
    ip: InteractiveShell,
    fake: FakeAnthropic,
    vector: dict[str, Any],
    marked: Marked,
) -> None:
    published(ip, fake, vector["markdown"], flags="-o r")
    assert_safe(ip.user_ns["r"]._repr_mimebundle_()["text/markdown"], marked)
    with capture_output() as cap:
        ip.run_cell("%claude history")
    assert_safe(str(cap.outputs[0].data["text/markdown"]), marked)


@pytest.mark.parametrize("vector", BENIGN, ids=[v["id"] for v in BENIGN])
def test_benign_content_still_renders(
    ip: InteractiveShell, fake: FakeAnthropic, vector: dict[str, Any]
) -> None:
    markdown = published(ip, fake, vector["markdown"])
    for key in ("math_inline", "math_display"):
        for tex in vector.get("expect", {}).get(key, []):
            assert tex in markdown

"""The official TypeScript SDK (a test-only devDependency, pinned in package.json) drives the
loopback fake through the seed guide's examples and the cookbook patterns of issue #15:
``ts_guide.mjs`` runs under node and prints what it got, this test checks it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from nbclaude.testing import FakeAnthropic

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
SDK = ROOT / "node_modules" / "@anthropic-ai" / "sdk" / "package.json"


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (the TypeScript SDK test needs Node.js 20+)")
    if not SDK.exists():
        pytest.skip("node_modules lacks @anthropic-ai/sdk: run `npm ci` in the checkout")
    fake = FakeAnthropic()
    with fake.serve() as server:
        done = subprocess.run(
            [node, str(HERE / "ts_guide.mjs"), server.url],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    out: dict[str, Any] = json.loads(done.stdout)
    out["_requests"] = [r.json for r in fake.requests if r.path == "/v1/messages"]
    out["_versions"] = {r.headers.get("anthropic-version") for r in fake.requests}
    return out


def test_the_sdk_version_is_pinned() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]
    version = pinned["@anthropic-ai/sdk"]
    assert version[0].isdigit() and version.startswith("1."), version  # an exact 1.x


def test_guide_examples(results: dict[str, Any]) -> None:
    assert results["basic"]["text"].startswith("*(offline fake")
    assert results["basic"]["stop_reason"] == "end_turn"
    assert results["retired"] == 404
    assert "received 3 messages" in results["multi"]
    assert results["prefill"] == {"text": "C", "stop_reason": "max_tokens"}
    assert "image/png, 1×1 px" in results["vision"]  # noqa: RUF001
    assert results["file_url"] == 400
    assert results["stream"]["streamed"] == results["stream"]["final"] != ""
    assert results["_versions"] == {"2026-10-21"}


def test_cookbook_patterns(results: dict[str, Any]) -> None:
    assert results["sky"] == {"stop_reason": "end_turn", "types": ["text"]}
    assert results["forced_sonnet"] == 400
    assert results["forced_haiku"] == ["tool_use"]
    assert results["runner"]["calls"] == 1 and results["runner"]["stop"] == "end_turn"
    assert "Sunny, 21 C" in results["runner"]["last"]
    threads = [r.get("thread") for r in results["_requests"] if r.get("thread")]
    assert threads[0] == {"type": "create"} and threads[1]["type"] == "continue"
    first, second = results["cache"]
    assert first["cache_creation_input_tokens"] > 2000
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]
    assert results["citations"][0]["type"] == "char_location"
    assert results["citations"][0]["cited_text"] == "The grass is green. "
    assert results["ratelimit"] == "50"

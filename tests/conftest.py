"""Shared test setup.

Every test runs with the ANTHROPIC_* and NBCLAUDE_* environment variables removed, so a
developer's real key can never reach a test, and nothing falls back to the network.
"""

from __future__ import annotations

import pytest

#: A key-shaped secret used by the tests: it must never appear in any output, error or repr.
KEY = "sk-ant-test-N0tAR3alK3y-but-secret-0123456789"

_ENV = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "NBCLAUDE_OFFLINE",
    "NBCLAUDE_MODEL",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    # Proxies would route loopback traffic elsewhere.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")

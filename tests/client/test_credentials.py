"""Credentials: the headers they add, the environment, the missing key, and the key never shown
(repr, errors) nor sent where it does not belong; secrets() and redact() for the layers above."""

from __future__ import annotations

from typing import Any

import pytest
from client.support import BODY, assert_no_key
from conftest import KEY

import nbclaude
from nbclaude import Client
from nbclaude.testing import FakeAnthropic, HTTPError, Text

# -- the headers ------------------------------------------------------------------------------


def test_headers(fake: FakeAnthropic) -> None:
    fake.add(Text("x"))
    Client(api_key=KEY, transport=fake).create(**BODY)
    h = fake.requests[-1].headers
    assert h["x-api-key"] == KEY
    assert h["anthropic-version"] == "2023-06-01"
    assert h["user-agent"].startswith(f"nbclaude/{nbclaude.__version__}")
    assert h["content-type"] == "application/json"
    assert "authorization" not in h


def test_environment_and_auth_token(monkeypatch: pytest.MonkeyPatch, server: Any) -> None:
    fake = FakeAnthropic()
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "tok-123")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://example.invalid/")
    c = Client(transport=fake, api_version="2026-10-21")
    assert c.base_url == "http://example.invalid"
    fake.add(Text("x"))
    c.create(**BODY)
    h = fake.requests[-1].headers
    assert h["authorization"] == "Bearer tok-123"
    assert "x-api-key" not in h
    assert h["anthropic-version"] == "2026-10-21"
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    Client(transport=fake).create(**BODY)
    both = fake.requests[-1].headers
    assert both["x-api-key"] == KEY and both["authorization"] == "Bearer tok-123"


def test_missing_key_is_reported_at_request_time() -> None:
    c = Client(transport=FakeAnthropic())  # building it is fine
    with pytest.raises(nbclaude.MissingAPIKeyError) as info:
        c.create(**BODY)
    text = str(info.value)
    assert "ANTHROPIC_API_KEY" in text and "offline" in text.lower()


# -- never shown ------------------------------------------------------------------------------


def test_repr_hides_the_key() -> None:
    c = Client(api_key=KEY)
    assert KEY not in repr(c) and "<set>" in repr(c)


def test_error_text_from_the_server_never_shows_the_key(
    client: Client, fake: FakeAnthropic
) -> None:
    fake.add(HTTPError(401, message=f"invalid x-api-key: {KEY}"))
    with pytest.raises(nbclaude.AuthenticationError) as info:
        client.create(**BODY)
    assert_no_key(info.value)
    assert "invalid x-api-key" in str(info.value)

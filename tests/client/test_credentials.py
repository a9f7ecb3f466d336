"""Credentials: the headers they add, the environment, the missing key, and the key never shown
(repr, errors) nor sent where it does not belong; secrets() and redact() for the layers above."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from client.support import BODY, assert_no_key
from conftest import KEY

import nbclaude
from nbclaude import Client
from nbclaude._client.credentials import Credentials, redact, secrets
from nbclaude.testing import FakeAnthropic, HTTPError, Text

TOKEN = "tok-test-N0tAR3alT0ken-0123456789"

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


def test_credentials_repr_is_redacted() -> None:
    for creds in (Credentials(KEY), Credentials(auth_token=KEY), Client(api_key=KEY).credentials):
        assert KEY not in repr(creds) and KEY not in str(creds) and "<set>" in repr(creds)
    assert repr(Credentials()) == "Credentials(api_key=None, auth_token=None)"


def test_a_connection_error_never_shows_the_key() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused {request.headers['x-api-key']}", request=request)

    c = Client(api_key=KEY, transport=httpx.MockTransport(refuse), max_retries=0)
    with pytest.raises(nbclaude.APIConnectionError) as info:
        c.create(**BODY)
    assert "refused <redacted>" in str(info.value)
    assert_no_key(info.value)


# -- how they are sent ------------------------------------------------------------------------


def test_credentials_are_an_httpx_auth(fake: FakeAnthropic) -> None:
    fake.add(Text("x"))
    with httpx.Client(transport=fake, auth=Credentials(KEY, TOKEN)) as http:
        http.post(
            "https://api.anthropic.com/v1/messages",
            json=BODY,
            headers={"anthropic-version": "2023-06-01"},
        )
    h = fake.requests[-1].headers
    assert h["x-api-key"] == KEY and h["authorization"] == f"Bearer {TOKEN}"


def test_headers_given_for_one_request_win() -> None:
    fake = FakeAnthropic()
    c = Client(api_key=KEY, auth_token=TOKEN, transport=fake)
    c.request("GET", "/v1/models", headers={"X-Api-Key": "sk-other", "Authorization": "Bearer x"})
    h = fake.requests[-1].headers
    assert h["x-api-key"] == "sk-other" and h["authorization"] == "Bearer x"


def test_a_user_and_password_in_the_url_are_sent_as_basic_auth() -> None:
    fake = FakeAnthropic()
    fake.add(Text("x"))
    Client(api_key=KEY, base_url="http://u:p@example.invalid", transport=fake).create(**BODY)
    h = fake.requests[-1].headers
    assert h["x-api-key"] == KEY and h["authorization"] == "Basic dTpw"


def test_missing_key_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    fake = FakeAnthropic()
    c = Client(api_key="", transport=fake)  # given, though empty: the environment is not read
    assert not c.has_credentials
    with pytest.raises(nbclaude.MissingAPIKeyError):
        c.create(**BODY)
    with pytest.raises(nbclaude.MissingAPIKeyError):
        c.stream(**BODY).__enter__()
    assert fake.requests == []


# -- for the layers above: secrets() and redact() ---------------------------------------------


def test_secrets_are_the_environment_s_then_the_client_s(monkeypatch: pytest.MonkeyPatch) -> None:
    assert secrets() == [] and secrets(Client(api_key="offline")) == []  # too short
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", TOKEN)
    assert secrets() == [TOKEN]
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-env-key-0123456789")
    assert secrets(Client(api_key=KEY)) == ["sk-env-key-0123456789", TOKEN, KEY, TOKEN]
    assert secrets(Client(api_key="short", auth_token="")) == ["sk-env-key-0123456789", TOKEN]


def test_redact() -> None:
    text = f"key {KEY} and token {TOKEN}, the key again: {KEY}"
    assert redact(text, [KEY, TOKEN]) == (
        "key <redacted> and token <redacted>, the key again: <redacted>"
    )
    assert redact(text, ["", None]) == text
    assert Credentials(KEY, TOKEN).redact(text) == redact(
        text, secrets(Client(KEY, auth_token=TOKEN))
    )

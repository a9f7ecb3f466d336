"""nbclaude behind a real LiteLLM proxy, the gateway a hub puts between a class and the API.

The proxy runs as its own process on 127.0.0.1, with the loopback fake as its upstream
(``anthropic`` provider with ``api_base``, and the ``/anthropic`` pass-through route). Students
get their own keys from it (sent as ``Authorization: Bearer`` from ``$ANTHROPIC_AUTH_TOKEN``);
the gateway holds the real key, keeps each key's budget and rate limit, and answers with its own
errors, which nbclaude shows as one clean line.

What cannot be done here, and the closest real thing instead: LiteLLM's virtual keys live in a
Postgres database through Prisma, whose engine binaries Prisma downloads at run time (this
machine reaches no host but the package registries). So the per-student keys come from
LiteLLM's documented ``custom_auth`` hook (``general_settings.custom_auth`` with
``custom_auth_run_common_checks``), which returns each key's ``max_budget`` and ``rpm_limit``;
LiteLLM itself tracks each key's spend (from the fake's usage, at LiteLLM's own prices) and
enforces both, with its own error bodies.

Supply chain: LiteLLM 1.82.7 and 1.82.8 shipped a credential stealer (``litellm_init.pth``,
BerriAI/litellm#24512). The version is pinned in pyproject.toml's ``gateway`` extra, and this
test refuses to run (it fails, it does not skip) if any ``litellm_init.pth`` is installed.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import signal
import site
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nbclaude import APIStatusError, AuthenticationError, Client, RateLimitError, Session
from nbclaude.testing import FakeAnthropic

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM_KEY = "sk-ant-upstream-held-by-the-gateway"
MASTER_KEY = "sk-litellm-master-0123456789"
ADA, BROKE, SLOW = "sk-class-ada-0123456789", "sk-class-broke-0123456789", "sk-class-slow-012345"
# The same kinds of key for the notebook (each key's spend and rate lives in the gateway).
BROKE_NB, SLOW_NB = "sk-class-broke-nb-0123456", "sk-class-slow-nb-0123456"

CONFIG = """\
model_list:
  - model_name: claude-haiku-4-5
    litellm_params:
      model: anthropic/claude-haiku-4-5
      api_base: {upstream}
      api_key: {upstream_key}
general_settings:
  master_key: {master_key}
  custom_auth: class_keys.user_api_key_auth
  custom_auth_run_common_checks: true
litellm_settings:
  telemetry: false
"""

# The hub's key list: a budget per student and a rate limit (what virtual keys would hold).
CLASS_KEYS = f"""\
from fastapi import Request
from litellm.proxy._types import ProxyErrorTypes, ProxyException, UserAPIKeyAuth

KEYS = {{
    {ADA!r}: {{"max_budget": 5.0}},
    {BROKE!r}: {{"max_budget": 0.00001}},  # the first request spends more than that
    {SLOW!r}: {{"rpm_limit": 1}},
    {BROKE_NB!r}: {{"max_budget": 0.00001}},
    {SLOW_NB!r}: {{"rpm_limit": 1}},
}}


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    with open("seen.log", "a") as seen:  # what arrived at the gateway, for the test
        seen.write(f"{{request.url.path}} {{api_key}}\\n")
    if api_key not in KEYS:
        raise ProxyException(message="Authentication Error, invalid key",
                             type=ProxyErrorTypes.auth_error, param="api_key", code=401)
    return UserAPIKeyAuth(api_key=api_key, token=api_key, **KEYS[api_key])
"""


def poisoned(directories: list[str]) -> list[Path]:
    """Every ``litellm_init.pth`` in ``directories`` (the 1.82.8 credential stealer)."""
    return [p for d in directories if os.path.isdir(d) for p in Path(d).glob("litellm_init.pth")]


def site_directories() -> list[str]:
    dirs = [*site.getsitepackages(), site.getusersitepackages(), *sys.path]
    return sorted({d for d in dirs if d and os.path.isdir(d)})


def pinned_version() -> str:
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [pin] = config["project"]["optional-dependencies"]["gateway"]
    m = re.fullmatch(r"litellm\[proxy\]==(\d+\.\d+\.\d+)", pin)
    assert m, f"the gateway extra must pin one exact release: {pin!r}"
    return m.group(1)


@pytest.fixture(scope="module")
def litellm_ready() -> str:
    found = poisoned(site_directories())
    if found:
        pytest.fail(
            f"REFUSING TO RUN: {', '.join(map(str, found))} is installed. It is the credential "
            "stealer of the compromised LiteLLM 1.82.7/1.82.8 (BerriAI/litellm#24512): it runs "
            "at every Python start. Remove it, reinstall the environment, and rotate every "
            "credential this machine holds.",
            pytrace=False,
        )
    try:
        version = importlib.metadata.version("litellm")
    except importlib.metadata.PackageNotFoundError:
        message = 'LiteLLM is not installed: pip install -e ".[test,gateway]"'
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    assert version == pinned_version(), f"LiteLLM {version} is installed, not the pinned one"
    return version


def test_the_guard_finds_the_credential_stealer(tmp_path: Path) -> None:
    assert poisoned([str(tmp_path)]) == []
    (tmp_path / "litellm_init.pth").write_text("import os  # stand-in\n")
    assert poisoned([str(tmp_path)]) == [tmp_path / "litellm_init.pth"]


# -- the proxy --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeAnthropic, str]]:
    upstream = FakeAnthropic(api_key=UPSTREAM_KEY)  # only the gateway's key is accepted
    with upstream.serve(port=0) as server:
        yield upstream, server.url


@pytest.fixture(scope="module")
def gateway(
    litellm_ready: str, fake: tuple[FakeAnthropic, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """The proxy's URL, and the folder it runs in (``seen.log`` lists what arrived)."""
    folder = tmp_path_factory.mktemp("gateway")
    (folder / "config.yaml").write_text(
        CONFIG.format(upstream=fake[1], upstream_key=UPSTREAM_KEY, master_key=MASTER_KEY)
    )
    (folder / "class_keys.py").write_text(CLASS_KEYS)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "NBCLAUDE_"))}
    env.update(
        ANTHROPIC_API_BASE=fake[1],  # the /anthropic pass-through's upstream
        ANTHROPIC_API_KEY=UPSTREAM_KEY,
        LITELLM_LOCAL_MODEL_COST_MAP="True",  # its price list from the package, not the web
        LITELLM_DONT_SHOW_FEEDBACK_BOX="true",
        # Nothing but 127.0.0.1: anything else it tried would go to a closed port.
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        NO_PROXY="127.0.0.1,localhost",
    )
    command = [sys.executable, "-m", "litellm.proxy.proxy_cli", "--config", "config.yaml",
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with (folder / "proxy.log").open("wb") as out:
        proxy = subprocess.Popen(
            command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proxy, folder / "proxy.log")
        yield url, folder
    finally:
        os.killpg(proxy.pid, signal.SIGTERM)
        try:
            proxy.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proxy.pid, signal.SIGKILL)
            proxy.wait(10)


def _wait_until_up(url: str, proxy: subprocess.Popen[bytes], log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proxy.poll() is not None:
            raise AssertionError(f"the proxy exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{url}/health/liveliness", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"the proxy did not start:\n{log.read_text(errors='replace')[-3000:]}")


def seen(folder: Path) -> list[str]:
    path = folder / "seen.log"
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def hub_env(monkeypatch: pytest.MonkeyPatch, gateway: tuple[str, Path]) -> str:
    """What the hub sets: the gateway's address (with a path prefix) and the student's key."""
    base = f"{gateway[0]}/anthropic"
    monkeypatch.setenv("ANTHROPIC_BASE_URL", base)
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", ADA)
    monkeypatch.setenv("NBCLAUDE_MODEL", "claude-haiku-4-5")
    return base


# -- through the gateway -----------------------------------------------------------------------------


def test_a_conversation_streams_through_the_gateway_with_a_bearer_token_and_a_path_prefix(
    hub_env: str, gateway: tuple[str, Path], fake: tuple[FakeAnthropic, str]
) -> None:
    s = Session()  # the client comes from the environment, as in a student's notebook
    assert s.client.base_url == hub_env
    with s.stream("Hello through the gateway") as st:
        pieces = list(st)
    assert len(pieces) > 3 and "".join(pieces) == st.reply.text
    assert "offline fake" in st.reply.text and st.reply.stop_reason in ("end_turn", "max_tokens")
    second = s.send("And again")
    assert second.text and len(s.messages) == 4
    assert s.count_tokens() > 0
    # the gateway got the student's token on the prefixed route ...
    assert f"/anthropic/v1/messages {ADA}" in seen(gateway[1])
    assert f"/anthropic/v1/messages/count_tokens {ADA}" in seen(gateway[1])
    # ... and the API got the gateway's own key, never the student's
    upstream = [r for r in fake[0].requests if r.path == "/v1/messages"]
    assert upstream and all(r.headers.get("x-api-key") == UPSTREAM_KEY for r in upstream)
    assert not any(ADA in str(dict(r.headers)) for r in fake[0].requests)


def test_the_gateways_model_route_streams_too(
    gateway: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # LiteLLM's own /v1/messages (its model list, anthropic provider with api_base)
    client = Client(base_url=gateway[0], auth_token=ADA, max_retries=0)
    s = Session(model="claude-haiku-4-5", client=client)
    with s.stream("Hello, model route") as st:
        assert len(list(st)) > 3
    assert "offline fake" in st.reply.text
    assert f"/v1/messages {ADA}" in seen(gateway[1])


def _session(gateway: tuple[str, Path], token: str) -> Session:
    client = Client(base_url=f"{gateway[0]}/anthropic", auth_token=token, max_retries=0)
    return Session(model="claude-haiku-4-5", client=client)


def test_the_gateways_own_errors_are_clean_api_status_errors(gateway: tuple[str, Path]) -> None:
    def one_line(error: BaseException, *secrets: str) -> str:
        text = str(error)
        assert "\n" not in text and not any(s in text for s in secrets)
        return text

    bad = _session(gateway, "sk-not-a-class-key-0123")
    with pytest.raises(AuthenticationError) as info:
        bad.send("Hi")
    assert info.value.status_code == 401 and bad.messages == []
    assert "Authentication Error, invalid key" in one_line(info.value, "sk-not-a-class-key-0123")

    broke = _session(gateway, BROKE)
    broke.send("The first request is within the key's budget")
    with pytest.raises(APIStatusError) as info:
        broke.send("The second is not")
    e = info.value
    assert (e.status_code, e.type) == (422, "budget_exceeded") and len(broke.messages) == 2
    assert "Budget has been exceeded" in one_line(e, BROKE)

    slow = _session(gateway, SLOW)
    slow.send("one request a minute")
    with pytest.raises(RateLimitError) as info:
        slow.send("a second one")
    assert info.value.status_code == 429 and "Rate limit exceeded" in one_line(info.value, SLOW)


def test_a_class_notebook_behind_the_gateway(
    hub_env: str, gateway: tuple[str, Path], tmp_path: Path
) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from nbclaude.testing.notebook import check_outputs, execute

    def use(token: str) -> str:  # what the hub would set; here a cell switches students
        return f"import os\nos.environ['ANTHROPIC_AUTH_TOKEN'] = {token!r}\n%claude online"

    cells = [
        ("%load_ext nbclaude", False),
        ("%%claude\nHello from a class notebook", False),
        (use(BROKE_NB), False),
        ("%%claude\nWithin the key's budget", False),
        ("%%claude\nPast the key's budget", True),
        (use("sk-not-a-class-key-0123"), False),
        ("%%claude\nA bad key", True),
        (use(SLOW_NB), False),
        ("%%claude\nOne a minute", False),
        ("%%claude\nToo soon", True),
    ]
    nb = new_notebook(
        cells=[
            new_code_cell(code, metadata={"tags": ["raises-exception"] if fails else []})
            for code, fails in cells
        ]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = tmp_path / "gateway.ipynb"
    nbformat.write(nb, str(path))
    done = execute(path, timeout=120)
    assert check_outputs(done, secrets=(UPSTREAM_KEY, MASTER_KEY)) == []

    def error_line(index: int) -> tuple[str, str]:
        [error] = [o for o in done.cells[index].outputs if o.output_type == "error"]
        assert len(error.traceback) == 1, error.traceback  # one clean line, no traceback
        line = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", error.traceback[0])
        assert "\n" not in line
        return error.ename, line

    def text(index: int) -> str:
        out: list[Any] = done.cells[index].outputs
        return "\n".join(str(o.get("data", {}).get("text/markdown", "")) for o in out)

    assert "offline fake" in text(1).replace("\\", "") and "offline fake" in text(3).replace(
        "\\", ""
    )
    name, line = error_line(4)
    assert name == "APIStatusError" and "422 budget_exceeded: Budget has been exceeded" in line
    name, line = error_line(6)
    assert name == "AuthenticationError" and "Authentication Error, invalid key" in line
    name, line = error_line(9)
    assert name == "RateLimitError" and "429" in line and "Rate limit exceeded" in line
    for index in (4, 6, 9):
        assert not any(k in error_line(index)[1] for k in (ADA, BROKE_NB, SLOW_NB, UPSTREAM_KEY))

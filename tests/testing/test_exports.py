"""The public surface of nbclaude.testing: sorted, complete, documented, light to import."""

from __future__ import annotations

import subprocess
import sys

import httpx

import nbclaude.testing as testing


def test_all_is_sorted_and_complete() -> None:
    names = testing.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))  # isort style
    for name in names:
        assert getattr(testing, name) is not None
    public = {n for n in dir(testing) if not n.startswith("_")}
    assert set(names) <= public


def test_every_public_name_has_a_docstring_with_an_example() -> None:
    for name in testing.__all__:
        obj = getattr(testing, name)
        if isinstance(obj, str):
            continue
        doc = obj.__doc__ or ""
        assert "Examples" in doc, name


def test_the_fake_is_an_httpx_transport() -> None:
    fake = testing.FakeAnthropic()
    assert isinstance(fake, httpx.BaseTransport)
    assert isinstance(fake, httpx.AsyncBaseTransport)


def test_import_is_light() -> None:
    """Script items import without httpx (the transport class loads it on first use) or any
    other heavy package. How long it takes is benchmarks/import_cost.py's business (a timed
    assertion here failed on a loaded machine)."""
    heavy = ["httpx", "PIL", "numpy", "IPython", "anywidget", "ipywidgets", "markdown_it"]
    code = (
        "import sys; from nbclaude.testing import Text, HTTPError; "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_key_in_reprs() -> None:
    key = "sk-ant-test-secret-0123456789"
    fake = testing.FakeAnthropic(api_key=key)
    with httpx.Client(transport=fake, base_url="https://x") as c:
        c.post(
            "/v1/messages", json={}, headers={"x-api-key": key, "anthropic-version": "2023-06-01"}
        )
        r = c.post(
            "/v1/messages",
            json={},
            headers={"x-api-key": "sk-wrong", "anthropic-version": "2023-06-01"},
        )
    assert key not in repr(fake) and key not in repr(fake.requests)
    assert "sk-wrong" not in r.text

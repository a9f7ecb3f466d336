"""Thousands of public XSS and TeX payloads through ``safe_markdown`` and the JupyterLab
renderer harness (tests/corpus/README.md names the lists, their sources and licenses).

The lists are found by ``render_harness.public_corpus()``: vendored in tests/corpus/public/, or
in the directory ``NBCLAUDE_PUBLIC_CORPUS`` names. Without them these tests skip.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from render_harness import Marked, inspect, public_corpus, renders

from nbclaude._markdown import safe_markdown

PUBLIC = public_corpus()
needs_corpus = pytest.mark.skipif(
    not PUBLIC,
    reason="no public payload lists: see tests/corpus/README.md (tests/corpus/public/ or "
    "NBCLAUDE_PUBLIC_CORPUS)",
)


def problems(markdown: str, marked: Marked | None) -> list[str]:
    return [
        f"{name}: {p}"
        for name, html in renders(markdown, marked).items()
        for p in inspect(html, mathjax=name == "lab").problems
    ]


@needs_corpus
def test_the_lists_say_where_they_come_from() -> None:
    total = 0
    for name, doc in PUBLIC.items():
        assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", doc["source"]), name
        assert re.fullmatch(r"[0-9a-f]{40}", doc["commit"]), name
        assert doc["license"] and doc["paths"] and doc["extracted"], name
        assert doc["count"] == len(doc["payloads"]), name
        ids = [p["id"] for p in doc["payloads"]]
        assert len(ids) == len(set(ids)), name
        total += len(ids)
    assert total >= 3000


@needs_corpus
@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_payloads_are_neutralised(name: str, marked: Marked) -> None:
    failures: list[tuple[str, Any]] = []
    for payload in PUBLIC[name]["payloads"]:
        out = safe_markdown(payload["markdown"])
        found = problems(out, marked)
        if found:
            failures.append((payload["id"], found[:2]))
        elif safe_markdown(out) != out:
            failures.append((payload["id"], "safe_markdown is not idempotent"))
    assert not failures, (len(failures), failures[:10])


@needs_corpus
@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_the_harness_sees_the_raw_payloads(name: str, marked: Marked) -> None:
    """The checks can fail: many raw payloads are unsafe in the raw renderers."""
    payloads = PUBLIC[name]["payloads"]
    caught = sum(1 for p in payloads if problems(p["markdown"], marked))
    share = 0.03 if name == "mathjax" else 0.3  # (most of MathJax's tests are plain maths)
    assert caught >= share * len(payloads), (caught, len(payloads))

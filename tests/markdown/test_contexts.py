"""Every attack of the corpus in every Markdown context (``render_harness.CONTEXTS``: emphasis,
a link's text, list items, quotes, table cells, headings, next to code, maths and dollars...):
2,000+ cases through ``safe_markdown`` and the renderers of JupyterLab (marked and its maths
pre-pass), VS Code (markdown-it) and CommonMark. A vector that is harmless in a paragraph must
stay harmless wherever a model puts it."""

from __future__ import annotations

from render_harness import CONTEXTUAL, Marked, inspect, renders

from nbclaude._markdown import safe_markdown


def _problems(markdown: str, marked: Marked | None) -> list[str]:
    found = []
    for name, html in renders(markdown, marked).items():
        problems = inspect(html, mathjax=name == "lab").problems
        if problems:
            found.append(f"{name}: {problems}")
    return found


def test_the_corpus_in_every_context(marked: Marked) -> None:
    assert len(CONTEXTUAL) >= 2000
    failures = []
    for vector in CONTEXTUAL:
        out = safe_markdown(vector["markdown"])
        problems = _problems(out, marked)
        if problems:
            failures.append(f"{vector['id']}: {problems}")
        elif safe_markdown(out) != out:
            failures.append(f"{vector['id']}: safe_markdown is not idempotent")
    assert failures == [], "\n".join(failures[:20])

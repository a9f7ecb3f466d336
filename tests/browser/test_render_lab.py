"""Safe Markdown in the real JupyterLab renderer (marked, its math pre-pass, MathJax), in
Chromium: every XSS corpus vector and a few fidelity probes. Part of the browser suite, so it
shares its one JupyterLab server and one Playwright session."""

from __future__ import annotations

from typing import Any

import pytest
from render_harness import CORPUS

from .conftest import Lab, Notebook

pytestmark = pytest.mark.browser

_LAB_PROBES = {
    "currency": ("It costs $5 and $10 today.", 0, "It costs $5 and $10 today."),
    "currency-and-math": ("Pay $5 if $x > 1$, else $7.", 1, "else $7."),
    "math": ("Euler: $e^{i\\pi}+1=0$ and $a<b$.", 2, "Euler:"),
    "brackets": ("Let \\(x^2\\) and \\[y=1\\] here.", 2, "Let"),
    "list-code": ("1. Run:\n   ```bash\n   $ ls\n   ```\n2. Then $5 and $6.", 0, "$5 and $6"),
    "paths": ("Open C:\\Users\\me.", 0, "C:\\Users\\me."),
}

_LAB_SCAN = """(i) => {
    const out = document.querySelectorAll('.jp-Notebook .jp-Cell')[i]
        .querySelector('.jp-OutputArea-output');
    if (!out) return null;
    const all = [...out.querySelectorAll('*')].filter(e => !e.closest('mjx-container'));
    const bad = all.filter(e => /^(script|iframe|object|embed|img|svg|math|style|form|base|meta|link|video|audio|input|button)$/i.test(e.tagName)).map(e => e.tagName);
    const attrs = all.flatMap(e => [...e.attributes]
        .filter(a => /^on/i.test(a.name) || (/^(href|src|action|formaction|xlink:href)$/.test(a.name)
            && !/^(https?:|mailto:|#)/i.test(a.value.trim())))
        .map(a => `${e.tagName}[${a.name}=${a.value}]`));
    const mathLinks = [...out.querySelectorAll('mjx-container [href]')].map(e => e.getAttribute('href'));
    return {text: out.innerText, bad, attrs, mathLinks, math: out.querySelectorAll('mjx-container').length,
            codes: [...out.querySelectorAll('code')].map(c => c.textContent)};
}"""


def test_jupyterlab_renders_safe_markdown(lab: Lab, browser: Any) -> None:
    """Every corpus vector and a few fidelity probes, through the real JupyterLab renderer
    (marked, its math pre-pass and MathJax) in Chromium, in the browser suite's session."""
    import nbformat

    dialogs: list[str] = []
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(book, str(lab.root / "render.ipynb"))
    context = browser.new_context()
    try:
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{lab.url}/lab/tree/render.ipynb?token={lab.token}&reset")
        page.wait_for_function(
            """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(
            e => / \\| Idle$/.test(e.textContent) && !e.textContent.startsWith('No Kernel'))""",
            timeout=60_000,
        )
        nb = Notebook(page, lab)
        nb.run(
            "from IPython.display import Markdown, display\n"
            "from nbclaude._markdown import safe_markdown\nprint('ok')",
            timeout=60,
        )
        cells = {f"probe:{k}": v[0] for k, v in _LAB_PROBES.items()}
        cells.update({f"corpus:{v['id']}": v["markdown"] for v in CORPUS})
        index = {
            name: nb.add(f"display(Markdown(safe_markdown({md!r})))") for name, md in cells.items()
        }
        # control: plain CommonMark escapes are not enough in JupyterLab (it pairs "$5 and $")
        index["control"] = nb.add("display(Markdown('It costs \\\\$5 and \\\\$10 today.'))")
        nb.wait_done(max(index.values()), timeout=120)
        page.wait_for_timeout(3000)  # MathJax typesets asynchronously
        seen = {name: page.evaluate(_LAB_SCAN, i) for name, i in index.items()}
    finally:
        context.close()
    assert not dialogs
    for name, result in seen.items():
        assert result is not None, name
        assert not result["bad"] and not result["attrs"] and not result["mathLinks"], (name, result)
    for key, (_, maths, text) in _LAB_PROBES.items():
        result = seen[f"probe:{key}"]
        assert result["math"] == maths, (key, result)
        assert text in result["text"], (key, result)
    assert "$ ls" in seen["probe:list-code"]["codes"]
    assert seen["control"]["math"] == 1, seen["control"]

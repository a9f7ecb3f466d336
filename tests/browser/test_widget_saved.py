"""A ChatWidget's conversation survives in the saved notebook (issue #12 item 3): chat in
JupyterLab or Notebook 7, save, shut the kernel down, reopen: the page shows the conversation
(and not twice while the widget lived); nbconvert's HTML of the file has it too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import ARTIFACTS, Lab

pytestmark = pytest.mark.browser

QUESTION = "What is the derivative of x squared?"
ANSWER = (
    "The derivative of $x^2$ is **2x**, which costs $5 to learn and $7 to forget.\\n\\n"
    "```python\\ndef f(x):\\n    return 2 * x\\n```\\n\\n"
    "Not run: <img src=x onerror=alert(1)> and [a link](javascript:alert(1))."
)
SETUP = f"""\
import nbclaude
from nbclaude.testing import FakeAnthropic, Text, ToolUse
fake = FakeAnthropic([ToolUse('square', {{'x': 3}}, text='Let me check.'), Text('{ANSWER}')])
session = nbclaude.get_session()
session.client = nbclaude.Client(transport=fake)
session.model = 'claude-haiku-4-5'
def square(x: int) -> int:
    'Square a number.'
    return x * x
session.tools.append(square)
"""
#: Where each front end opens a notebook.
UIS = {"lab": "lab/tree", "notebook7": "notebooks"}

KERNEL_IDLE = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session &&
                   panel.sessionContext.session.kernel;
    return Boolean(kernel) && kernel.status === "idle";
}"""


def open_page(lab: Lab, browser: Any, name: str, ui: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    problems: list[str] = []

    def route(route: Any) -> None:
        url = route.request.url
        if url.startswith((lab.url, "data:", "blob:")):
            route.continue_()
        else:
            problems.append(f"remote request: {url}")
            route.abort()

    page.route("**/*", route)
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(f"{lab.url}/{UIS[ui]}/{name}?token={lab.token}&reset")
    page.wait_for_function("() => Boolean(window.jupyterapp)", timeout=60_000)
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
    return context, page, problems


def saved_copy(page: Any) -> Any:
    return page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".nbc-saved")


@pytest.mark.parametrize("ui", list(UIS))
def test_a_widget_chat_reads_in_the_saved_notebook_without_its_kernel(
    lab: Lab, browser: Any, ui: str
) -> None:
    import nbformat

    name = f"saved-chat-{ui}.ipynb"
    path = lab.root / name
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell("nbclaude.ChatWidget()"),
    ]
    nbformat.write(nb, str(path))

    # 1. chat in the live widget
    context, page, problems = open_page(lab, browser, name, ui)
    try:
        page.wait_for_function(KERNEL_IDLE, timeout=60_000)
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        widget = page.locator(".nbc-root")
        widget.wait_for(timeout=30_000)
        box = widget.get_by_role("textbox", name="Message Claude")
        box.fill(QUESTION)
        box.press("Enter")
        widget.get_by_role("button", name="Run tool").click(timeout=30_000)
        widget.locator("article.nbc-msg:not(.nbc-live) strong", has_text="2x").wait_for(
            timeout=30_000
        )
        widget.locator(".nbc-live").wait_for(state="detached", timeout=30_000)
        # the saved copy is there, kept up to date, and hidden while the widget shows
        copy = saved_copy(page)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.nbc-saved')].some("
            "(e) => e.textContent.includes('costs $5'))",
            timeout=15_000,
        )
        assert not copy.is_visible()
        assert page.locator(".nbc-saved").count() == 1
        # save, stop the kernel
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function(
            "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000
        )
        page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        page.wait_for_function(
            "() => !window.jupyterapp.shell.currentWidget.sessionContext.session",
            timeout=30_000,
        )
    finally:
        context.close()

    # 2. the file holds the readable copy and the machine-readable turns
    saved = nbformat.read(str(path), as_version=4)
    outputs = saved.cells[1].outputs
    (copy_out,) = [o for o in outputs if "nbclaude" in o.get("metadata", {})]
    meta = copy_out["metadata"]["nbclaude"]
    assert (meta["version"], meta["kind"], meta["model"]) == (1, "widget", "claude-haiku-4-5")
    assert [m["role"] for m in meta["messages"]] == ["user", "assistant", "user", "assistant"]
    assert meta["messages"][0]["content"] == QUESTION
    assert "costs $5" in meta["messages"][-1]["content"]
    assert QUESTION in copy_out["data"]["text/html"]

    # 3. reopened: no widget model any more, the conversation reads on the page
    context, page, problems = open_page(lab, browser, name, ui)
    try:
        copy = saved_copy(page)
        copy.wait_for(state="visible", timeout=30_000)
        text = copy.inner_text()
        assert QUESTION in text
        assert "costs $5 to learn and $7 to forget" in text  # dollars stay dollars
        assert "return 2 * x" in text
        assert "<img src=x onerror=alert(1)>" in text  # shown as text, never run
        tool = copy.locator("details", has_text="square")
        assert tool.count() == 1 and tool.evaluate("(e) => e.open") is False  # folded
        assert page.locator(".nbc-root").count() == 0
        bad = copy.evaluate(
            """(root) => [...root.querySelectorAll("*")].flatMap((el) =>
                [...el.attributes].filter((a) => a.name.startsWith("on") ||
                    /^\\s*javascript:/i.test(a.value)).map((a) => el.localName + "[" + a.name + "]"))"""
        )
        assert bad == []
        page.wait_for_timeout(500)  # give anything that should not run a chance to
        assert problems == []
        ARTIFACTS.mkdir(exist_ok=True)
        copy.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"saved-chat-reopened-{ui}.png"), full_page=True)
    finally:
        page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        context.close()

    # 4. nbconvert's HTML of the saved notebook has the conversation
    if ui == "lab":
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_filename(str(path))
        assert QUESTION in body and "costs $5 to learn" in body
        assert 'class="nbc-saved' in body
        (ARTIFACTS / "saved-chat.html").write_text(body, encoding="utf-8")
        assert json.loads(Path(path).read_text())["nbformat"] == 4

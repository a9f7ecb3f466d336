"""A tool approval waiting in the ChatWidget survives a page reload (issue #14 item 2): the
reloaded page shows the question again, and Run tool finishes the turn."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ARTIFACTS, Lab
from .test_widget_saved import KERNEL_IDLE, open_page

pytestmark = pytest.mark.browser

SETUP = """\
import nbclaude
from nbclaude.testing import FakeAnthropic, Text, ToolUse
fake = FakeAnthropic([ToolUse('get_weather', {'city': 'Paris'}, text='Let me look.'),
                      Text('It is sunny in Paris.')])
session = nbclaude.get_session()
session.client = nbclaude.Client(transport=fake)
session.model = 'claude-haiku-4-5'
CALLS = []
def get_weather(city: str) -> str:
    'The weather in a city.'
    CALLS.append(city)
    return 'sunny'
session.tools.append(get_weather)
"""


def test_a_pending_approval_shows_again_after_a_page_reload(lab: Lab, browser: Any) -> None:
    import nbformat

    name = "reload-approval.ipynb"
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
    nbformat.write(nb, str(lab.root / name))
    context, page, problems = open_page(lab, browser, name, "lab")
    try:
        page.wait_for_function(KERNEL_IDLE, timeout=60_000)
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        widget = page.locator(".nbc-root")
        widget.wait_for(timeout=30_000)
        box = widget.get_by_role("textbox", name="Message Claude")
        box.fill("Weather in Paris?")
        box.press("Enter")
        widget.get_by_role("group", name="Claude wants to run get_weather").wait_for(timeout=30_000)
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function(
            "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000
        )
        # the page reloads (a student presses F5): the kernel, and the turn waiting in it, stay
        page.reload()
        page.wait_for_function("() => Boolean(window.jupyterapp)", timeout=60_000)
        widget = page.locator(".nbc-root")
        widget.wait_for(timeout=60_000)
        prompt = widget.get_by_role("group", name="Claude wants to run get_weather")
        prompt.wait_for(timeout=30_000)
        assert '"city": "Paris"' in prompt.inner_text()
        assert "Let me look." in widget.locator("article.nbc-msg").nth(1).inner_text()
        assert widget.get_by_role("button", name="Stop").is_visible()  # the turn is still on
        assert not widget.locator(".nbc-live").is_visible()  # no empty "writing…" bubble
        ARTIFACTS.mkdir(exist_ok=True)
        widget.screenshot(path=str(ARTIFACTS / "chat-widget-approval-after-reload.png"))
        prompt.get_by_role("button", name="Run tool").click()
        widget.locator("article.nbc-msg:not(.nbc-live)", has_text="It is sunny in Paris.").wait_for(
            timeout=30_000
        )
        prompt.wait_for(state="hidden", timeout=10_000)
        assert problems == []
    finally:
        page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        context.close()

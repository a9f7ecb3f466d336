"""ChatWidget in real JupyterLab + Chromium: what a student sees and what the kernel holds."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS, BROWSER_KEY, Notebook, Traffic

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]

LIVE = ".nbc-live"
ARTICLES = "article.nbc-msg:not(.nbc-live)"


def show_widget(nb: Notebook, code: str = "w = nbclaude.ChatWidget(); w") -> Any:
    index = nb.add(code)
    nb.wait_done(index)
    widget = nb.widget(index)
    widget.wait_for(timeout=15_000)
    return widget


def reset(nb: Notebook) -> None:
    nb.run(
        "session.stop(); session.reset(); fake.clear(); session.tools.clear(); "
        "session.model = 'claude-haiku-4-5'"
    )


def test_send_with_enter_streams_and_lands_in_the_kernel(notebook: Notebook) -> None:
    nb = notebook
    reset(nb)
    # slow enough (about 2 s) that the live bubble is on screen long enough to be seen
    nb.run("fake.add(Text('Hello from the **fake** Claude. ' * 8, rate=20))")
    widget = show_widget(nb)
    box = widget.get_by_role("textbox", name="Message Claude")
    box.fill("Hi, who are you?")
    box.press("Enter")
    # the reply streams into a live bubble, then becomes part of the transcript
    widget.locator(LIVE).wait_for(timeout=20_000)
    widget.locator(f"{LIVE} strong").first.wait_for(timeout=20_000)
    widget.locator(LIVE).wait_for(state="detached", timeout=15_000)
    assert widget.locator(ARTICLES).count() == 2
    assert "Hi, who are you?" in widget.locator(ARTICLES).nth(0).inner_text()
    assert widget.locator(f"{ARTICLES} strong").first.inner_text() == "fake"
    assert box.input_value() == ""
    assert nb.value("[m['role'] for m in session.messages]") == ["user", "assistant"]
    assert nb.value("session.messages[0]['content']") == "Hi, who are you?"


def test_shift_enter_adds_a_line(notebook: Notebook) -> None:
    nb = notebook
    reset(nb)
    widget = show_widget(nb)
    box = widget.get_by_role("textbox", name="Message Claude")
    box.click()
    box.type("line one")
    box.press("Shift+Enter")
    box.type("line two")
    assert box.input_value() == "line one\nline two"
    assert nb.value("len(session.messages)") == 0


def test_stop_appears_while_streaming_and_stops(notebook: Notebook) -> None:
    nb = notebook
    reset(nb)
    nb.run("fake.add(Text('slow ' * 400, rate=20))")  # would take 20 s
    widget = show_widget(nb)
    assert (
        widget.get_by_role("button", name="Stop").count() == 0
        or not widget.get_by_role("button", name="Stop").is_visible()
    )
    widget.get_by_role("textbox", name="Message Claude").fill("Tell me a long story")
    widget.get_by_role("button", name="Send").click()
    stop = widget.get_by_role("button", name="Stop")
    stop.wait_for(state="visible", timeout=20_000)
    widget.locator(LIVE).get_by_text("slow", exact=False).first.wait_for(timeout=20_000)
    t0 = time.monotonic()
    stop.click()
    widget.get_by_role("button", name="Send").wait_for(state="visible", timeout=5_000)
    elapsed = time.monotonic() - t0
    assert elapsed < 1.0, f"Stop took {elapsed:.2f} s"
    widget.locator(".nbc-tag", has_text="stopped").wait_for(timeout=5_000)
    kept = nb.value("session.messages[-1]['content']")
    assert kept.startswith("slow") and len(kept) < 400 * 5
    assert nb.value("session.busy") is False


def test_claude_magic_turns_show_live_in_the_widget(notebook: Notebook) -> None:
    nb = notebook
    reset(nb)
    nb.run("%load_ext nbclaude")
    nb.run("fake.add(Text('First answer.'), Text('Magic answer, ' * 30, rate=40))")
    widget = show_widget(nb)
    box = widget.get_by_role("textbox", name="Message Claude")
    box.fill("Widget question")
    box.press("Enter")
    widget.locator(ARTICLES).nth(1).wait_for(timeout=30_000)
    # a %%claude cell continues the same conversation, and the widget shows it while it streams
    index = nb.add("%%claude\nA question from a cell")
    widget.locator(LIVE).get_by_text("Magic answer", exact=False).first.wait_for(timeout=30_000)
    nb.wait_done(index, timeout=30)
    widget.locator(LIVE).wait_for(state="detached", timeout=20_000)
    texts = [t.strip() for t in widget.locator(ARTICLES).all_inner_texts()]
    assert len(texts) == 4
    assert "A question from a cell" in texts[2]
    sent = nb.value("[m['content'] for m in posts()[-1]['messages']]")
    assert sent[:2] == ["Widget question", "First answer."]


def test_a_tool_call_asks_runs_and_shows_collapsed(notebook: Notebook) -> None:
    nb = notebook
    reset(nb)
    nb.run(
        "from nbclaude.testing import ToolUse\n"
        "def add(a: int, b: int) -> int:\n"
        "    'Add two numbers.'\n"
        "    return a + b\n"
        "session.tools.append(add)\n"
        "fake.add(ToolUse('add', {'a': 19, 'b': 23}, text='Let me add <b>them</b>.'),\n"
        "         Text('The sum is **42**.', rate=40))"
    )
    widget = show_widget(nb)
    settings = widget.get_by_role("button", name="Settings")
    settings.click()
    switch = widget.get_by_role("checkbox", name="Let Claude use tools")
    assert switch.is_checked() and switch.is_enabled()
    assert "Tool: add." in widget.get_by_role("group", name="Settings").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    widget.screenshot(path=str(ARTIFACTS / "chat-widget-tool-settings.png"))
    settings.click()
    box = widget.get_by_role("textbox", name="Message Claude")
    box.fill("What is 19 + 23?")
    box.press("Enter")
    # the prompt appears (focused: the keyboard was in the widget), the call waits for it
    prompt = widget.get_by_role("group", name="Claude wants to run add")
    prompt.wait_for(timeout=20_000)
    assert json.loads(prompt.locator("pre").inner_text()) == {"a": 19, "b": 23}
    tool = widget.locator(f"{ARTICLES} details.nbc-tool")
    assert tool.locator(".nbc-tool-status").inner_text() == "waiting for you"
    assert "Let me add <b>them</b>." in widget.locator(ARTICLES).nth(1).inner_text()
    assert widget.get_by_role("button", name="Stop").is_visible()  # the turn is still on
    nb.page.wait_for_function(
        "() => document.activeElement && document.activeElement.classList.contains('nbc-approval')",
        timeout=5_000,
    )
    widget.screenshot(path=str(ARTIFACTS / "chat-widget-tool-approval.png"))
    nb.page.keyboard.press("Tab")  # keyboard only: Tab to "Run tool", Enter
    assert nb.page.evaluate("() => document.activeElement.textContent") == "Run tool"
    nb.page.keyboard.press("Enter")
    # the reply continues after the tool ran; the call shows collapsed with its result
    prompt.wait_for(state="hidden", timeout=10_000)
    widget.locator(f"{ARTICLES} strong", has_text="42").wait_for(timeout=20_000)
    widget.locator(LIVE).wait_for(state="detached", timeout=20_000)
    assert widget.locator(ARTICLES).count() == 2  # the tool round is part of one reply
    assert "The sum is 42." in widget.locator(ARTICLES).nth(1).inner_text()
    assert tool.locator(".nbc-tool-status").inner_text() == "done"
    assert tool.evaluate("(e) => e.open") is False
    result = tool.locator("pre").nth(1)
    assert not result.is_visible()
    tool.locator("summary").click()
    assert result.inner_text() == "42"
    widget.screenshot(path=str(ARTIFACTS / "chat-widget-tool-done.png"))
    assert nb.value("[m['role'] for m in session.messages]") == [
        "user",
        "assistant",
        "user",
        "assistant",
    ]
    assert nb.value("session.messages[2]['content'][0]['content']") == "42"
    nb.run("session.tools.clear()")


def test_attach_an_image_with_the_file_picker(notebook: Notebook, tmp_path: Path) -> None:
    from PIL import Image

    nb = notebook
    reset(nb)
    path = tmp_path / "big-red.png"
    Image.new("RGB", (2400, 1600), (220, 40, 40)).save(path)
    nb.run("fake.add(Text('A red rectangle.'))")
    widget = show_widget(nb)
    with nb.page.expect_file_chooser() as chooser:
        widget.get_by_role("button", name="Attach image").click()
    chooser.value.set_files(str(path))
    widget.locator(".nbc-pending-item.nbc-ready").wait_for(timeout=30_000)
    widget.get_by_role("textbox", name="Message Claude").fill("What is this?")
    widget.get_by_role("button", name="Send").click()
    thumb = widget.locator(f"{ARTICLES} img.nbc-thumb")
    thumb.wait_for(timeout=30_000)
    assert thumb.get_attribute("src").startswith("data:image/")
    widget.locator(ARTICLES).nth(1).wait_for(timeout=30_000)
    sent = nb.value(
        "[(b['type'], b.get('source', {}).get('media_type')) "
        "for b in posts()[-1]['messages'][0]['content']]"
    )
    assert sent == [["image", "image/png"], ["text", None]]
    size = nb.value(
        "__import__('nbclaude._content.images', fromlist=['x']).image_info("
        "posts()[-1]['messages'][0]['content'][0])[1:3]"
    )
    assert max(size) <= 1568  # went through nbclaude.image: downscaled to the API's limit


def test_a_non_image_gets_a_clear_message(notebook: Notebook, tmp_path: Path) -> None:
    nb = notebook
    reset(nb)
    path = tmp_path / "notes.txt"
    path.write_text("not a picture")
    widget = show_widget(nb)
    with nb.page.expect_file_chooser() as chooser:
        widget.get_by_role("button", name="Attach image").click()
    chooser.value.set_files(str(path))
    status = widget.get_by_role("status")
    status.get_by_text("notes.txt is not an image", exact=False).wait_for(timeout=20_000)


def test_errors_show_a_banner_with_retry(notebook: Notebook) -> None:
    nb = notebook
    reset(nb)
    nb.run(
        "from nbclaude.testing import HTTPError; fake.add(HTTPError(529), HTTPError(529), "
        "HTTPError(529), Text('Back again.'))"
    )
    widget = show_widget(nb)
    widget.get_by_role("textbox", name="Message Claude").fill("Are you there?")
    widget.get_by_role("textbox", name="Message Claude").press("Enter")
    alert = widget.get_by_role("alert")
    alert.get_by_text("overloaded", exact=False).first.wait_for(timeout=20_000)
    assert nb.value("len(session.messages)") == 0
    settings = widget.get_by_role("button", name="Settings")
    settings.click()
    assert settings.get_attribute("aria-expanded") == "true"
    panel = widget.get_by_role("group", name="Settings")
    assert panel.get_by_role("combobox").input_value() == "claude-haiku-4-5"
    ARTIFACTS.mkdir(exist_ok=True)
    widget.screenshot(path=str(ARTIFACTS / "chat-widget-error-settings.png"))
    settings.click()
    alert.get_by_role("button", name="Retry").click()
    widget.locator(ARTICLES).nth(1).wait_for(timeout=30_000)
    assert "Back again." in widget.locator(ARTICLES).nth(1).inner_text()
    assert not alert.is_visible()


def test_clear_asks_first_and_escape_keeps_the_conversation(notebook: Notebook) -> None:
    nb = notebook
    reset(nb)
    nb.run(
        "session.messages += [{'role': 'user', 'content': 'Keep me'},\n"
        "                     {'role': 'assistant', 'content': 'Kept.'}]"
    )
    widget = show_widget(nb)
    widget.locator(ARTICLES).nth(1).wait_for(timeout=15_000)
    widget.get_by_role("button", name="Clear").click()
    question = widget.get_by_role("alertdialog")
    question.wait_for(timeout=5_000)
    assert "%%claude cells share it" in question.inner_text()
    focused = "() => document.activeElement && document.activeElement.textContent"
    assert nb.page.evaluate(focused) == "Keep the conversation"
    nb.page.keyboard.press("Escape")
    question.wait_for(state="hidden", timeout=5_000)
    assert nb.page.evaluate(focused) == "Clear"
    nb.page.wait_for_timeout(300)
    assert widget.locator(ARTICLES).count() == 2  # nothing was sent
    # keyboard only: Enter on Clear, Tab to "Clear it", Enter
    nb.page.keyboard.press("Enter")
    question.wait_for(timeout=5_000)
    nb.page.keyboard.press("Tab")
    assert nb.page.evaluate(focused) == "Clear it"
    nb.page.keyboard.press("Enter")
    widget.locator(ARTICLES).first.wait_for(state="detached", timeout=10_000)
    assert nb.value("len(session.messages)") == 0


def test_a_failed_turn_gives_the_text_back_and_dismiss_keeps_it(notebook: Notebook) -> None:
    nb = notebook
    reset(nb)
    nb.run(
        "from nbclaude.testing import HTTPError, StreamErrorEvent\n"
        "fake.add(HTTPError(529), HTTPError(529), HTTPError(529),\n"
        "         StreamErrorEvent(after=12, reply=Text('Streaming words ' * 20, rate=40)))"
    )
    widget = show_widget(nb)
    box = widget.get_by_role("textbox", name="Message Claude")
    box.fill("Are you there?")
    box.press("Enter")
    alert = widget.get_by_role("alert")
    alert.get_by_text("overloaded", exact=False).first.wait_for(timeout=30_000)
    nb.page.wait_for_function(
        "(el) => el.value === 'Are you there?'", arg=box.element_handle(), timeout=10_000
    )
    alert.get_by_role("button", name="Dismiss error").click()
    alert.wait_for(state="hidden", timeout=5_000)
    assert box.input_value() == "Are you there?"
    # a stream that breaks half way: what came stays, marked, and the text is back again
    box.press("Enter")
    failed = widget.locator(".nbc-failed")
    failed.wait_for(timeout=30_000)
    assert "Streaming words" in failed.inner_text()
    assert "failed" in failed.locator(".nbc-tag").inner_text()
    assert "Are you there?" in widget.locator(".nbc-failed-question").inner_text()
    nb.page.wait_for_function(
        "(el) => el.value === 'Are you there?'", arg=box.element_handle(), timeout=10_000
    )
    assert nb.value("len(session.messages)") == 0  # the history rule: rolled back
    ARTIFACTS.mkdir(exist_ok=True)
    widget.screenshot(path=str(ARTIFACTS / "chat-widget-failed-turn.png"))


def test_ctrl_s_in_the_message_box_saves_the_notebook(notebook: Notebook) -> None:
    nb = notebook
    reset(nb)
    widget = show_widget(nb, "w_save = nbclaude.ChatWidget(); w_save")
    dirty = "() => window.jupyterapp.shell.currentWidget.context.model.dirty"
    assert nb.page.evaluate(dirty) is True  # cells ran since the last save
    box = widget.get_by_role("textbox", name="Message Claude")
    box.click()
    box.type("half a question")
    box.press("Control+s")
    nb.page.wait_for_function(f"() => !({dirty})()", timeout=15_000)
    saved = json.loads((nb.lab.root / "chat.ipynb").read_text())
    assert any("w_save = nbclaude.ChatWidget()" in "".join(c["source"]) for c in saved["cells"])
    assert box.input_value() == "half a question"  # the box kept its text (and its focus)
    assert nb.page.evaluate("() => document.activeElement.getAttribute('aria-label')") == (
        "Message Claude"
    )
    # the notebook's own single-key commands still do not fire from the box
    cells = nb.page.evaluate("() => document.querySelectorAll('.jp-Notebook .jp-Cell').length")
    box.press("a")
    box.press("b")
    assert box.input_value() == "half a questionab"
    assert cells == nb.page.evaluate(
        "() => document.querySelectorAll('.jp-Notebook .jp-Cell').length"
    )


def test_code_blocks_scroll_and_keep_their_label_above_at_600_px(notebook: Notebook) -> None:
    nb = notebook
    reset(nb)
    long_line = "result = compute_the_derivative_of(polynomial_coefficients, " * 4 + ")"
    nb.run(f"fake.add(Text('Here:\\n\\n```python\\n{long_line}\\nprint(result)\\n```\\n'))")
    nb.page.set_viewport_size({"width": 600, "height": 1000})
    nb.page.evaluate("() => window.jupyterapp.shell.collapseLeft()")  # as on a small laptop
    try:
        widget = show_widget(nb)
        widget.get_by_role("textbox", name="Message Claude").fill("Show me code")
        widget.get_by_role("textbox", name="Message Claude").press("Enter")
        code = widget.locator(f"{ARTICLES} .nbc-code").first
        code.wait_for(timeout=30_000)
        widget.scroll_into_view_if_needed()
        geometry = code.evaluate(
            """(block) => {
                const pre = block.querySelector("pre"), head = block.querySelector(".nbc-code-head");
                const label = head.querySelector(".nbc-code-lang"), copy = head.querySelector("button");
                const line = parseFloat(getComputedStyle(pre.querySelector("code")).lineHeight);
                const box = (e) => e.getBoundingClientRect();
                return {scrolls: pre.scrollWidth > pre.clientWidth, overflowX: getComputedStyle(pre).overflowX,
                        whiteSpace: getComputedStyle(pre.querySelector("code")).whiteSpace,
                        lines: Math.round((pre.querySelector("code").getBoundingClientRect().height) / line),
                        labelBottom: box(label).bottom, copyBottom: box(copy).bottom,
                        preTop: box(pre).top, label: label.textContent,
                        blockRight: box(block).right, rootRight: box(block.closest(".nbc-root")).right};
            }"""
        )
        ARTIFACTS.mkdir(exist_ok=True)
        widget.screenshot(path=str(ARTIFACTS / "chat-widget-600px.png"))
    finally:
        nb.page.set_viewport_size({"width": 1280, "height": 1000})
    assert geometry["rootRight"] - geometry["blockRight"] < 100, geometry
    assert geometry["scrolls"] and geometry["overflowX"] == "auto", geometry
    assert geometry["whiteSpace"] == "pre" and geometry["lines"] == 2, geometry  # no wrapping
    assert geometry["label"] == "python"
    assert geometry["labelBottom"] <= geometry["preTop"] + 1, geometry  # on their own row
    assert geometry["copyBottom"] <= geometry["preTop"] + 1, geometry
    assert geometry["blockRight"] <= geometry["rootRight"], geometry  # inside the widget


def test_xss_corpus_runs_nothing(notebook: Notebook, traffic: Traffic) -> None:
    nb = notebook
    reset(nb)
    corpus = json.loads((REPO / "tests" / "xss_corpus.json").read_text())
    nb.run(
        f"corpus = json.load(open({str(REPO / 'tests' / 'xss_corpus.json')!r}))\n"
        "for item in corpus:\n"
        "    session.messages += [{'role': 'user', 'content': item['id']},\n"
        "                         {'role': 'assistant', 'content': item['markdown']}]\n"
        # and the live path: the first 40 vectors streamed as one reply (109 deltas, about
        # 5 s: after Enter the page re-renders a 268-message transcript first, and a stream
        # much shorter than that could come and go before the live bubble is ever shown)
        "fake.add(Text('\\n\\n'.join(i['markdown'] for i in corpus[:40]), rate=20))"
    )
    before_dialogs = len(traffic.dialogs)
    widget = show_widget(nb)
    # the transcript reaches a new view after the view itself: wait for all of it (15 s)
    expect(widget.locator(ARTICLES)).to_have_count(2 * len(corpus), timeout=15_000)
    box = widget.get_by_role("textbox", name="Message Claude")
    box.fill("stream the attacks")
    box.press("Enter")
    widget.locator(LIVE).wait_for(timeout=20_000)
    widget.locator(LIVE).wait_for(state="detached", timeout=30_000)
    # older messages show as plain text until they scroll near: render them all (as printing
    # does) so that every vector is checked rendered
    nb.page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    assert widget.locator("article.nbc-stand-in").count() == 0
    nb.page.wait_for_timeout(500)  # give any late handler a chance to fire
    found = widget.evaluate(
        """(root) => {
            const bad = [];
            for (const el of root.querySelectorAll("*")) {
                const tag = el.localName;
                if (["script", "iframe", "object", "embed", "form", "style", "link", "meta",
                     "base", "video", "audio"].includes(tag)) bad.push(tag);
                if (tag === "img" && !el.classList.contains("nbc-thumb") &&
                    !el.classList.contains("nbc-thumb-small")) bad.push("img " + el.src);
                for (const a of el.attributes) {
                    if (a.name.startsWith("on")) bad.push(tag + "[" + a.name + "]");
                    if (/^\\s*(javascript|vbscript|data):/i.test(a.value) && a.name !== "data-tex")
                        bad.push(tag + "[" + a.name + "=" + a.value + "]");
                }
            }
            return bad;
        }"""
    )
    assert found == []
    assert traffic.dialogs[before_dialogs:] == []
    assert not [u for u in traffic.remote if "attacker.example" in u]
    # benign content still renders: math and code from the corpus
    assert widget.locator(".katex").count() > 0
    assert widget.locator("pre code.language-python").count() > 0


def test_math_fonts_are_bundled(notebook: Notebook, traffic: Traffic) -> None:
    nb = notebook
    reset(nb)
    nb.run("fake.add(Text('Euler: $e^{i\\\\pi}+1=0$ and $$\\\\int_0^1 x^2\\\\,dx$$'))")
    widget = show_widget(nb)
    widget.get_by_role("textbox", name="Message Claude").fill("math please")
    widget.get_by_role("textbox", name="Message Claude").press("Enter")
    widget.locator(f"{ARTICLES} .katex").first.wait_for(timeout=30_000)
    loaded = nb.page.evaluate(
        """async () => { await document.fonts.ready;
            return [...document.fonts].filter(f => f.family.includes("KaTeX") &&
                                                   f.status === "loaded").map(f => f.family); }"""
    )
    assert "KaTeX_Main" in loaded or '"KaTeX_Main"' in loaded
    assert not [u for u in traffic.remote if "font" in u.lower()]


def test_the_api_key_is_nowhere_in_the_page(notebook: Notebook, traffic: Traffic) -> None:
    nb = notebook
    assert nb.value("len(os.environ['ANTHROPIC_API_KEY'])") == len(BROWSER_KEY)
    html = nb.page.content()
    assert BROWSER_KEY not in html
    assert not any(BROWSER_KEY.encode() in frame for frame in traffic.frames)
    storage = nb.page.evaluate(
        "() => JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage})"
    )
    assert BROWSER_KEY not in storage


CLOSE_OTHER_WIDGETS = (
    "from ipywidgets.widgets.widget import _instances\n"
    "for _w in list(_instances.values()):\n"
    "    if isinstance(_w, nbclaude.ChatWidget):\n"
    "        _w.close()\n"
)


def test_redisplaying_200_turns_renders_in_under_a_second(notebook: Notebook) -> None:
    nb = notebook
    reset(nb)
    # the widgets of earlier tests would follow the 200 turns too (and write their saved copies)
    nb.run(CLOSE_OTHER_WIDGETS)
    nb.run(
        "reply = ('Here is a step:\\n\\n```python\\nfor i in range(3):\\n'\n"
        "         '    print(i)\\n```\\n\\n'\n"
        "         'The sum is $\\\\sum_{i=0}^{2} i = 3$. **Done.**')\n"
        "for i in range(200):\n"
        "    session.messages += [{'role': 'user', 'content': f'Question {i}'},\n"
        "                         {'role': 'assistant', 'content': reply}]\n"
    )
    nb.page.evaluate("() => { window.__t0 = performance.now(); }")
    index = nb.add("w200 = nbclaude.ChatWidget(); w200")
    sel = f".jp-Notebook .jp-Cell:nth-child({index + 1}) {ARTICLES}"
    nb.page.wait_for_function(
        f"() => document.querySelectorAll({sel!r}).length >= 400", timeout=30_000
    )
    elapsed_ms = nb.page.evaluate("() => performance.now() - window.__t0")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "widget-redisplay.json").write_text(
        json.dumps({"messages": 400, "turns": 200, "ms_from_run_to_rendered": round(elapsed_ms)})
    )
    print(f"\n200-turn transcript: {elapsed_ms:.0f} ms from running the cell to all rendered")
    assert elapsed_ms < 1000


def test_reopening_2000_messages_renders_in_under_a_second(notebook: Notebook) -> None:
    """A new view of a 2,000-message chat shows it in under a second: the render itself, as the
    page measures it (the newest messages in full, older ones as plain text until they scroll
    near), best of three views."""
    nb = notebook
    reset(nb)
    nb.run(CLOSE_OTHER_WIDGETS)  # the widgets of earlier tests would re-render it too
    nb.run(
        "reply = ('Here is a step:\\n\\n```python\\nfor i in range(3):\\n'\n"
        "         '    print(i)\\n```\\n\\n'\n"
        "         'The sum is $\\\\sum_{i=0}^{2} i = 3$. **Done.**')\n"
        "history = []\n"
        "for i in range(1000):\n"
        "    history += [{'role': 'user', 'content': f'Question {i}'},\n"
        "                {'role': 'assistant', 'content': reply + f' ({i})'}]\n"
        "session.messages = history\n"
        "w2k = nbclaude.ChatWidget()"
    )
    nb.page.evaluate(
        """() => { window.__nbcRenders = [];
            document.addEventListener('nbc-transcript', (e) => {
                if (e.detail.first) window.__nbcRenders.push(e.detail); }); }"""
    )

    def reopen(n: int) -> dict[str, Any]:
        index = nb.add("w2k")
        nb.wait_done(index)
        nb.page.wait_for_function("(n) => window.__nbcRenders.length >= n", arg=n, timeout=60_000)
        widget = nb.widget(index)
        assert widget.locator(ARTICLES).count() == 2000
        last = widget.locator(ARTICLES).last
        assert "(999)" in last.inner_text()
        assert last.locator(".katex").count() == 1  # the newest are rendered in full
        return dict(nb.page.evaluate("(n) => window.__nbcRenders[n - 1]", n))

    timings = [reopen(n) for n in (1, 2, 3)]
    best = min(t["ms"] for t in timings)
    # for comparison: the same view rendering every message in full (what it did before)
    nb.page.evaluate(
        "() => { window.__io = window.IntersectionObserver; "
        "window.IntersectionObserver = undefined; }"
    )
    try:
        full = reopen(4)
    finally:
        nb.page.evaluate("() => { window.IntersectionObserver = window.__io; }")
    ARTIFACTS.mkdir(exist_ok=True)
    report = {
        "messages": 2000,
        "render_ms": [round(t["ms"]) for t in timings],
        "open_to_rendered_ms": [round(t["sinceOpen"]) for t in timings],
        "every_message_in_full_ms": round(full["ms"]),
    }
    (ARTIFACTS / "widget-reopen-2000.json").write_text(json.dumps(report))
    print(f"\n2,000-message reopen: {report}")
    assert best < 1000, report
    nb.run("w2k.close(); session.reset()")


def test_screenshot_for_the_readme(notebook: Notebook) -> None:
    from PIL import Image

    nb = notebook
    reset(nb)
    img = Image.new("RGB", (640, 400), (255, 255, 255))
    for x in range(0, 640, 80):
        for y in range(400):
            img.putpixel((x, y), (30, 90, 200))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    png = nb.lab.root / "grid.png"
    png.write_bytes(buf.getvalue())
    answer = (
        "The picture shows **vertical blue lines** on white, 80 px apart.\\n\\n"
        "To draw it with NumPy:\\n\\n"
        "```python\\nimport numpy as np\\nimg = np.full((400, 640, 3), 255, np.uint8)\\n"
        "img[:, ::80] = (30, 90, 200)\\n```\\n\\n"
        "There are $\\\\lceil 640 / 80 \\\\rceil = 8$ lines."
    )
    nb.run(f"fake.add(Text('{answer}', rate=200))")
    widget = show_widget(nb)
    with nb.page.expect_file_chooser() as chooser:
        widget.get_by_role("button", name="Attach image").click()
    chooser.value.set_files(str(png))
    widget.locator(".nbc-pending-item.nbc-ready").wait_for(timeout=30_000)
    widget.get_by_role("textbox", name="Message Claude").fill("What is in this picture?")
    widget.get_by_role("button", name="Send").click()
    widget.locator(ARTICLES).nth(1).wait_for(timeout=30_000)
    widget.locator(f"{ARTICLES} .katex").first.wait_for(timeout=20_000)
    widget.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    widget.screenshot(path=str(ARTIFACTS / "chat-widget.png"))
    nb.page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme', "
        "{theme: 'JupyterLab Dark'})"
    )
    nb.page.wait_for_function(
        "() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000
    )
    nb.page.wait_for_timeout(300)
    widget.screenshot(path=str(ARTIFACTS / "chat-widget-dark.png"))
    nb.page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme', "
        "{theme: 'JupyterLab Light'})"
    )
    assert (ARTIFACTS / "chat-widget.png").stat().st_size > 10_000

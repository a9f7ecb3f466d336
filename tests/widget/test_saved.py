"""The copy of the conversation a saved notebook keeps beside a ChatWidget (issue #12 item 3):
readable safe HTML plus the machine-readable turns, kept up to date."""

from __future__ import annotations

import html.parser
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import KEY

import nbclaude
from nbclaude._widget import protocol as proto
from nbclaude._widget.saved_html import conversation_html, markdown_html
from nbclaude._widget.transcript import transcript
from nbclaude._widget.widget import ChatWidget
from nbclaude.testing import Text

from .frontend import _wait_idle, open_widget, png_bytes, session_with, wait_for

CORPUS = json.loads((Path(__file__).parents[1] / "xss_corpus.json").read_text(encoding="utf-8"))
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


class Displays:
    """What IPython's display() and update_display() were asked to publish."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import IPython.display

        self.shown: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        monkeypatch.setattr(IPython.display, "display", self._display)
        monkeypatch.setattr(IPython.display, "update_display", self._update)

    def _display(self, obj: Any, **kwargs: Any) -> None:
        self.shown.append({"data": obj, **kwargs})

    def _update(self, obj: Any, **kwargs: Any) -> None:
        self.updates.append({"data": obj, **kwargs})

    def latest(self) -> dict[str, Any]:
        return (self.updates or self.shown)[-1]


@pytest.fixture
def displays(monkeypatch: pytest.MonkeyPatch) -> Displays:
    return Displays(monkeypatch)


def test_displaying_the_widget_also_displays_the_saved_copy(
    widgets: list[ChatWidget], displays: Displays
) -> None:
    s, _ = session_with()
    s.messages += [
        {"role": "user", "content": "What is 2 + 2?"},
        {"role": "assistant", "content": "It is **4**."},
    ]
    fe = open_widget(s, widgets)
    fe.widget._ipython_display_()
    widget_out, placeholder = displays.shown
    assert WIDGET_MIME in widget_out["data"] and widget_out["raw"] is True
    # the cell shows a line at once (it never waits for a long chat's HTML) ...
    assert placeholder["raw"] is True and placeholder["display_id"]
    assert f'data-nbc-for="{fe.widget.saved_id}"' in placeholder["data"]["text/html"]
    # ... and the conversation is written into it a moment later
    wait_for(lambda: displays.updates)
    copy = displays.updates[0]
    assert copy["display_id"] == placeholder["display_id"]
    page = copy["data"]["text/html"]
    assert "What is 2 + 2?" in page and "<strong>4</strong>" in page
    assert f'data-nbc-for="{fe.widget.saved_id}"' in page
    assert re.fullmatch(r"[0-9a-f]{32}", fe.widget.saved_id)
    assert "2 messages" in copy["data"]["text/plain"]
    saved = copy["metadata"]["nbclaude"]
    assert saved == {
        "version": 1,
        "kind": "widget",
        "messages": s.messages,
        "model": "claude-haiku-4-5",
        "session": s.id,
        "shared": False,  # this test's session is its own, not nbclaude.get_session()
    }  # the shape every output of a saved notebook uses (_session/transcript_format.py)
    assert isinstance(saved["session"], str) and saved["session"]


def test_the_copy_follows_the_chat(widgets: list[ChatWidget], displays: Displays) -> None:
    s, _ = session_with(Text("Paris is the capital.", rate=400), Text("Second."))
    fe = open_widget(s, widgets)
    fe.widget._ipython_display_()
    wait_for(lambda: displays.updates)
    assert "0 messages" in displays.latest()["data"]["text/plain"]
    fe.send({"type": proto.SEND, "text": "Capital of France?", "attachments": []})
    assert _wait_idle(fe.widget)
    wait_for(lambda: "Paris" in displays.latest()["data"]["text/html"])
    update = displays.latest()
    assert update["display_id"] == displays.shown[-1]["display_id"]
    assert update["metadata"]["nbclaude"]["messages"] == s.messages
    assert "Capital of France?" in update["data"]["text/html"]
    # a %%claude turn (Session.send) is part of the conversation too; undo and Clear as well
    s.send("And again?")
    wait_for(lambda: "Second." in displays.latest()["data"]["text/html"])
    fe.send({"type": proto.UNDO})
    wait_for(lambda: "Second." not in displays.latest()["data"]["text/html"])
    assert len(displays.latest()["metadata"]["nbclaude"]["messages"]) == 2
    assert KEY not in json.dumps(displays.updates) + json.dumps(displays.shown, default=str)


def test_a_copy_is_written_once_per_turn_not_per_step(
    widgets: list[ChatWidget], displays: Displays
) -> None:
    s, _ = session_with(Text("word " * 100, rate=300))
    fe = open_widget(s, widgets)
    fe.widget._ipython_display_()
    wait_for(lambda: len(displays.updates) == 1)  # the copy, written once displayed
    fe.send({"type": proto.SEND, "text": "go", "attachments": []})
    wait_for(lambda: s.busy)
    assert _wait_idle(fe.widget)
    wait_for(lambda: len(displays.updates) >= 2)
    fe.widget.close()  # writes what is pending
    assert len(displays.updates) == 2  # one more for the turn, not one per step
    assert displays.updates[1]["metadata"]["nbclaude"]["messages"] == s.messages


def test_a_widget_never_displayed_writes_no_copy(
    widgets: list[ChatWidget], displays: Displays
) -> None:
    s, _ = session_with(Text("ok"))
    fe = open_widget(s, widgets)
    fe.send({"type": proto.SEND, "text": "hi", "attachments": []})
    assert _wait_idle(fe.widget)
    fe.widget.close()
    assert displays.shown == [] and displays.updates == []


def test_images_are_kept_as_thumbnails(widgets: list[ChatWidget], displays: Displays) -> None:
    s, _ = session_with()
    big = nbclaude.image(png_bytes(1500, 1000))
    s.messages += [
        {"role": "user", "content": [big, {"type": "text", "text": "What is this?"}]},
        {"role": "assistant", "content": "A red rectangle."},
    ]
    fe = open_widget(s, widgets)
    fe.widget._ipython_display_()
    wait_for(lambda: displays.updates)
    copy = displays.latest()
    kept = copy["metadata"]["nbclaude"]["messages"][0]["content"][0]
    assert kept["type"] == "image" and kept["source"]["type"] == "base64"
    assert len(kept["source"]["data"]) < len(big["source"]["data"]) / 4
    from nbclaude._content.images import image_info
    from nbclaude._session.transcript_format import THUMB_EDGE

    info = image_info(kept)
    assert info is not None and max(info.width or 0, info.height or 0) <= THUMB_EDGE
    assert s.messages[0]["content"][0] is big  # the live conversation keeps the real image
    srcs = re.findall(r'<img src="([^"]+)"', copy["data"]["text/html"])
    assert len(srcs) == 1 and srcs[0].startswith("data:image/")


# -- the HTML is safe by construction ------------------------------------------------------------

#: Tags and attributes our HTML may have; everything from the model is text inside them.
TAGS = {
    "div", "span", "p", "strong", "em", "code", "pre", "a", "img", "details", "summary", "ul",
    "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "br", "table", "thead",
    "tbody", "tr", "th", "td", "s",
}  # fmt: skip
ATTRS = {"class", "style", "href", "target", "rel", "title", "src", "alt", "data-nbc-for", "start"}
STYLES = re.compile(r"^(?:text-align:(?:left|right|center)|[a-z:;0-9#. \-/%]+)$")


class Checker(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            self.bad.append(f"<{tag}>")
        for name, value in attrs:
            value = value or ""
            if name not in ATTRS:
                self.bad.append(f"{tag}[{name}]")
            elif name == "href" and not re.match(r"(?i)^(https?://|mailto:)", value):
                self.bad.append(f"{tag}[href={value}]")
            elif name == "src" and (tag != "img" or not value.startswith("data:image/")):
                self.bad.append(f"{tag}[src={value}]")
            elif name == "style" and (not STYLES.match(value) or "url(" in value):
                self.bad.append(f"{tag}[style={value}]")
            elif name == "class" and not set(value.split()) <= {
                "nbc-saved", "nbc-saved-msg", "nbc-math", "mathjax_ignore", "tex2jax_ignore",
                "mathjax_process", "tex2jax_process",
            }:  # fmt: skip
                self.bad.append(f"{tag}[class={value}]")


@pytest.mark.parametrize("item", CORPUS, ids=[i["id"] for i in CORPUS])
def test_the_xss_corpus_is_only_text_in_the_copy(item: dict[str, str]) -> None:
    messages = [
        {"role": "user", "content": item["markdown"]},
        {"role": "assistant", "content": item["markdown"]},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": item["markdown"]}]},
    ]
    page = conversation_html(transcript(messages), saved_id="0123abcd")
    checker = Checker()
    checker.feed(page)
    checker.close()
    assert checker.bad == [], page


def test_only_the_newest_formulas_are_left_to_mathjax() -> None:
    """JupyterLab typesets an HTML output, hidden or not, every time it is rendered (after every
    turn): a long chat's copy marks only the newest MAX_TYPESET formulas; older ones read as TeX."""
    from nbclaude._widget.saved_html import MAX_TYPESET

    messages = [
        {"role": "assistant", "content": f"Step {i}: $x_{{{i}}} = {i}$"} for i in range(300)
    ]
    page = conversation_html(transcript(messages), saved_id="0123abcd")
    assert page.count("mathjax_process") == MAX_TYPESET == 50
    newest = page[page.index("Step 299") :]
    assert "mathjax_process" in newest
    oldest = page[page.index("Step 0:") : page.index("Step 1:")]
    assert '<code class="nbc-math">\\(x_{0} = 0\\)</code>' in oldest


def test_maths_and_code_still_render_and_dollars_stay_dollars() -> None:
    out = markdown_html("Pay $5 if $x > 1$, else $7.\n\n```python\nprint('<b>')\n```")
    assert "Pay $5 if " in out and ", else $7." in out
    assert '<span class="nbc-math mathjax_process tex2jax_process">\\(x \\gt{} 1\\)</span>' in out
    assert "<pre" in out and "print(&#x27;&lt;b&gt;&#x27;)" in out
    # TeX that could set styles or load things is shown as text, never typeset
    assert "mathjax_process" not in markdown_html("$\\unicode[some;css]{x}\\href{https://a.b}{y}$")

"""Model TeX and thousands of public XSS payloads in real JupyterLab (marked, its math pre-pass,
MathJax 3 over the page) and in the ChatWidget (markdown-it, DOMPurify, KaTeX), in Chromium.

One page of its own (its own MathJax document, so that no other test's output counts), one
kernel with the in-process fake API. Payloads are batched: each cell shows a few hundred safe
outputs (``safe_markdown`` of each, joined the way ``Reply.display_markdown`` joins parts), and
the widget shows them as a few hundred assistant messages. Asserted everywhere: no script runs
(no dialog, no call of ``alert``/``confirm``/``prompt``/``print``/``open``), no request leaves
127.0.0.1, nothing active or remote in the DOM, and nothing covers the notebook: no fixed or
sticky element from model content, the box that holds it clips (a cell's output area, the
widget's transcript) and no absolutely positioned element has its containing block outside it,
no formula is taller than the window, and no point of the page outside an output shows that
output. In the cells also: a MathJax definition made by one output (a macro, a colour, a label,
a cached ``\\unicode`` font, a loaded extension) changes no later output, and plain maths still
renders; both sides' live streaming output is checked as it grows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from render_harness import CONTEXTUAL, CORPUS, public_corpus

from .conftest import Lab, Notebook

pytestmark = pytest.mark.browser

#: The curated corpus and every public list available (tests/corpus/README.md).
PAYLOADS = [v["markdown"] for v in CORPUS] + [
    p["markdown"] for doc in public_corpus().values() for p in doc["payloads"]
]
#: What the cells show: the payloads, then every attack in every Markdown context
#: (render_harness.CONTEXTS: a link's text, a list, a table cell, next to maths...).
CELL_PAYLOADS = PAYLOADS + [v["markdown"] for v in CONTEXTUAL]
TEX_ATTACKS = [v["markdown"] for v in CORPUS if v["id"].startswith("tex-")]
CELL_BATCH = 250  # payloads per cell
WIDGET_BATCH = 25  # payloads per assistant message

# Maths a definition in an earlier output could change, and maths that must render.
PROBE = (
    "Probe: $\\alpha + \\R + \\foo + \\sin x + \\abs{x}$, $\\color{red}{C}$ and "
    "$\\unicode{x41}\\unicode{x42}\\unicode{x43}\\unicode{x44}$; "
    "$a \\xrightarrow{f} b$, $\\operatorname{sgn} x$ and $\\bbox[yellow,2pt]{y}$.\n\n"
    "$$\n\\begin{equation}\\sum_{i=1}^{n} i = \\frac{n(n+1)}{2}\\tag{1}\\end{equation}\n$$\n\n"
    "$$\n\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix} \\begin{matrix} x \\end{matrix}\n$$"
)
PROBE_MATHS = 8

SETUP = """\
import json, nbclaude
from IPython.display import Markdown, display
from nbclaude._markdown import safe_markdown
from nbclaude.testing import FakeAnthropic, Reply, Text, Thinking
fake = FakeAnthropic()
session = nbclaude.get_session()
session.client = nbclaude.Client(transport=fake)
session.model = "claude-haiku-4-5"
session.max_tokens = 32000
PAYLOADS = json.load(open("tex-payloads.json"))
CELL_PAYLOADS = PAYLOADS + json.load(open("tex-contextual.json"))
def show(start, stop):
    display(Markdown("\\n\\n".join(safe_markdown(m) for m in CELL_PAYLOADS[start:stop])))
%load_ext nbclaude
print("ready")
"""

# Overrides installed before the page's own scripts: any call is a script that ran.
INIT = """(() => {
    window.__calls = [];
    for (const name of ["alert", "confirm", "prompt", "print", "open"]) {
        window[name] = function (...args) {
            window.__calls.push(name + ": " + String(args[0]).slice(0, 80));
            return name === "open" ? null : undefined;
        };
    }
})();"""

SCAN = """({content, root, clip, hits}) => {
    const roots = [...document.querySelectorAll(root)];
    const bad = [];
    const W = innerWidth, H = innerHeight;
    const hidden = "mjx-assistive-mml, .katex-mathml";  // (MathML copies, clipped to 1 px)
    const positioned = (e) => {
        const cs = getComputedStyle(e);
        return cs.position !== "static" || cs.transform !== "none" || cs.filter !== "none"
            || /paint|layout|strict|content/.test(cs.contain);
    };
    let maths = 0, katex = 0, tallest = 0;
    for (const box of document.querySelectorAll(content)) {
        const clipper = box.closest(clip);
        const cs = getComputedStyle(clipper);
        if (cs.overflowX === "visible" || cs.overflowY === "visible") bad.push(clip + " does not clip");
        maths += box.querySelectorAll("mjx-container").length;
        katex += box.querySelectorAll(".katex").length;
        for (const el of box.querySelectorAll("*")) {
            const tag = el.localName;
            if ((tag === "svg" || tag === "math") && !el.closest("mjx-container, .katex"))
                bad.push("<" + tag + "> outside maths");
            if (/^(script|iframe|frame|object|embed|img|image|style|form|base|meta|link|video|audio|source|input|button|textarea|select|template|portal)$/.test(tag)
                && !(tag === "button" && el.className === "nbc-copy")) bad.push("<" + tag + ">");
            for (const a of el.attributes) {
                const v = a.value.trim();
                if (/^on/i.test(a.name)) bad.push(tag + "[" + a.name + "]");
                if (/^(href|src|action|formaction|xlink:href|poster|background|srcdoc|data)$/i.test(a.name)
                    && !/^(https?:|mailto:|#)/i.test(v)) bad.push(tag + "[" + a.name + "=" + v.slice(0, 60) + "]");
                if (a.name === "href" && el.closest("mjx-container")) bad.push("link in maths: " + v);
                if (a.name === "style" && /url\\s*\\(|position\\s*:\\s*(fixed|sticky|absolute)|z-index|inset/i.test(v))
                    bad.push(tag + "[style=" + v.slice(0, 80) + "]");
            }
            if (el.parentElement.closest(hidden)) continue;
            const position = getComputedStyle(el).position;
            if (position === "fixed" || position === "sticky") bad.push(tag + " is position:" + position);
            if (position === "absolute") {  // its containing block must be inside the clipping box
                let block = el.parentElement;
                while (block && !positioned(block)) block = block.parentElement;
                if (!block || !clipper.contains(block)) bad.push(tag + " is absolute outside " + clip);
            }
        }
        for (const m of box.querySelectorAll("mjx-container, .katex")) {
            const r = m.getBoundingClientRect();
            tallest = Math.max(tallest, r.height);
            if (r.height > H) {
                const tex = m.closest("[data-tex]");
                bad.push("maths of " + Math.round(r.width) + "x" + Math.round(r.height) + " px: "
                         + (tex ? tex.dataset.tex : m.textContent).slice(0, 120));
            }
        }
    }
    // what the page shows: a point outside a root must not show that root's content
    let covered = 0;
    for (let x = 5; hits && x < W; x += 90) for (let y = 5; y < H; y += 90) {
        const hit = document.elementFromPoint(x, y);
        const own = hit && roots.find((r) => r.contains(hit));
        if (!own) continue;
        const b = own.getBoundingClientRect();
        if (x < b.left - 1 || x > b.right + 1 || y < b.top - 1 || y > b.bottom + 1) covered++;
    }
    if (covered) bad.push(covered + " points outside an output show it");
    return {bad: [...new Set(bad)].slice(0, 30), count: bad.length, maths, katex, tallest};
}"""

OUT = ".jp-OutputArea-output"
CELLS = {"content": OUT, "root": OUT, "clip": OUT, "hits": True}
WIDGET = {"content": ".nbc-root .nbc-md", "root": ".nbc-root", "clip": ".nbc-log", "hits": True}
LIVE = {"content": ".nbc-live .nbc-md", "root": ".nbc-root", "clip": ".nbc-log", "hits": False}


class Page:
    """A page of its own on the shared JupyterLab server, with everything it tried recorded."""

    def __init__(self, lab: Lab, browser: Any) -> None:
        self.lab = lab
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000})
        self.context.add_init_script(INIT)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.sockets: list[str] = []
        self.dialogs: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("websocket", lambda ws: self.sockets.append(ws.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url.startswith((self.lab.url + "/", "data:", "blob:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def left_the_machine(self) -> list[str]:
        local = (self.lab.url + "/", "data:", "blob:")
        ws = self.lab.url.replace("http://", "ws://") + "/"
        return (
            self.blocked
            + [u for u in self.requests if not u.startswith(local)]
            + [u for u in self.sockets if not u.startswith(ws)]
        )

    def scripts_ran(self) -> list[str]:
        return self.dialogs + list(self.page.evaluate("() => window.__calls"))

    def settle(self, selector: str, quiet: float = 2.0, timeout: float = 120.0) -> None:
        """Wait until the maths under ``selector`` stops changing (MathJax is asynchronous)."""
        count, since, deadline = -1, time.monotonic(), time.monotonic() + timeout
        probe = (
            "(s) => [...document.querySelectorAll(s)].reduce((n, e) => n + "
            "e.querySelectorAll('mjx-container, .katex').length + e.childElementCount, 0)"
        )
        while time.monotonic() < deadline:
            now = self.page.evaluate(probe, selector)
            if now != count:
                count, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            self.page.wait_for_timeout(250)
        raise AssertionError(f"{selector} kept changing for {timeout} s")


@pytest.fixture(scope="module")
def tex_lab(lab: Lab, browser: Any) -> Iterator[tuple[Page, Notebook]]:
    import nbformat

    (lab.root / "tex-payloads.json").write_text(json.dumps(PAYLOADS), encoding="utf-8")
    contextual = [v["markdown"] for v in CONTEXTUAL]
    (lab.root / "tex-contextual.json").write_text(json.dumps(contextual), encoding="utf-8")
    book = nbformat.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(book, str(lab.root / "tex.ipynb"))
    page = Page(lab, browser)
    try:
        page.page.goto(f"{lab.url}/lab/tree/tex.ipynb?token={lab.token}&reset")
        page.page.wait_for_function(
            """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(
            e => / \\| Idle$/.test(e.textContent) && !e.textContent.startsWith('No Kernel'))""",
            timeout=60_000,
        )
        nb = Notebook(page.page, lab)
        assert "ready" in nb.run(SETUP, timeout=60)
        yield page, nb
    finally:
        page.context.close()
        _shut_down_kernels(lab, "tex.ipynb")
        (lab.root / "tex-payloads.json").unlink(missing_ok=True)


def _shut_down_kernels(lab: Lab, path: str) -> None:
    """End this module's kernel (it holds every payload), so later tests get the machine back."""
    import urllib.request

    def call(url: str, method: str = "GET") -> Any:
        req = urllib.request.Request(
            lab.url + url, method=method, headers={"Authorization": f"token {lab.token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"null")

    for session in call("/api/sessions"):
        if session.get("path") == path:
            call(f"/api/sessions/{session['id']}", method="DELETE")


def probe_html(nb: Notebook, index: int) -> list[str]:
    return list(
        nb.page.evaluate(
            """(i) => [...document.querySelectorAll('.jp-Notebook .jp-Cell')[i]
                .querySelectorAll('mjx-container')].map(e => e.innerHTML)""",
            index,
        )
    )


def test_the_live_tail_in_a_cell(tex_lab: tuple[Page, Notebook]) -> None:
    """%%claude streams TeX attacks (thinking, text with citations): every state of the live
    output, and the final one, is checked."""
    page, nb = tex_lab
    text = "\n\n".join(TEX_ATTACKS)
    cite = {"type": "web_search_result_location", "cited_text": TEX_ATTACKS[0],
            "title": TEX_ATTACKS[1], "url": "https://ok.example/"}  # fmt: skip
    nb.run(
        f"fake.add(Reply([Thinking({text[:2000]!r}), Text({text!r}, citations=[{cite!r}])], "
        "chunk_size=40, rate=60))"
    )
    index = nb.add("%%claude\nShow me some maths")
    outputs = f".jp-Notebook .jp-Cell:nth-child({index + 1}) .jp-OutputArea-output"
    seen: list[Any] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen.append(page.page.evaluate(SCAN, {**CELLS, "content": outputs, "hits": False}))
        done = page.page.evaluate(
            """(i) => /\\[\\d+\\]/.test(document.querySelectorAll('.jp-Notebook .jp-Cell')[i]
                .querySelector('.jp-InputPrompt').textContent)""",
            index,
        )
        if done:
            break
        page.page.wait_for_timeout(150)
    page.settle(outputs)
    seen.append(page.page.evaluate(SCAN, {**CELLS, "content": outputs}))
    assert len(seen) >= 5  # the live output was seen while it grew
    assert [s["bad"] for s in seen if s["bad"]] == []
    final = nb.output(index)
    assert "unicode" in final and "mathtip" in final  # shown as text
    assert page.scripts_ran() == []
    assert page.left_the_machine() == []


def test_payloads_in_jupyterlab_cells(tex_lab: tuple[Page, Notebook]) -> None:
    page, nb = tex_lab
    t0 = time.monotonic()
    assert len(PAYLOADS) >= 150
    before = nb.add(f"display(Markdown(safe_markdown({PROBE!r})))")
    nb.wait_done(before)
    page.settle(".jp-OutputArea-output")
    first = probe_html(nb, before)
    assert len(first) == PROBE_MATHS, first
    cells = [
        nb.add(f"show({k}, {k + CELL_BATCH})") for k in range(0, len(CELL_PAYLOADS), CELL_BATCH)
    ]
    nb.wait_done(cells[-1], timeout=240)
    after = nb.add(f"display(Markdown(safe_markdown({PROBE!r})))")
    nb.wait_done(after)
    page.settle(".jp-OutputArea-output", timeout=240)
    found = page.page.evaluate(SCAN, CELLS)
    seconds = time.monotonic() - t0
    print(f"\n{len(CELL_PAYLOADS)} payloads in {len(cells)} cells: {found['maths']} formulas, "
          f"{seconds:.0f} s; tallest formula part {found['tallest']:.0f} px")  # fmt: skip
    assert found["bad"] == [], found
    assert page.scripts_ran() == []
    assert page.left_the_machine() == []
    # no definition, label, colour or cached \unicode font from any output changed the probe
    assert probe_html(nb, after) == first
    assert found["maths"] > len(PAYLOADS) // 3  # plain maths renders (MathJax's tests, probes)


def test_payloads_in_the_chat_widget(tex_lab: tuple[Page, Notebook]) -> None:
    """The widget's own path (markdown-it, DOMPurify, KaTeX): a reply streamed live, then every
    payload in the transcript."""
    page, nb = tex_lab
    # the cells test left 2,491 payloads and 1,400 formulas on the page: cleared, so that a
    # page still busy with them does not starve the widget (on a fresh CI machine its live
    # bubble was not seen within 30 s)
    page.page.evaluate("window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    page.page.wait_for_function(
        "() => document.querySelectorAll('.jp-OutputArea-output').length === 0", timeout=30_000
    )
    t0 = time.monotonic()
    streamed = "\n\n".join(TEX_ATTACKS + [v["markdown"] for v in CORPUS[:60]])
    nb.run(
        "session.stop(); session.reset(); fake.clear()\n"
        f"fake.add(Text({streamed!r}, chunk_size=60, rate=30))"
    )
    index = nb.add("w1 = nbclaude.ChatWidget(); w1")
    nb.wait_done(index)
    widget = nb.widget(index)
    widget.wait_for(timeout=30_000)
    box = widget.get_by_role("textbox", name="Message Claude")
    box.fill("stream the TeX attacks")
    box.press("Enter")
    live: list[Any] = []
    widget.locator(".nbc-live").wait_for(timeout=30_000)
    while widget.locator(".nbc-live").count():
        live.append(page.page.evaluate(SCAN, LIVE))
        page.page.wait_for_timeout(150)
    page.settle(".nbc-root")
    live.append(page.page.evaluate(SCAN, WIDGET))
    assert len(live) >= 5  # the live reply was seen while it grew
    assert max(s["katex"] for s in live[:-1]) > 0  # (and its maths)
    assert [s["bad"] for s in live if s["bad"]] == []

    nb.run(
        "w1.close(); session.reset()\n"
        f"for k in range(0, len(PAYLOADS), {WIDGET_BATCH}):\n"
        "    session.messages += [{'role': 'user', 'content': f'batch {k}'},\n"
        f"        {{'role': 'assistant', 'content': '\\n\\n'.join(PAYLOADS[k:k + {WIDGET_BATCH}])}}]"
    )
    index = nb.add("w2 = nbclaude.ChatWidget(); w2")
    nb.wait_done(index)
    nb.widget(index).wait_for(timeout=30_000)
    messages = 2 * -(-len(PAYLOADS) // WIDGET_BATCH)
    sel = f".jp-Notebook .jp-Cell:nth-child({index + 1}) .nbc-root article.nbc-msg"
    nb.page.wait_for_function(
        f"() => document.querySelectorAll({sel!r}).length >= {messages}", timeout=120_000
    )
    page.settle(".nbc-root")
    transcript = page.page.evaluate(SCAN, WIDGET)
    print(f"\nwidget: {messages} messages, {transcript['katex']} KaTeX formulas, "
          f"{time.monotonic() - t0:.0f} s")  # fmt: skip
    assert transcript["bad"] == [], transcript
    assert transcript["katex"] > len(PAYLOADS) // 4  # plain maths renders
    assert page.scripts_ran() == []
    assert page.left_the_machine() == []

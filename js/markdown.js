// Model output -> safe HTML. Model output is untrusted (docs/architecture.md):
//
// 1. markdown-it with `html: false`: raw HTML in the reply is shown as text, never parsed.
// 2. Links only to `http:`, `https:`, `mailto:` and `#fragments` (everything else stays text:
//    `javascript:`, `vbscript:`, `data:`, `file:`, relative paths to the notebook server).
// 3. Images in model output become links ("image: alt"): loading a remote image can leak data.
// 4. DOMPurify runs on the result as a second line of defence with the same policy, plus:
//    no forms, media, frames, styles or `url(...)` in style attributes; links open in a new tab
//    with `rel="noopener noreferrer"`.
// Our own image thumbnails never pass through here: the view adds them as DOM nodes.

import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import julia from "highlight.js/lib/languages/julia";
import latex from "highlight.js/lib/languages/latex";
import markdownLang from "highlight.js/lib/languages/markdown";
import plaintext from "highlight.js/lib/languages/plaintext";
import python from "highlight.js/lib/languages/python";
import r from "highlight.js/lib/languages/r";
import rust from "highlight.js/lib/languages/rust";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import MarkdownIt from "markdown-it";
import { mathPlugin } from "./math.js";

for (const [name, lang] of Object.entries({
  bash, c, cpp, css, java, javascript, json, julia, latex, markdown: markdownLang, plaintext,
  python, r, rust, shell, sql, typescript, xml, yaml,
})) {
  hljs.registerLanguage(name, lang);
}

/** Link targets allowed in model output. */
const SAFE_URL = /^(?:https?:\/\/|mailto:|#)/i;

/**
 * Is this URL allowed as a link target in model output?
 * @param {string} url
 * @returns {boolean}
 */
export function isSafeUrl(url) {
  // Browsers drop ASCII tab/newline and leading/trailing C0 controls and spaces before parsing.
  // biome-ignore lint: control characters are the point here
  const cleaned = String(url).replace(/[\t\n\r]/g, "").replace(/^[\u0000-\u0020]+/, "");
  if (cleaned !== String(url).trim()) return false;
  return SAFE_URL.test(cleaned);
}

/**
 * @param {string} code
 * @param {string} lang
 * @returns {string} highlighted HTML, or "" to let markdown-it escape the code
 */
function highlight(code, lang) {
  const name = lang.toLowerCase();
  if (name && hljs.getLanguage(name)) {
    try {
      return hljs.highlight(code, { language: name, ignoreIllegals: true }).value;
    } catch {
      return "";
    }
  }
  return "";
}

function createMarkdown() {
  const md = new MarkdownIt({ html: false, linkify: true, typographer: false, highlight });
  md.use(mathPlugin);
  md.validateLink = isSafeUrl;
  md.linkify.set({ fuzzyLink: false, fuzzyEmail: false });
  const escape = md.utils.escapeHtml;

  md.renderer.rules.image = (tokens, idx) => {
    const token = tokens[idx];
    const src = String(token.attrGet("src") || "");
    const alt = token.content || "image";
    if (/^https?:\/\//i.test(src)) {
      return (
        `<a class="nbc-remote-image" href="${escape(src)}" title="Remote image, not loaded: ` +
        `${escape(src)}">image: ${escape(alt)}</a>`
      );
    }
    return `<span class="nbc-remote-image">image: ${escape(alt)}</span>`;
  };

  md.renderer.rules.fence = (tokens, idx) => {
    const token = tokens[idx];
    const lang = (token.info || "").trim().split(/\s+/)[0].replace(/[^\w+#.-]/g, "");
    const body = highlight(token.content, lang) || escape(token.content);
    const cls = lang ? ` class="hljs language-${escape(lang)}"` : ' class="hljs"';
    // the label (and the Copy button fillMarkdown adds) sit on a row of their own above the code
    const label = `<span class="nbc-code-lang">${lang ? escape(lang) : ""}</span>`;
    return (
      `<div class="nbc-code"><div class="nbc-code-head">${label}</div>` +
      `<pre><code${cls}>${body}</code></pre></div>\n`
    );
  };
  return md;
}

const md = createMarkdown();

/** @type {import("dompurify").Config} */
const PURIFY_CONFIG = {
  USE_PROFILES: { html: true, mathMl: true, svg: true },
  FORBID_TAGS: [
    "style", "img", "image", "use", "form", "input", "button", "textarea", "select", "option",
    "iframe", "frame", "frameset", "object", "embed", "video", "audio", "source", "track",
    "picture", "link", "meta", "base", "foreignObject", "feImage", "animate", "set",
    "animateMotion", "animateTransform", "script", "noscript", "template", "details",
  ],
  FORBID_ATTR: ["srcset", "action", "formaction", "background", "poster", "ping", "xlink:href"],
  // DOMPurify checks every attribute that is not "URI safe" against this (SVG path data too), so
  // it must accept plain values; the hook below then allows only SAFE_URL link targets.
  ALLOWED_URI_REGEXP: /^(?:(?:https?|mailto):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
  ADD_URI_SAFE_ATTR: ["data-tex"],
  ALLOW_DATA_ATTR: false,
  ADD_ATTR: ["data-tex"], // the TeX source of a formula (text only; copied by "Copy")
  ALLOW_UNKNOWN_PROTOCOLS: false,
};

/** @type {import("dompurify").DOMPurify | null} */
let purifier = null;

function getPurifier() {
  if (purifier) return purifier;
  const p = DOMPurify(window);
  p.addHook("afterSanitizeAttributes", (node) => {
    if (node.nodeType !== 1) return;
    const style = node.getAttribute("style");
    if (style && /url\s*\(|expression\s*\(|@import|image-set|-moz-binding/i.test(style)) {
      node.removeAttribute("style");
    }
    if (node.hasAttribute("href")) {
      const href = node.getAttribute("href") || "";
      if (node.localName !== "a" || !isSafeUrl(href)) {
        node.removeAttribute("href");
      } else if (!href.startsWith("#")) {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      }
    }
    if (node.hasAttribute("src")) node.removeAttribute("src");
  });
  purifier = p;
  return p;
}

/**
 * Sanitise HTML with the model-output policy (DOMPurify, second line of defence).
 * @param {string} html
 * @returns {string}
 */
export function sanitize(html) {
  return /** @type {string} */ (getPurifier().sanitize(html, PURIFY_CONFIG));
}

/**
 * Render untrusted Markdown (model output or user text) to safe HTML.
 * @param {string} text
 * @returns {string}
 */
export function renderMarkdown(text) {
  return sanitize(md.render(String(text ?? "")));
}

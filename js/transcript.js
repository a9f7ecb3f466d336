// The conversation: finished messages from the `transcript` trait plus the reply streaming now.

import { copyButton, countOf, formatCost, h, thumbnail } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { renderTool } from "./tools.js";

/** @typedef {import("./protocol.js").Entry} Entry */
/** @typedef {import("./protocol.js").Block} Block */

/**
 * Put rendered Markdown into `target` and add a copy button to every code block.
 * @param {HTMLElement} target
 * @param {string} text
 */
export function fillMarkdown(target, text) {
  target.innerHTML = renderMarkdown(text);
  for (const block of target.querySelectorAll(".nbc-code")) {
    const code = block.querySelector("code");
    block.append(copyButton("Copy code", () => code?.textContent ?? ""));
  }
}

/**
 * The visible text of an entry (what "Copy message" copies).
 * @param {Entry} entry
 */
function entryText(entry) {
  return entry.blocks
    .filter((b) => b.type === "text")
    .map((b) => /** @type {{text: string}} */ (b).text)
    .join("\n\n");
}

/**
 * @param {Entry["meta"]} meta
 * @returns {string}
 */
function metaText(meta) {
  if (!meta) return "";
  const parts = [];
  if (meta.model) parts.push(meta.model);
  if (meta.output_tokens) parts.push(countOf(meta.output_tokens, "token"));
  if (meta.cost !== undefined && meta.cost !== null) parts.push(formatCost(meta.cost));
  if (meta.stop_reason && meta.stop_reason !== "end_turn") parts.push(meta.stop_reason);
  return parts.join(" · ");
}

/**
 * Render one finished message.
 * @param {Entry} entry
 * @returns {HTMLElement}
 */
export function renderEntry(entry) {
  const user = entry.role === "user";
  const body = h("div", { class: "nbc-msg-body" });
  for (const block of entry.blocks) {
    if (block.type === "text") {
      if (user) body.append(h("div", { class: "nbc-user-text", text: block.text }));
      else {
        const div = h("div", { class: "nbc-md" });
        fillMarkdown(div, block.text);
        body.append(div);
      }
    } else if (block.type === "thinking") {
      const div = h("div", { class: "nbc-md" });
      fillMarkdown(div, block.text);
      body.append(h("details", { class: "nbc-thinking" }, h("summary", { text: "Thinking" }), div));
    } else if (block.type === "image") {
      body.append(thumbnail(block));
    } else if (block.type === "tool") {
      body.append(renderTool(block));
    } else {
      body.append(h("div", { class: "nbc-other", text: block.label || block.type }));
    }
  }
  const meta = entry.meta || {};
  const interrupted = Boolean(meta.interrupted);
  const head = h(
    "div",
    { class: "nbc-msg-head" },
    h("span", { class: "nbc-role", text: user ? "You" : "Claude" }),
    h("span", { class: "nbc-meta", text: metaText(entry.meta) }),
    interrupted ? h("span", { class: "nbc-tag", text: "stopped" }) : null,
    copyButton("Copy message", () => entryText(entry)),
  );
  return h(
    "article",
    {
      class: `nbc-msg ${user ? "nbc-user" : "nbc-assistant"}${interrupted ? " nbc-interrupted" : ""}`,
      "aria-label": user ? "You" : "Claude",
    },
    head,
    body,
  );
}

/** The live reply: rendered again at most every few frames while text arrives. */
export class LiveMessage {
  /**
   * @param {{model?: string, prefill?: string | null, text?: string, thinking?: string}} start
   */
  constructor(start) {
    this.text = (start.prefill || "") + (start.text || "");
    this.thinking = start.thinking || "";
    this.answer = h("div", { class: "nbc-md" });
    this.thinkingBody = h("div", { class: "nbc-md" });
    // collapsed like thinking in history; the summary says it is still going
    this.thinkingBox = h(
      "details",
      { class: "nbc-thinking", hidden: !this.thinking },
      h("summary", { text: "Thinking…" }),
      this.thinkingBody,
    );
    this.el = h(
      "article",
      { class: "nbc-msg nbc-assistant nbc-live", "aria-label": "Claude", "aria-busy": "true" },
      h(
        "div",
        { class: "nbc-msg-head" },
        h("span", { class: "nbc-role", text: "Claude" }),
        h("span", { class: "nbc-meta", text: start.model || "" }),
        h("span", { class: "nbc-typing", text: "writing…" }),
      ),
      h("div", { class: "nbc-msg-body" }, this.thinkingBox, this.answer),
    );
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.lastCost = 0;
    this.dirty = true;
    this.paint();
  }

  /** @param {{text?: string, thinking?: string}} delta */
  append(delta) {
    if (delta.text) this.text += delta.text;
    if (delta.thinking) this.thinking += delta.thinking;
    if (delta.text || delta.thinking) this.el.hidden = false;
    this.dirty = true;
    this.schedule();
  }

  /**
   * The reply so far went into the transcript (a tool round): stream the next step afresh,
   * hidden until it has something to show (the tool call above says what is going on).
   */
  reset() {
    this.replace({ text: "", thinking: "" });
    this.thinkingBox.hidden = true;
    this.el.hidden = true;
  }

  /** @param {{text?: string, thinking?: string, prefill?: string | null}} snapshot */
  replace(snapshot) {
    this.text = (snapshot.prefill || "") + (snapshot.text || "");
    this.thinking = snapshot.thinking || "";
    if (this.text || this.thinking) this.el.hidden = false;
    this.dirty = true;
    this.schedule();
  }

  schedule() {
    if (this.timer !== null) return;
    // Adaptive: never spend more than about a fifth of the time re-rendering.
    const delay = Math.max(50, this.lastCost * 4);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.paint();
    }, delay);
  }

  paint() {
    if (!this.dirty) return;
    const t0 = performance.now();
    this.dirty = false;
    fillMarkdown(this.answer, this.text);
    this.thinkingBox.hidden = !this.thinking;
    if (this.thinking) fillMarkdown(this.thinkingBody, this.thinking);
    this.lastCost = performance.now() - t0;
    this.el.dispatchEvent(new CustomEvent("nbc-painted", { bubbles: true }));
  }

  destroy() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.el.remove();
  }
}

/** The message list (role="log"): finished entries, reused when unchanged, plus the live one. */
export class Transcript {
  constructor() {
    this.el = h("div", {
      class: "nbc-log",
      role: "log",
      "aria-label": "Conversation with Claude",
      "aria-live": "polite",
      tabindex: "0",
    });
    this.empty = h("p", {
      class: "nbc-empty",
      text: "No messages yet. Type below, or run a %%claude cell: it shows up here too.",
    });
    this.el.append(this.empty);
    /** @type {{key: string, node: HTMLElement}[]} */
    this.items = [];
    /** @type {LiveMessage | null} */
    this.live = null;
    this.el.addEventListener("nbc-painted", () => this.stickToBottom());
    this.pinned = true;
    this.el.addEventListener("scroll", () => {
      this.pinned = this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight < 48;
    });
  }

  /** @param {Entry[]} entries */
  setEntries(entries) {
    const list = Array.isArray(entries) ? entries : [];
    /** @type {{key: string, node: HTMLElement}[]} */
    const next = [];
    for (let i = 0; i < list.length; i++) {
      const key = JSON.stringify(list[i]);
      const old = this.items[i];
      next.push(old && old.key === key ? old : { key, node: renderEntry(list[i]) });
    }
    // Put nodes in place, touching the DOM only where something changed.
    let cursor = this.empty.nextSibling;
    for (const item of next) {
      if (cursor !== item.node) this.el.insertBefore(item.node, cursor);
      cursor = item.node.nextSibling;
    }
    const keep = new Set(next.map((item) => item.node));
    for (const item of this.items) if (!keep.has(item.node)) item.node.remove();
    this.items = next;
    if (this.live) this.el.append(this.live.el);
    this.empty.hidden = next.length > 0 || this.live !== null;
    this.stickToBottom();
  }

  /** @param {{model?: string, prefill?: string | null, text?: string, thinking?: string}} start */
  startLive(start) {
    this.endLive();
    this.live = new LiveMessage(start);
    this.el.append(this.live.el);
    this.empty.hidden = true;
    this.pinned = true;
    this.stickToBottom();
  }

  endLive() {
    if (this.live) this.live.destroy();
    this.live = null;
    this.empty.hidden = this.items.length > 0;
  }

  stickToBottom() {
    if (this.pinned) this.el.scrollTop = this.el.scrollHeight;
  }
}

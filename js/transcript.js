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
    const head = block.querySelector(".nbc-code-head") || block;
    head.append(copyButton("Copy code", () => code?.textContent ?? ""));
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
  if (meta.output_tokens && meta.estimated) {
    // stopped before the API counted: the usage it sent first ("1 token") is not the answer
    parts.push(`≈${countOf(meta.output_tokens, "token")} (stopped)`);
  } else if (meta.output_tokens) parts.push(countOf(meta.output_tokens, "token"));
  if (meta.cost !== undefined && meta.cost !== null) parts.push(formatCost(meta.cost));
  if (meta.stop_reason && meta.stop_reason !== "end_turn") parts.push(meta.stop_reason);
  return parts.join(" · ");
}

/**
 * Render one finished message.
 * @param {Entry} entry
 * @param {{plain?: boolean}} [options]  `plain`: its text as typed, not rendered (a quick
 *   stand-in for a message far up the log, rendered in full when it scrolls near)
 * @returns {HTMLElement}
 */
export function renderEntry(entry, options = {}) {
  const user = entry.role === "user";
  const plain = Boolean(options.plain);
  const body = h("div", { class: "nbc-msg-body" });
  /** @param {string} text */
  const markdown = (text) => {
    if (plain) return h("div", { class: "nbc-md nbc-plain", text });
    const div = h("div", { class: "nbc-md" });
    fillMarkdown(div, text);
    return div;
  };
  for (const block of entry.blocks) {
    if (block.type === "text") {
      if (user) body.append(h("div", { class: "nbc-user-text", text: block.text }));
      else body.append(markdown(block.text));
    } else if (block.type === "thinking") {
      const div = markdown(block.text);
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
      class:
        `nbc-msg ${user ? "nbc-user" : "nbc-assistant"}${interrupted ? " nbc-interrupted" : ""}` +
        (plain ? " nbc-stand-in" : ""),
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
    /** @type {ReturnType<typeof setInterval> | null} the retry countdown */
    this.countdown = null;
    this.lastCost = 0;
    this.dirty = true;
    this.paint();
  }

  /**
   * The request failed and is tried again: say so, counting down ("Rate limited (429) —
   * retrying in 4 s (attempt 2 of 3)…") until text arrives or the reply ends.
   * @param {import("./protocol.js").RetryWaitMsg} retry
   */
  waiting(retry) {
    this.stopWaiting();
    const until = performance.now() + Math.max(0, Number(retry.wait) || 0) * 1000;
    const label = /** @type {HTMLElement} */ (this.el.querySelector(".nbc-typing"));
    const reason = retry.reason || "Error";
    // the session's reason may already name the status ("Rate limited (429)")
    const what = retry.status && !reason.includes(`(${retry.status})`) ? `${reason} (${retry.status})` : reason;
    const attempt = retry.attempts ? ` (attempt ${retry.attempt} of ${retry.attempts})` : "";
    const tick = () => {
      const left = Math.ceil((until - performance.now()) / 1000);
      label.textContent =
        left > 0 ? `${what} — retrying in ${left} s${attempt}…` : `${what} — retrying now${attempt}…`;
      if (left <= 0) this.stopWaiting(false);
    };
    label.classList.add("nbc-retrying");
    label.setAttribute("role", "status");
    tick();
    this.countdown = setInterval(tick, 250);
  }

  /** @param {boolean} [reset]  put "writing…" back */
  stopWaiting(reset = true) {
    if (this.countdown !== null) clearInterval(this.countdown);
    this.countdown = null;
    const label = this.el.querySelector(".nbc-typing");
    if (reset && label && label.classList.contains("nbc-retrying")) {
      label.classList.remove("nbc-retrying");
      label.textContent = "writing…";
    }
  }

  /** @param {{text?: string, thinking?: string}} delta */
  append(delta) {
    if (delta.text || delta.thinking) this.stopWaiting();
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

  /**
   * The reply failed: render what came, once, and mark it with the error (it is not in the
   * history: the session rolled the turn back).
   * @param {string} error
   */
  fail(error) {
    this.stopWaiting(false);
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.dirty = true;
    this.paint();
    this.el.classList.remove("nbc-live");
    this.el.classList.add("nbc-failed");
    this.el.setAttribute("aria-busy", "false");
    this.thinkingBox.querySelector("summary")?.replaceChildren("Thinking");
    const typing = this.el.querySelector(".nbc-typing");
    typing?.replaceWith(
      h("span", { class: "nbc-tag nbc-error-tag", text: "failed" }),
      h("span", { class: "nbc-failed-why", text: `${error} (not kept in the conversation)` }),
    );
  }

  destroy() {
    this.stopWaiting(false);
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.el.remove();
  }
}

/**
 * How many of the newest messages are rendered at once (Markdown, maths, code); older ones first
 * show as plain text and are rendered when they scroll near the view, so a long chat opens fast.
 */
export const RICH_TAIL = 24;

/**
 * @typedef {object} Item  one message in the log
 * @property {string} key  the entry as JSON: an unchanged entry keeps its node
 * @property {Entry} entry
 * @property {HTMLElement} node
 * @property {boolean} rich  rendered in full (not the plain text stand-in)
 */

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
    this.empty = h("p", { class: "nbc-empty", text: "Loading the conversation…" });
    this.el.append(this.empty);
    /** @type {Item[]} */
    this.items = [];
    /** @type {LiveMessage | null} */
    this.live = null;
    /** @type {HTMLElement[]} a failed reply (and its question) kept on screen, marked */
    this.failed = [];
    /** @type {Map<Element, Item>} plain stand-ins waiting to be rendered */
    this.waiting = new Map();
    /** @type {IntersectionObserver | null} */
    this.observer =
      typeof IntersectionObserver === "function"
        ? new IntersectionObserver((seen) => this.onSeen(seen), { root: this.el, rootMargin: "1200px 0px" })
        : null;
    this.el.addEventListener("nbc-painted", () => this.stickToBottom());
    // printing the notebook shows every message in full
    this.onPrint = () => this.renderAll();
    window.addEventListener("beforeprint", this.onPrint);
    this.pinned = true;
    this.el.addEventListener("scroll", () => {
      this.pinned = this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight < 48;
    });
  }

  /** @param {string} text  what the log says while it has no message */
  setEmptyText(text) {
    this.empty.textContent = text;
  }

  /** The entries shown now. */
  get entries() {
    return this.items.map((item) => item.entry);
  }

  /**
   * From entry `start` on, the transcript is `entries` (an ENTRIES message).
   * @param {number} start
   * @param {Entry[]} entries
   */
  splice(start, entries) {
    const from = Math.max(0, Math.min(start, this.items.length));
    this.setEntries([...this.entries.slice(0, from), ...entries], from);
  }

  /**
   * Show `entries`; the first `from` are known to be unchanged.
   * @param {Entry[]} entries
   * @param {number} [from]
   */
  setEntries(entries, from = 0) {
    const list = Array.isArray(entries) ? entries : [];
    const keepUntil = Math.max(0, Math.min(from, list.length, this.items.length));
    /** @type {Item[]} */
    const next = this.items.slice(0, keepUntil);
    for (let i = keepUntil; i < list.length; i++) {
      const key = JSON.stringify(list[i]);
      const old = this.items[i];
      next.push(old && old.key === key ? old : this.make(list[i], key, list.length - i <= RICH_TAIL));
    }
    // Put nodes in place, touching the DOM only where something changed.
    let cursor = keepUntil > 0 ? next[keepUntil - 1].node.nextSibling : this.empty.nextSibling;
    for (let i = keepUntil; i < next.length; i++) {
      const node = next[i].node;
      if (cursor !== node) this.el.insertBefore(node, cursor);
      cursor = node.nextSibling;
    }
    const keep = new Set(next.slice(keepUntil));
    for (const item of this.items.slice(keepUntil)) if (!keep.has(item)) this.drop(item);
    this.items = next;
    if (this.failed.length) this.el.append(...this.failed);
    if (this.live) this.el.append(this.live.el);
    this.empty.hidden = next.length > 0 || this.live !== null || this.failed.length > 0;
    this.stickToBottom();
  }

  /**
   * @param {Entry} entry
   * @param {string} key
   * @param {boolean} rich  render it in full now (else a plain stand-in, rendered when seen)
   * @returns {Item}
   */
  make(entry, key, rich) {
    if (rich || !this.observer) return { key, entry, node: renderEntry(entry), rich: true };
    const item = { key, entry, node: renderEntry(entry, { plain: true }), rich: false };
    this.waiting.set(item.node, item);
    this.observer.observe(item.node);
    return item;
  }

  /** @param {Item} item */
  drop(item) {
    if (!item.rich) {
      this.waiting.delete(item.node);
      this.observer?.unobserve(item.node);
    }
    item.node.remove();
  }

  /** @param {IntersectionObserverEntry[]} seen */
  onSeen(seen) {
    for (const { target, isIntersecting } of seen) {
      if (isIntersecting) this.upgrade(target);
    }
  }

  /**
   * Render a plain stand-in in full.
   * @param {Element} node
   */
  upgrade(node) {
    const item = this.waiting.get(node);
    if (!item) return;
    this.waiting.delete(node);
    this.observer?.unobserve(node);
    const rich = renderEntry(item.entry);
    node.replaceWith(rich);
    item.node = rich;
    item.rich = true;
  }

  /** Render every plain stand-in in full (before printing or searching everything). */
  renderAll() {
    for (const node of [...this.waiting.keys()]) this.upgrade(node);
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
    this.empty.hidden = this.items.length > 0 || this.failed.length > 0;
  }

  /**
   * The reply failed (the session rolls the turn back): what streamed stays on screen, marked
   * with the error, with the question it answered, until the next turn starts.
   * @param {string} error
   */
  failLive(error) {
    const live = this.live;
    this.live = null;
    if (!live || !(live.text || live.thinking)) {
      if (live) live.destroy();
      this.empty.hidden = this.items.length > 0;
      return;
    }
    live.fail(error);
    const last = this.items[this.items.length - 1];
    if (last && last.entry.role === "user") {
      // the question stays too: the rolled-back transcript no longer has it
      this.items.pop();
      this.failed.push(last.node);
      last.node.classList.add("nbc-failed-question");
    }
    this.failed.push(live.el);
    this.el.append(...this.failed);
    this.stickToBottom();
  }

  /** Forget the failed reply kept on screen (a new turn starts). */
  dropFailed() {
    for (const node of this.failed) node.remove();
    this.failed = [];
  }

  stickToBottom() {
    if (this.pinned) this.el.scrollTop = this.el.scrollHeight;
  }

  destroy() {
    window.removeEventListener("beforeprint", this.onPrint);
    this.observer?.disconnect();
    this.waiting.clear();
    this.dropFailed();
    this.endLive();
  }
}

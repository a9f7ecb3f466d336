// One rendered ChatWidget: toolbar, settings, error banner, transcript and composer, wired to
// the anywidget model (traits + custom messages, see protocol.js).

import { Composer } from "./composer.js";
import { countOf, formatCost, formatCount, h } from "./dom.js";
import { FROM_VIEW, TO_VIEW } from "./protocol.js";
import { hideSavedCopies } from "./saved.js";
import { ApprovalPrompt, markWaiting } from "./tools.js";
import { Transcript } from "./transcript.js";

/** @typedef {import("./protocol.js").Traits} Traits */
/** @typedef {import("./protocol.js").FromViewMsg} FromViewMsg */
/** @typedef {import("./protocol.js").ToViewMsg} ToViewMsg */

/**
 * A `change:<trait>` event, or `msg:custom` (a custom message from Python).
 * @typedef {`change:${keyof Traits}` | "msg:custom"} ModelEvent
 */

/**
 * A model event handler. anywidget calls change handlers with (context, new value) and
 * msg:custom handlers with (content, buffers); the view reads traits with `get` instead, and
 * checks a custom message before it trusts its shape.
 * @typedef {(...args: unknown[]) => void} Handler
 */

/**
 * The part of anywidget's model interface we use, typed by the traits of protocol.js.
 * @typedef {object} Model
 * @property {<K extends keyof Traits>(name: K) => Traits[K]} get
 * @property {<K extends keyof Traits>(name: K, value: Traits[K]) => void} set
 * @property {() => void} save_changes
 * @property {(event: ModelEvent, cb: Handler) => void} on
 * @property {(event: ModelEvent, cb: Handler) => void} off
 * @property {(content: FromViewMsg, callbacks?: undefined, buffers?: ArrayBuffer[]) => void} send
 */

/** Keys that the message box and the settings fields use themselves with Ctrl or Cmd. */
const EDITING_KEYS = new Set([
  "a", "c", "v", "x", "z", "y", "backspace", "delete", "arrowleft", "arrowright", "arrowup",
  "arrowdown", "home", "end", "enter", " ", "tab", "insert",
]);

/**
 * Is this a host shortcut the widget has no use for (Ctrl/Cmd+S saves the notebook, and so on)?
 * The widget is marked `data-lm-suppress-shortcuts` so that typing never runs notebook commands
 * ("a", "d d", Shift+Enter); these keys are handed to the notebook instead.
 * @param {KeyboardEvent} e
 */
export function isHostShortcut(e) {
  if (!(e.ctrlKey || e.metaKey) || e.altKey || e.isComposing) return false;
  const key = String(e.key || "").toLowerCase();
  if (!key || ["control", "meta", "shift", "alt", "os"].includes(key)) return false;
  return !EDITING_KEYS.has(key);
}

export class ChatView {
  /**
   * @param {Model} model
   * @param {HTMLElement} el
   */
  constructor(model, el) {
    this.opened = performance.now();
    this.model = model;
    this.el = el;
    /** @type {[ModelEvent, Handler][]} */
    this.listeners = [];

    this.transcript = new Transcript();
    /** @type {number | null} the ENTRIES `seq` this view holds (null: waiting for all of it) */
    this.seq = null;
    this.composer = new Composer({
      send: (content, buffers) => this.send(content, buffers),
      isBusy: () => Boolean(this.model.get("busy")),
    });

    // toolbar
    this.modelLabel = h("span", { class: "nbc-model" });
    this.usageLabel = h("span", { class: "nbc-usage", "aria-label": "Usage and cost" });
    this.toolsBadge = h("span", { class: "nbc-tools-badge", hidden: true });
    this.settingsButton = h("button", {
      type: "button",
      class: "nbc-button nbc-quiet",
      "aria-expanded": "false",
      "aria-controls": "",
      text: "Settings",
    });
    this.undoButton = h("button", {
      type: "button",
      class: "nbc-button nbc-quiet",
      title: "Remove the last question and its answer",
      text: "Undo",
    });
    this.clearButton = h("button", {
      type: "button",
      class: "nbc-button nbc-quiet",
      title: "Start a new conversation",
      text: "Clear",
    });
    const toolbar = h(
      "div",
      { class: "nbc-toolbar" },
      h("span", { class: "nbc-title", text: "Claude" }),
      this.modelLabel,
      this.toolsBadge,
      h("span", { class: "nbc-spacer" }),
      this.usageLabel,
      this.undoButton,
      this.clearButton,
      this.settingsButton,
    );

    // "Clear" asks first: an inline question, the focus on the safe answer, Escape keeps
    this.confirmText = h("span", { class: "nbc-confirm-text" });
    this.keepButton = h("button", { type: "button", class: "nbc-button nbc-primary", text: "Keep the conversation" });
    this.clearConfirmButton = h("button", { type: "button", class: "nbc-button nbc-danger", text: "Clear it" });
    const confirmId = `nbc-confirm-${Math.random().toString(36).slice(2, 10)}`;
    this.confirmText.id = confirmId;
    this.confirm = h(
      "div",
      { class: "nbc-confirm", role: "alertdialog", "aria-labelledby": confirmId, hidden: true },
      this.confirmText,
      h("span", { class: "nbc-confirm-buttons" }, this.keepButton, this.clearConfirmButton),
    );

    // settings
    this.modelSelect = /** @type {HTMLSelectElement} */ (h("select", { class: "nbc-field" }));
    this.systemInput = /** @type {HTMLTextAreaElement} */ (
      h("textarea", { class: "nbc-field", rows: 3, placeholder: "You are a patient tutor…" })
    );
    this.maxTokensInput = /** @type {HTMLInputElement} */ (
      h("input", { class: "nbc-field", type: "number", min: 1, step: 1 })
    );
    const settingsId = `nbc-settings-${Math.random().toString(36).slice(2, 10)}`;
    this.toolsSwitch = /** @type {HTMLInputElement} */ (
      h("input", { type: "checkbox", "aria-describedby": `${settingsId}-tools` })
    );
    this.toolsHint = h("div", { class: "nbc-hint", id: `${settingsId}-tools` });
    this.settingsButton.setAttribute("aria-controls", settingsId);
    this.settings = h(
      "div",
      { class: "nbc-settings", id: settingsId, hidden: true, role: "group", "aria-label": "Settings" },
      h("label", {}, h("span", { text: "Model" }), this.modelSelect),
      h("label", {}, h("span", { text: "System prompt" }), this.systemInput),
      h("label", {}, h("span", { text: "Max tokens" }), this.maxTokensInput),
      h(
        "div",
        { class: "nbc-tools-setting" },
        h("label", { class: "nbc-check" }, this.toolsSwitch, h("span", { text: "Let Claude use tools" })),
        this.toolsHint,
      ),
    );

    // error banner
    this.bannerText = h("div", { class: "nbc-banner-text" });
    this.retryButton = h("button", { type: "button", class: "nbc-button", text: "Retry" });
    this.dismissButton = h("button", {
      type: "button",
      class: "nbc-button nbc-quiet",
      "aria-label": "Dismiss error",
      text: "Dismiss",
    });
    this.banner = h(
      "div",
      { class: "nbc-banner", role: "alert", hidden: true },
      this.bannerText,
      h("div", { class: "nbc-banner-buttons" }, this.retryButton, this.dismissButton),
    );

    this.approval = new ApprovalPrompt({
      send: (content) => this.send(content),
      hasFocus: () => this.root.contains(document.activeElement),
      restoreFocus: () => this.composer.textarea.focus(),
    });

    this.root = h(
      "div",
      // JupyterLab must not treat keys typed here as notebook shortcuts (Shift+Enter would
      // run the cell, "d d" would delete it): Lumino skips elements inside this attribute.
      { class: "nbc-root", "data-lm-suppress-shortcuts": "true" },
      toolbar,
      this.confirm,
      this.settings,
      this.banner,
      this.transcript.el,
      this.approval.el,
      this.composer.el,
    );
    el.append(this.root);

    // the saved copy of this chat (an output beside the widget, for the notebook file) is hidden
    // while the live chat shows
    this.showSaved = hideSavedCopies(String(this.model.get("saved_id") || ""));

    this.wireControls();
    this.wireModel();
    this.renderAll();
    this.send({ type: FROM_VIEW.SYNC, transcript: true });
  }

  /**
   * @param {FromViewMsg} content
   * @param {ArrayBuffer[]} [buffers]
   */
  send(content, buffers) {
    this.model.send(content, undefined, buffers);
  }

  /**
   * Hand a host shortcut (Ctrl/Cmd+S, …) to the notebook: the same key, dispatched on the
   * widget's output element, outside the part where notebook shortcuts are suppressed. When the
   * host acts on it, the browser's own action (its "Save page") is prevented.
   * @param {KeyboardEvent} e
   */
  passShortcut(e) {
    if (e.defaultPrevented || !isHostShortcut(e)) return;
    const copy = new KeyboardEvent("keydown", {
      key: e.key,
      code: e.code,
      keyCode: e.keyCode,
      ctrlKey: e.ctrlKey,
      metaKey: e.metaKey,
      shiftKey: e.shiftKey,
      altKey: e.altKey,
      bubbles: true,
      cancelable: true,
    });
    if (!this.el.dispatchEvent(copy)) e.preventDefault();
  }

  wireControls() {
    this.root.addEventListener("keydown", (e) => this.passShortcut(e));
    this.settingsButton.addEventListener("click", () => {
      const open = this.settings.hidden;
      this.settings.hidden = !open;
      this.settingsButton.setAttribute("aria-expanded", String(open));
      if (open) {
        this.modelSelect.focus();
        this.send({ type: FROM_VIEW.SYNC }); // session.tools may have changed since
      }
    });
    this.toolsSwitch.addEventListener("change", () => this.setTrait("use_tools", this.toolsSwitch.checked));
    this.undoButton.addEventListener("click", () => this.send({ type: FROM_VIEW.UNDO }));
    this.clearButton.addEventListener("click", () => this.askClear());
    this.keepButton.addEventListener("click", () => this.closeClear());
    this.clearConfirmButton.addEventListener("click", () => {
      this.closeClear();
      this.send({ type: FROM_VIEW.CLEAR });
    });
    this.confirm.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        this.closeClear();
      }
    });
    this.retryButton.addEventListener("click", () => {
      this.composer.dropRestored(); // Retry sends it: the box should not hold it twice
      this.send({ type: FROM_VIEW.RETRY });
    });
    this.dismissButton.addEventListener("click", () => {
      this.banner.hidden = true;
      this.send({ type: FROM_VIEW.DISMISS });
    });
    this.modelSelect.addEventListener("change", () => this.setTrait("model", this.modelSelect.value));
    this.systemInput.addEventListener("change", () => this.setTrait("system", this.systemInput.value));
    this.maxTokensInput.addEventListener("change", () => {
      const n = Math.floor(Number(this.maxTokensInput.value));
      if (Number.isFinite(n) && n >= 1) this.setTrait("max_tokens", n);
      else this.maxTokensInput.value = String(this.model.get("max_tokens") ?? "");
    });
    // drag and drop images anywhere on the widget
    this.root.addEventListener("dragover", (e) => {
      if ([...(e.dataTransfer?.types || [])].includes("Files")) {
        e.preventDefault();
        this.root.classList.add("nbc-dropping");
      }
    });
    this.root.addEventListener("dragleave", () => this.root.classList.remove("nbc-dropping"));
    this.root.addEventListener("drop", (e) => {
      this.root.classList.remove("nbc-dropping");
      const files = e.dataTransfer?.files;
      if (files && files.length) {
        e.preventDefault();
        this.composer.addFiles(files);
      }
    });
  }

  /** Clear was pressed: ask first (focus on "Keep the conversation"). */
  askClear() {
    const shared = Boolean(this.model.get("shared"));
    this.confirmText.textContent = shared
      ? "Clear the whole conversation? %%claude cells share it: they forget it too."
      : "Clear the whole conversation?";
    this.confirm.hidden = false;
    this.keepButton.focus();
  }

  /** The question goes; the focus goes back to Clear. */
  closeClear() {
    const had = this.confirm.contains(document.activeElement);
    this.confirm.hidden = true;
    if (had) this.clearButton.focus();
  }

  /**
   * Write a setting trait and send it to Python.
   * @template {keyof Traits} K
   * @param {K} name
   * @param {Traits[K]} value
   */
  setTrait(name, value) {
    this.model.set(name, value);
    this.model.save_changes();
  }

  /** @param {ModelEvent} event @param {Handler} cb */
  listen(event, cb) {
    this.model.on(event, cb);
    this.listeners.push([event, cb]);
  }

  wireModel() {
    this.listen("change:busy", () => this.renderBusy());
    this.listen("change:usage", () => this.renderUsage());
    this.listen("change:cost", () => this.renderUsage());
    this.listen("change:budget", () => this.renderUsage());
    this.listen("change:error", () => this.renderError());
    this.listen("change:models", () => this.renderSettings());
    this.listen("change:model", () => this.renderSettings());
    this.listen("change:system", () => this.renderSettings());
    this.listen("change:max_tokens", () => this.renderSettings());
    this.listen("change:tool_names", () => this.renderTools());
    this.listen("change:use_tools", () => this.renderTools());
    this.listen("change:approval", () => this.renderApproval());
    this.listen("change:shared", () => this.renderHint());
    this.listen("msg:custom", (msg) => this.onMessage(msg));
  }

  /** @param {unknown} content  a custom message from Python (see TO_VIEW) */
  onMessage(content) {
    if (!content || typeof content !== "object") return;
    const msg = /** @type {ToViewMsg} */ (content);
    switch (msg.type) {
      case TO_VIEW.TURN_START:
        this.transcript.dropFailed();
        this.transcript.startLive({ model: msg.model, prefill: msg.prefill });
        break;
      case TO_VIEW.DELTA:
        if (!this.transcript.live) this.transcript.startLive({});
        this.transcript.live?.append(msg);
        break;
      case TO_VIEW.LIVE:
        if (!this.transcript.live) this.transcript.startLive(msg);
        else this.transcript.live.replace(msg);
        // past a tool round with nothing new yet: the tool call above says what goes on
        if (msg.step && !msg.text && !msg.thinking) this.transcript.live?.reset();
        break;
      case TO_VIEW.STEP:
        this.transcript.live?.reset();
        break;
      case TO_VIEW.TURN_END:
        if (msg.error) this.transcript.failLive(String(msg.error));
        else this.transcript.endLive();
        break;
      case TO_VIEW.ATTACHED:
        this.composer.attached(msg);
        break;
      case TO_VIEW.DRAFT:
        this.composer.restoreDraft(String(msg.text || ""));
        break;
      case TO_VIEW.ENTRIES:
        this.applyEntries(msg);
        break;
      case TO_VIEW.RETRY_WAIT:
        if (!this.transcript.live) this.transcript.startLive({});
        this.transcript.live?.waiting(msg);
        break;
      default:
        break;
    }
  }

  /**
   * Apply an ENTRIES message: all of the transcript (start 0), or the change after the one this
   * view holds. A view that missed one asks for all of it again.
   * @param {import("./protocol.js").EntriesMsg} msg
   */
  applyEntries(msg) {
    const entries = Array.isArray(msg.entries) ? msg.entries : [];
    if (msg.start === 0 && msg.seq === this.seq) return; // another view's copy of what we hold
    if (msg.start === 0) {
      const t0 = performance.now();
      const first = this.seq === null;
      this.seq = msg.seq;
      this.transcript.splice(0, entries);
      // how long showing the whole transcript took (the browser tests read it)
      const detail = { entries: entries.length, ms: performance.now() - t0, first, sinceOpen: performance.now() - this.opened };
      this.root.dispatchEvent(new CustomEvent("nbc-transcript", { bubbles: true, detail }));
    } else if (this.seq !== null && msg.seq === this.seq + 1) {
      this.seq = msg.seq;
      this.transcript.splice(msg.start, entries);
    } else if (this.seq !== null) {
      this.seq = null;
      this.send({ type: FROM_VIEW.SYNC, transcript: true });
      return;
    } else {
      return; // waiting for all of it, which holds this change too
    }
    this.renderHint();
    markWaiting(this.transcript.el, this.model.get("approval")?.id);
  }

  /** What the empty log says (once the transcript came): only what is true of this session. */
  renderHint() {
    if (this.seq === null) return; // still "Loading the conversation…"
    this.transcript.setEmptyText(
      this.model.get("shared")
        ? "No messages yet. Type below, or run a %%claude cell: it shows up here too."
        : "No messages yet. Type below to start. (This chat has a session of its own: %%claude cells do not show up here.)",
    );
  }

  renderAll() {
    this.renderBusy();
    this.renderUsage();
    this.renderError();
    this.renderSettings();
    this.renderTools();
    this.renderApproval();
  }

  renderApproval() {
    /** @type {import("./protocol.js").Approval | null} */
    const approval = this.model.get("approval");
    this.approval.show(approval);
    markWaiting(this.transcript.el, approval?.id);
  }

  renderTools() {
    /** @type {string[]} */
    const names = (this.model.get("tool_names") || []).map(String);
    const on = Boolean(this.model.get("use_tools"));
    this.toolsSwitch.checked = on && names.length > 0;
    this.toolsSwitch.disabled = names.length === 0;
    if (names.length) {
      this.toolsHint.textContent =
        `${names.length === 1 ? "Tool" : "Tools"}: ${names.join(", ")}. Claude asks before each call.`;
    } else {
      this.toolsHint.replaceChildren(
        "No tools yet: add Python functions to ",
        h("code", { text: "session.tools" }),
        " (for example nbclaude.get_session().tools.append(my_function)).",
      );
    }
    this.toolsBadge.hidden = !(on && names.length);
    this.toolsBadge.textContent = countOf(names.length, "tool");
    this.toolsBadge.title = `Claude may use: ${names.join(", ")}`;
  }

  renderBusy() {
    const busy = Boolean(this.model.get("busy"));
    this.composer.setBusy(busy);
    this.undoButton.toggleAttribute("disabled", busy);
    this.clearButton.toggleAttribute("disabled", busy);
    if (!busy) this.transcript.endLive();
  }

  renderUsage() {
    const usage = this.model.get("usage") || {};
    const input =
      (usage.input_tokens || 0) +
      (usage.cache_creation_input_tokens || 0) +
      (usage.cache_read_input_tokens || 0);
    const budget = this.model.get("budget");
    const spent = formatCost(this.model.get("cost"));
    this.usageLabel.textContent =
      `${formatCount(input)} in · ${formatCount(usage.output_tokens)} out · ` +
      (typeof budget === "number" && budget > 0 ? `${spent} of ${formatCost(budget)} budget` : spent);
  }

  renderError() {
    /** @type {import("./protocol.js").Banner | null} */
    const error = this.model.get("error");
    if (!error) {
      this.banner.hidden = true;
      this.bannerText.replaceChildren();
      return;
    }
    // replaceChildren would show a null as the text "null": leave the missing parts out
    const parts = [h("strong", { text: error.message || "Something went wrong." })];
    if (error.hint) parts.push(h("div", { class: "nbc-hint", text: error.hint }));
    if (error.request_id) parts.push(h("div", { class: "nbc-hint", text: `Request id: ${error.request_id}` }));
    this.bannerText.replaceChildren(...parts);
    this.retryButton.hidden = !error.retry;
    this.banner.hidden = false;
  }

  renderSettings() {
    const current = String(this.model.get("model") || "");
    /** @type {import("./protocol.js").ModelChoice[]} */
    const models = [...(this.model.get("models") || [])];
    if (current && !models.some((m) => m.id === current)) models.unshift({ id: current });
    this.modelSelect.replaceChildren(
      ...models.map((m) => {
        const option = /** @type {HTMLOptionElement} */ (h("option", { value: m.id }));
        option.textContent = m.display_name && m.display_name !== m.id ? `${m.display_name} (${m.id})` : m.id;
        return option;
      }),
    );
    this.modelSelect.value = current;
    this.modelLabel.textContent = current;
    if (document.activeElement !== this.systemInput) {
      this.systemInput.value = String(this.model.get("system") || "");
    }
    if (document.activeElement !== this.maxTokensInput) {
      this.maxTokensInput.value = String(this.model.get("max_tokens") ?? "");
    }
  }

  destroy() {
    this.showSaved();
    for (const [event, cb] of this.listeners) this.model.off(event, cb);
    this.listeners = [];
    this.transcript.destroy();
    this.composer.destroy();
    this.root.remove();
  }
}

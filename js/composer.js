// The composer: "Message Claude" textbox, Send / Stop, "Attach image" (file picker, paste,
// drag and drop) and the pending thumbnails, each removable.

import { countOf, h } from "./dom.js";
import { FROM_VIEW, MAX_UPLOAD_BYTES } from "./protocol.js";

/**
 * @typedef {object} ComposerHost
 * @property {(content: import("./protocol.js").FromViewMsg, buffers?: ArrayBuffer[]) => void} send
 *   a custom message to Python
 * @property {() => boolean} isBusy
 */

/** @param {number} bytes */
function formatBytes(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} kB`;
  return countOf(bytes, "byte");
}

/**
 * The bytes of a file (FileReader where Blob.arrayBuffer is missing).
 * @param {Blob} file
 * @returns {Promise<ArrayBuffer>}
 */
function readBuffer(file) {
  if (typeof file.arrayBuffer === "function") return file.arrayBuffer();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(/** @type {ArrayBuffer} */ (reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsArrayBuffer(file);
  });
}

let counter = 0;
function newId() {
  counter += 1;
  const random = Math.random().toString(36).slice(2, 10);
  return `att-${Date.now().toString(36)}-${counter}-${random}`;
}

/**
 * Why a file cannot be attached, or null when it can.
 * @param {{name: string, type: string, size: number}} file
 * @returns {string | null}
 */
export function checkFile(file) {
  const name = file.name || "The file";
  if (!file.type || !file.type.startsWith("image/")) {
    return `${name} is not an image (${file.type || "unknown type"}): attach a PNG, JPEG, GIF or WebP image.`;
  }
  if (file.size > MAX_UPLOAD_BYTES) {
    return `${name} is too large (${formatBytes(file.size)}); the limit is ${formatBytes(MAX_UPLOAD_BYTES)}.`;
  }
  if (file.size === 0) return `${name} is empty.`;
  return null;
}

export class Composer {
  /** @param {ComposerHost} host */
  constructor(host) {
    this.host = host;
    /** @type {{id: string, name: string, url: string, state: string, el: HTMLElement}[]} */
    this.pending = [];
    /** @type {string | null} the text last given back by a failed turn */
    this.restored = null;
    this.textarea = /** @type {HTMLTextAreaElement} */ (
      h("textarea", {
        class: "nbc-input",
        rows: 2,
        "aria-label": "Message Claude",
        placeholder: "Message Claude (Enter sends, Shift+Enter adds a line)",
      })
    );
    this.fileInput = /** @type {HTMLInputElement} */ (
      h("input", { type: "file", accept: "image/*", multiple: true, hidden: true, tabindex: "-1" })
    );
    this.attachButton = h("button", {
      type: "button",
      class: "nbc-button",
      "aria-label": "Attach image",
      title: "Attach image (or paste, or drop one here)",
      text: "Attach image",
    });
    this.sendButton = h("button", {
      type: "button",
      class: "nbc-button nbc-primary",
      "aria-label": "Send",
      title: "Send (Enter)",
      text: "Send",
    });
    this.stopButton = h("button", {
      type: "button",
      class: "nbc-button nbc-stop",
      "aria-label": "Stop",
      title: "Stop the reply (Escape)",
      text: "Stop",
      hidden: true,
    });
    this.tray = h("ul", { class: "nbc-pending", "aria-label": "Attached images", hidden: true });
    this.notice = h("div", { class: "nbc-notice", role: "status", "aria-live": "polite" });
    this.el = h(
      "div",
      { class: "nbc-composer" },
      this.tray,
      this.notice,
      h(
        "div",
        { class: "nbc-composer-row" },
        this.textarea,
        h(
          "div",
          { class: "nbc-composer-buttons" },
          this.attachButton,
          this.sendButton,
          this.stopButton,
        ),
      ),
      this.fileInput,
    );

    this.textarea.addEventListener("keydown", (e) => this.onKeyDown(e));
    this.textarea.addEventListener("paste", (e) => this.onPaste(e));
    this.sendButton.addEventListener("click", () => this.submit());
    this.stopButton.addEventListener("click", () => this.stop());
    this.attachButton.addEventListener("click", () => this.fileInput.click());
    this.fileInput.addEventListener("change", () => {
      this.addFiles(this.fileInput.files);
      this.fileInput.value = "";
    });
  }

  /** @param {boolean} busy */
  setBusy(busy) {
    const hadFocus = document.activeElement === this.sendButton || document.activeElement === this.stopButton;
    this.sendButton.hidden = busy;
    this.stopButton.hidden = !busy;
    if (hadFocus) (busy ? this.stopButton : this.textarea).focus();
  }

  /** @param {KeyboardEvent} e */
  onKeyDown(e) {
    if (e.isComposing) return;
    if (e.key === "Enter" && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      e.stopPropagation();
      this.submit();
    } else if (e.key === "Enter" && e.shiftKey) {
      // Insert the line break ourselves: hosts such as JupyterLab claim Shift+Enter.
      e.preventDefault();
      e.stopPropagation();
      const box = this.textarea;
      box.setRangeText("\n", box.selectionStart, box.selectionEnd, "end");
      box.dispatchEvent(new Event("input", { bubbles: true }));
    } else if (e.key === "Escape" && this.host.isBusy()) {
      e.preventDefault();
      this.stop();
    }
  }

  /** @param {ClipboardEvent} e */
  onPaste(e) {
    const files = [...(e.clipboardData?.files || [])];
    if (files.length === 0) return;
    e.preventDefault();
    this.addFiles(files);
  }

  /** @param {string} message */
  say(message) {
    this.notice.textContent = message;
  }

  stop() {
    this.host.send({ type: FROM_VIEW.STOP });
  }

  /** Send the text and the attached images; returns whether something was sent. */
  submit() {
    const text = this.textarea.value;
    const ready = this.pending.filter((p) => p.state !== "error");
    if (!text.trim() && ready.length === 0) return false;
    if (this.host.isBusy()) {
      this.say("Claude is still answering: wait for the reply, or press Stop.");
      return false;
    }
    this.host.send({ type: FROM_VIEW.SEND, text, attachments: ready.map((p) => p.id) });
    this.textarea.value = "";
    this.restored = null;
    for (const p of this.pending) URL.revokeObjectURL?.(p.url);
    this.pending = [];
    this.renderTray();
    this.say("");
    return true;
  }

  /** @param {Iterable<File> | ArrayLike<File> | null} files */
  addFiles(files) {
    for (const file of Array.from(files || [])) {
      this.addFile(file).catch((err) => this.say(`${file.name || "The file"} could not be read: ${err}`));
    }
  }

  /** @param {File} file */
  async addFile(file) {
    const problem = checkFile(file);
    if (problem) {
      this.say(problem);
      return null;
    }
    const id = newId();
    const url = URL.createObjectURL ? URL.createObjectURL(file) : "";
    const item = { id, name: file.name || "image", url, state: "loading", el: h("li") };
    this.pending.push(item);
    this.renderTray();
    const data = await readBuffer(file);
    if (!this.pending.includes(item)) return null; // removed while reading
    this.host.send(
      { type: FROM_VIEW.ATTACH, id, name: item.name, media_type: file.type, size: file.size },
      [data],
    );
    return id;
  }

  /** Python answered an ATTACH. @param {{id: string, ok: boolean, error?: string}} msg */
  attached(msg) {
    const item = this.pending.find((p) => p.id === msg.id);
    if (!item) return;
    if (msg.ok) {
      item.state = "ready";
    } else {
      this.remove(item.id, false);
      this.say(msg.error || `${item.name} could not be used as an image.`);
      return;
    }
    this.renderTray();
  }

  /** @param {string} id @param {boolean} [tell] */
  remove(id, tell = true) {
    const item = this.pending.find((p) => p.id === id);
    if (!item) return;
    this.pending = this.pending.filter((p) => p !== item);
    URL.revokeObjectURL?.(item.url);
    if (tell) this.host.send({ type: FROM_VIEW.DETACH, id });
    this.renderTray();
  }

  renderTray() {
    this.tray.replaceChildren(
      ...this.pending.map((item) => {
        const img = /** @type {HTMLImageElement} */ (h("img", { alt: item.name, class: "nbc-thumb-small" }));
        if (item.url) img.src = item.url;
        const remove = h("button", {
          type: "button",
          class: "nbc-remove",
          "aria-label": `Remove ${item.name}`,
          title: `Remove ${item.name}`,
          text: "×",
        });
        remove.addEventListener("click", () => {
          this.remove(item.id);
          this.textarea.focus();
        });
        item.el = h("li", { class: `nbc-pending-item nbc-${item.state}` }, img, remove);
        return item.el;
      }),
    );
    this.tray.hidden = this.pending.length === 0;
  }

  /**
   * Put the text of a turn that did not make it back into the box (unless something new was
   * typed there meanwhile).
   * @param {string} text
   */
  restoreDraft(text) {
    if (this.textarea.value) return;
    this.textarea.value = text;
    this.restored = text;
  }

  /** Retry sends the restored text again: take it out of the box if it is still as it was. */
  dropRestored() {
    if (this.restored !== null && this.textarea.value === this.restored) this.textarea.value = "";
    this.restored = null;
  }

  destroy() {
    for (const p of this.pending) URL.revokeObjectURL?.(p.url);
    this.pending = [];
  }
}

// Tools in the widget: tool calls shown collapsed in the transcript (name, status, input JSON,
// result text and our own thumbnails; all of it as text, never HTML), and the approval prompt
// ("Run tool" / "Deny tool") shown while a turn started in this widget waits for the user.

import { h, thumbnail } from "./dom.js";
import { FROM_VIEW } from "./protocol.js";

/** @typedef {import("./protocol.js").ToolBlock} ToolBlock */
/** @typedef {import("./protocol.js").Approval} Approval */

const STATUSES = ["running", "done", "failed", "declined", "not run"];
const WAITING = "waiting for you";

/**
 * @param {HTMLElement} el  a `.nbc-tool` element
 * @param {string} status
 */
function setStatus(el, status) {
  const label = /** @type {HTMLElement | null} */ (el.querySelector(".nbc-tool-status"));
  if (!label) return;
  label.textContent = status;
  label.className = `nbc-tool-status nbc-status-${status.replace(/ /g, "-")}`;
}

/**
 * One tool call and its result, collapsed (`<details>`: the summary is keyboard focusable).
 * @param {ToolBlock} block
 * @returns {HTMLElement}
 */
export function renderTool(block) {
  const status = STATUSES.includes(block.status) ? block.status : "running";
  const body = h(
    "div",
    { class: "nbc-tool-body" },
    h("div", { class: "nbc-tool-label", text: "Input" }),
    h("pre", { class: "nbc-tool-text", text: String(block.input ?? "") }),
  );
  const images = Array.isArray(block.images) ? block.images : [];
  if (typeof block.result === "string" || images.length) {
    body.append(h("div", { class: "nbc-tool-label", text: "Result" }));
    if (block.result) body.append(h("pre", { class: "nbc-tool-text", text: block.result }));
    for (const image of images) body.append(thumbnail(image));
  }
  const el = h(
    "details",
    { class: "nbc-tool", "data-status": status },
    h(
      "summary",
      {},
      h("span", { class: "nbc-tool-kind", text: "Tool" }),
      h("span", { class: "nbc-tool-name", text: String(block.name || "tool") }),
      h("span", { class: "nbc-tool-status" }),
    ),
    body,
  );
  el.dataset.toolId = String(block.id || "");
  setStatus(el, status);
  return el;
}

/**
 * Show "waiting for you" on the call the approval prompt asks about (and the real status on
 * every other call).
 * @param {HTMLElement} root
 * @param {string | null | undefined} id
 */
export function markWaiting(root, id) {
  for (const el of /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll(".nbc-tool"))) {
    const waiting = Boolean(id) && el.dataset.toolId === id && el.dataset.status === "running";
    setStatus(el, waiting ? WAITING : el.dataset.status || "running");
  }
}

/**
 * @typedef {object} ApprovalHost
 * @property {(content: import("./protocol.js").ApproveMsg) => void} send  a custom message to Python
 * @property {() => boolean} hasFocus  whether the keyboard focus is in the widget
 * @property {() => void} restoreFocus  where focus goes when the prompt closes
 */

/** "Claude wants to run NAME" with its input, "Run tool", "Deny tool" and "Always allow". */
export class ApprovalPrompt {
  /** @param {ApprovalHost} host */
  constructor(host) {
    this.host = host;
    /** @type {Approval | null} */
    this.current = null;
    /** @type {string | null} the id answered last: one answer per call, however often the
     * buttons are pressed */
    this.answered = null;
    this.name = h("code", { class: "nbc-tool-name" });
    this.input = h("pre", { class: "nbc-tool-text" });
    this.runButton = h("button", { type: "button", class: "nbc-button nbc-primary", text: "Run tool" });
    this.denyButton = h("button", { type: "button", class: "nbc-button", text: "Deny tool" });
    this.always = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox" }));
    this.alwaysText = h("span");
    const titleId = `nbc-approval-${Math.random().toString(36).slice(2, 10)}`;
    this.el = h(
      "div",
      {
        class: "nbc-approval",
        role: "group",
        "aria-labelledby": titleId,
        tabindex: "-1",
        hidden: true,
      },
      h(
        "div",
        { class: "nbc-approval-title", id: titleId },
        h("span", { text: "Claude wants to run " }),
        this.name,
      ),
      h("div", { class: "nbc-tool-label", text: "Input" }),
      this.input,
      h(
        "div",
        { class: "nbc-approval-row" },
        this.runButton,
        this.denyButton,
        h("label", { class: "nbc-check" }, this.always, this.alwaysText),
      ),
    );
    this.runButton.addEventListener("click", () => this.answer(true));
    this.denyButton.addEventListener("click", () => this.answer(false));
    this.el.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.current) {
        e.preventDefault();
        e.stopPropagation();
        this.answer(false);
      }
    });
  }

  /** @param {Approval | null | undefined} approval  the `approval` trait */
  show(approval) {
    const had = this.el.contains(document.activeElement);
    if (!approval || typeof approval !== "object") {
      this.current = null;
      this.el.hidden = true;
      if (had) this.host.restoreFocus();
      return;
    }
    const fresh = !this.current || this.current.id !== approval.id;
    this.current = approval;
    this.name.textContent = String(approval.name || "a tool");
    this.input.textContent = String(approval.input ?? "");
    this.alwaysText.textContent = `Always allow ${approval.name || "this tool"} in this chat`;
    if (fresh) this.always.checked = false;
    this.el.hidden = false;
    // Bring keyboard users to the question, without pressing a button for them and without
    // taking the focus from elsewhere in the notebook.
    if (fresh && this.host.hasFocus()) this.el.focus();
  }

  /** @param {boolean} allow */
  answer(allow) {
    const current = this.current;
    if (!current || this.answered === current.id) return;
    this.answered = current.id;
    this.host.send({
      type: FROM_VIEW.APPROVE,
      id: current.id,
      allow,
      always: allow && this.always.checked,
    });
  }
}

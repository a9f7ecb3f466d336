// Tiny DOM helpers: every node the widget makes itself goes through `h`, so no string of ours
// (or of the model's) is ever parsed as HTML here. Markdown HTML comes only from markdown.js.

/**
 * Create an element.
 * @param {string} tag
 * @param {Record<string, string | boolean | number | null | undefined | EventListener>} [attrs]
 *   `class`, `text` (textContent), `on<event>` listeners, booleans toggle attributes
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") el.textContent = String(value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    } else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

/**
 * An image thumbnail we made ourselves (Python sends `data:image/...` only; anything else is
 * shown as its label).
 * @param {{src?: string, width?: number, height?: number, label?: string}} block
 * @returns {HTMLElement}
 */
export function thumbnail(block) {
  const size = block.width && block.height ? ` ${block.width}×${block.height}` : "";
  const alt = block.label || `Image${size}`;
  if (typeof block.src !== "string" || !block.src.startsWith("data:image/")) {
    return h("span", { class: "nbc-other", text: alt });
  }
  const img = /** @type {HTMLImageElement} */ (
    h("img", { class: "nbc-thumb", alt, title: alt, loading: "lazy", decoding: "async" })
  );
  img.src = block.src;
  return img;
}

/**
 * Copy text to the clipboard; resolves to whether it worked.
 * @param {string} text
 * @returns {Promise<boolean>}
 */
export async function copyText(text) {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the old way (insecure origins, denied permission)
  }
  const area = h("textarea", { "aria-hidden": "true", style: "position:fixed;opacity:0" });
  /** @type {HTMLTextAreaElement} */ (area).value = text;
  document.body.append(area);
  /** @type {HTMLTextAreaElement} */ (area).select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/**
 * A copy button that shows "Copied" for a moment.
 * @param {string} label accessible name, e.g. "Copy message"
 * @param {() => string} getText
 * @returns {HTMLElement}
 */
export function copyButton(label, getText) {
  const button = h("button", {
    type: "button",
    class: "nbc-copy",
    "aria-label": label,
    title: label,
    text: "Copy",
  });
  button.addEventListener("click", async () => {
    const ok = await copyText(getText());
    button.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => {
      button.textContent = "Copy";
    }, 1500);
  });
  return button;
}

/**
 * Format a number of tokens with thousands separators.
 * @param {number | undefined | null} n
 */
export function formatCount(n) {
  return Number(n || 0).toLocaleString("en-US");
}

/**
 * A count with its noun, singular for exactly one: "1 token", "2,048 tokens", "0 tools".
 * @param {number | undefined | null} n
 * @param {string} one  the noun for one
 * @param {string} [many]  the noun for any other count (default: `one` + "s")
 */
export function countOf(n, one, many = `${one}s`) {
  const count = Number(n || 0);
  return `${formatCount(count)} ${count === 1 ? one : many}`;
}

/**
 * Format a cost in USD as plain decimals (never scientific notation), the rule of nbclaude's
 * Python formatter: cents from one cent up, else two significant digits.
 * `0` -> "$0.00", `4.6e-5` -> "$0.000046", `0.0046` -> "$0.0046", `1.2449` -> "$1.24",
 * `1234.5` -> "$1,234.50";
 * `null` (unknown price) -> "cost unknown".
 * @param {number | null | undefined} cost
 */
export function formatCost(cost) {
  if (cost === null || cost === undefined || Number.isNaN(cost)) return "cost unknown";
  if (cost === 0) return "$0.00";
  const size = Math.abs(cost);
  if (size >= 0.01) {
    const cents = size.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return `${cost < 0 ? "-" : ""}$${cents}`;
  }
  const decimals = Math.min(20, -Math.floor(Math.log10(size)) + 1);
  let text = size.toFixed(decimals).replace(/0+$/, "");
  if (text.split(".")[1].length < 2) text = size.toFixed(2);
  return `${cost < 0 ? "-" : ""}$${text}`;
}

// The saved copy of the conversation: an HTML output that Python displays beside the widget, so
// that the notebook file keeps the chat readable without a kernel (nbclaude/_widget/saved.py).
// While a view shows the live widget, that copy is hidden, so the page never shows the chat
// twice: a CSS rule per widget, added while at least one of its views is open.

/** @type {Map<string, {style: HTMLStyleElement, views: number}>} */
const hidden = new Map();

/**
 * The CSS that hides the saved copies of one widget: the copy itself, and in JupyterLab and
 * Notebook 7 the whole output around it (so no empty output row is left).
 * @param {string} id  the widget's `saved_id`
 */
export function hidingRules(id) {
  const copy = `.nbc-saved[data-nbc-for="${id}"]`;
  return `${copy} { display: none !important; }\n.jp-OutputArea-child:has(${copy}) { display: none !important; }\n`;
}

/**
 * Hide the saved copies of the widget `id` while the returned function is not called.
 * @param {string} id  the widget's `saved_id` (32 hex digits; anything else hides nothing)
 * @returns {() => void}  shows them again once every view that hid them is gone
 */
export function hideSavedCopies(id) {
  if (typeof id !== "string" || !/^[0-9a-f]{32}$/.test(id)) return () => {};
  let entry = hidden.get(id);
  if (!entry) {
    const style = document.createElement("style");
    style.dataset.nbcHides = id;
    style.textContent = hidingRules(id);
    document.head.append(style);
    entry = { style, views: 0 };
    hidden.set(id, entry);
  }
  entry.views += 1;
  let done = false;
  return () => {
    const current = hidden.get(id);
    if (done || !current) return;
    done = true;
    current.views -= 1;
    if (current.views <= 0) {
      current.style.remove();
      hidden.delete(id);
    }
  };
}

// Typed DOM look-ups for the tests. Each one fails with the selector when nothing (or the wrong
// kind of element) matches, so a missing element reads as a clear test failure rather than
// "cannot read properties of null" a few lines later.

/**
 * @overload
 * @param {ParentNode} root
 * @param {string} selector
 * @returns {HTMLElement}
 */
/**
 * @template {Element} T
 * @overload
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new (...args: never[]) => T} type  e.g. HTMLInputElement, SVGElement
 * @returns {T}
 */
/**
 * The first element under `root` that matches `selector`, checked to be a `type`.
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new (...args: never[]) => Element} [type]
 * @returns {Element}
 */
export function one(root, selector, type = HTMLElement) {
  const found = root.querySelector(selector);
  if (!(found instanceof type)) {
    throw new Error(found ? `${selector} is not a ${type.name}` : `nothing matches ${selector}`);
  }
  return found;
}

/**
 * @overload
 * @param {ParentNode} root
 * @param {string} selector
 * @returns {HTMLElement[]}
 */
/**
 * @template {Element} T
 * @overload
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new (...args: never[]) => T} type
 * @returns {T[]}
 */
/**
 * Every element under `root` that matches `selector` (maybe none), each checked to be a `type`.
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new (...args: never[]) => Element} [type]
 * @returns {Element[]}
 */
export function all(root, selector, type = HTMLElement) {
  const found = [...root.querySelectorAll(selector)];
  const wrong = found.findIndex((node) => !(node instanceof type));
  if (wrong >= 0) throw new Error(`${selector} matched a ${found[wrong].localName}, not a ${type.name}`);
  return found;
}

/**
 * The button whose accessible name (aria-label, else its text) is `name`.
 * @param {ParentNode} root
 * @param {string} name
 * @returns {HTMLButtonElement}
 */
export function button(root, name) {
  const found = [...root.querySelectorAll("button")].find(
    (b) => (b.getAttribute("aria-label") || b.textContent.trim()) === name,
  );
  if (!found) throw new Error(`no button named ${name}`);
  return found;
}

/**
 * Wait until the live reply has painted what just arrived (its adaptive timer can take longer
 * than usual on a busy machine), or two seconds.
 * @returns {Promise<void>}
 */
export function painted() {
  return new Promise((resolve) => {
    const done = () => {
      document.removeEventListener("nbc-painted", done);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(done, 2000);
    document.addEventListener("nbc-painted", done);
  });
}

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { checkFile } from "../composer.js";
import { countOf, formatCost } from "../dom.js";
import widget from "../widget.js";
import { FROM_VIEW, MAX_UPLOAD_BYTES, TO_VIEW } from "../protocol.js";
import { RICH_TAIL } from "../transcript.js";
import { FakeModel } from "./fake-model.js";
import { all, button as findButton, one, painted } from "./query.js";

/** @typedef {import("../protocol.js").Entry} Entry */

/** @type {HTMLElement} */
let el;
/** @type {FakeModel} */
let model;
/** @type {() => void} */
let cleanup;

/** @param {Partial<import("../protocol.js").Traits>} [state] */
function mount(state = {}) {
  model = new FakeModel(state);
  el = document.createElement("div");
  document.body.append(el);
  cleanup = widget.render({ model, el });
}

/** @param {string} label */
const byLabel = (label) => one(el, `[aria-label="${label}"]`);
/** @param {string} name */
const button = (name) => findButton(el, name);
const textbox = () => one(el, '[aria-label="Message Claude"]', HTMLTextAreaElement);
/** @param {string} selector */
const $ = (selector) => one(el, selector);
/**
 * @template {import("../protocol.js").FromViewMsg["type"]} K
 * @param {K} type
 */
const sent = (type) => model.sentOf(type);
/** @param {EventTarget} target @param {string} k @param {KeyboardEventInit} [opts] */
const key = (target, k, opts = {}) =>
  target.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true, ...opts }));
const image = (name = "cat.png", type = "image/png", size = 4) =>
  new File([new Uint8Array(size).fill(7)], name, { type });
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
/** Wait until the view has read a file and sent it (file reading is asynchronous). @param {number} [before] */
const attachSent = (before = 0) =>
  vi.waitFor(() => expect(sent(FROM_VIEW.ATTACH).length).toBeGreaterThan(before), { timeout: 3000 });

beforeEach(() => mount());
afterEach(() => {
  cleanup();
  el.remove();
  vi.useRealTimers();
});

describe("composer", () => {
  it("has the accessible controls", () => {
    expect(textbox().tagName).toBe("TEXTAREA");
    expect(button("Send")).toBeTruthy();
    expect(button("Attach image")).toBeTruthy();
    expect(button("Stop").hidden).toBe(true);
    expect(el.querySelector('[role="log"]')).not.toBeNull();
  });

  it("Enter sends and clears the box", () => {
    textbox().value = "Hello *there*";
    key(textbox(), "Enter");
    expect(sent(FROM_VIEW.SEND)).toEqual([
      { content: { type: "send", text: "Hello *there*", attachments: [] }, buffers: undefined },
    ]);
    expect(textbox().value).toBe("");
  });

  it("Shift+Enter adds a new line at the cursor and does not send", () => {
    textbox().value = "line one";
    textbox().setSelectionRange(8, 8);
    key(textbox(), "Enter", { shiftKey: true });
    textbox().setRangeText("line two", 9, 9, "end");
    expect(sent(FROM_VIEW.SEND)).toEqual([]);
    expect(textbox().value).toBe("line one\nline two");
  });

  it("does not send empty text or while composing with an IME", () => {
    textbox().value = "   ";
    key(textbox(), "Enter");
    textbox().value = "日本";
    key(textbox(), "Enter", { isComposing: true });
    expect(sent(FROM_VIEW.SEND)).toEqual([]);
  });

  it("the Send button sends", () => {
    textbox().value = "hi";
    button("Send").click();
    expect(sent(FROM_VIEW.SEND)).toHaveLength(1);
  });

  it("shows Stop instead of Send while a reply streams", () => {
    model.update("busy", true);
    expect(button("Stop").hidden).toBe(false);
    expect(button("Send").hidden).toBe(true);
    button("Stop").click();
    key(textbox(), "Escape");
    expect(sent(FROM_VIEW.STOP)).toHaveLength(2);
    textbox().value = "not now";
    key(textbox(), "Enter");
    expect(sent(FROM_VIEW.SEND)).toEqual([]);
    expect(textbox().value).toBe("not now");
    expect($('[role="status"]').textContent).toMatch(/Stop/);
    model.update("busy", false);
    expect(button("Stop").hidden).toBe(true);
    expect(button("Send").hidden).toBe(false);
  });

  it("puts a refused draft back", () => {
    model.message({ type: TO_VIEW.DRAFT, text: "my question" });
    expect(textbox().value).toBe("my question");
  });
});

describe("shortcuts", () => {
  it("Ctrl/Cmd+S in the box goes to the notebook; editing keys stay in the box", () => {
    /** @type {KeyboardEvent[]} */
    const host = [];
    el.addEventListener("keydown", (e) => {
      if (e.target === el) {
        host.push(e);
        if (e.key === "s") e.preventDefault(); // JupyterLab saves, and says so
      }
    });
    const save = new KeyboardEvent("keydown", { key: "s", code: "KeyS", ctrlKey: true, bubbles: true, cancelable: true });
    textbox().dispatchEvent(save);
    expect(host.map((e) => [e.key, e.ctrlKey, e.code])).toEqual([["s", true, "KeyS"]]);
    expect(save.defaultPrevented).toBe(true); // no "Save page as" from the browser
    const cmd = new KeyboardEvent("keydown", { key: "s", metaKey: true, bubbles: true, cancelable: true });
    textbox().dispatchEvent(cmd);
    expect(host).toHaveLength(2);
    // keys the box needs: copy, paste, select all, undo, line ends, Ctrl+Enter
    for (const k of ["c", "v", "a", "z", "x", "ArrowLeft", "Home", "Enter", "Backspace"]) {
      key(textbox(), k, { ctrlKey: true });
      key(textbox(), k, { metaKey: true });
    }
    // plain typing never leaves the box (it would be notebook commands: "a", "d d", ...)
    for (const k of ["a", "d", "s", "Enter"]) key(textbox(), k);
    key(textbox(), "Enter", { shiftKey: true });
    expect(host).toHaveLength(2);
    // a shortcut the host does not take keeps the browser's own action
    const print = new KeyboardEvent("keydown", { key: "p", ctrlKey: true, bubbles: true, cancelable: true });
    textbox().dispatchEvent(print);
    expect(host).toHaveLength(3);
    expect(print.defaultPrevented).toBe(false);
  });
});

describe("attachments", () => {
  it("the file picker attaches images as binary buffers", async () => {
    const input = /** @type {HTMLInputElement} */ (el.querySelector('input[type="file"]'));
    let clicked = false;
    input.addEventListener("click", (e) => {
      clicked = true;
      e.preventDefault();
    });
    button("Attach image").click();
    expect(clicked).toBe(true);
    Object.defineProperty(input, "files", { value: [image("a.png")], configurable: true });
    input.dispatchEvent(new Event("change"));
    await attachSent();
    const [msg] = sent(FROM_VIEW.ATTACH);
    expect(msg.content).toMatchObject({ type: "attach", name: "a.png", media_type: "image/png" });
    expect(msg.buffers).toHaveLength(1);
    const [data] = msg.buffers ?? [];
    expect(data.byteLength).toBe(4);
    expect(new Uint8Array(data)[0]).toBe(7);
    expect(el.querySelectorAll(".nbc-pending li")).toHaveLength(1);
    // sending includes the attachment id and empties the tray
    textbox().value = "what is this?";
    key(textbox(), "Enter");
    expect(sent(FROM_VIEW.SEND)[0].content.attachments).toEqual([msg.content.id]);
    expect($(".nbc-pending").hidden).toBe(true);
  });

  it("an image alone can be sent", async () => {
    const composer = await attach(image());
    button("Send").click();
    expect(sent(FROM_VIEW.SEND)[0].content).toMatchObject({ text: "", attachments: [composer] });
  });

  it("pending thumbnails can be removed", async () => {
    const id = await attach(image("x.png"));
    button("Remove x.png").click();
    expect(sent(FROM_VIEW.DETACH)).toEqual([{ content: { type: "detach", id }, buffers: undefined }]);
    expect(el.querySelectorAll(".nbc-pending li")).toHaveLength(0);
  });

  it("refuses non-images and oversized files with a clear message", async () => {
    const input = $('input[type="file"]');
    Object.defineProperty(input, "files", { value: [new File(["x"], "notes.txt", { type: "text/plain" })] });
    input.dispatchEvent(new Event("change"));
    await tick();
    expect($('[role="status"]').textContent).toMatch(/notes\.txt is not an image/);
    const big = image("huge.png", "image/png", 1);
    Object.defineProperty(big, "size", { value: MAX_UPLOAD_BYTES + 1 });
    const comp = el.querySelector(".nbc-root");
    expect(comp).not.toBeNull();
    await attachRaw(big);
    expect($('[role="status"]').textContent).toMatch(/huge\.png is too large/);
    expect(sent(FROM_VIEW.ATTACH)).toEqual([]);
  });

  it("Python's refusal removes the thumbnail and says why", async () => {
    const id = await attach(image("fake.png"));
    model.message({ type: TO_VIEW.ATTACHED, id, ok: false, error: "fake.png is not a readable image." });
    expect(el.querySelectorAll(".nbc-pending li")).toHaveLength(0);
    expect($('[role="status"]').textContent).toBe("fake.png is not a readable image.");
  });

  it("paste attaches images", async () => {
    const paste = new Event("paste", { bubbles: true, cancelable: true });
    Object.defineProperty(paste, "clipboardData", { value: { files: [image("pasted.png")] } });
    textbox().dispatchEvent(paste);
    expect(paste.defaultPrevented).toBe(true);
    await attachSent();
    expect(sent(FROM_VIEW.ATTACH)[0].content.name).toBe("pasted.png");
  });

  it("paste of plain text is left alone", () => {
    const paste = new Event("paste", { bubbles: true, cancelable: true });
    Object.defineProperty(paste, "clipboardData", { value: { files: [] } });
    textbox().dispatchEvent(paste);
    expect(paste.defaultPrevented).toBe(false);
  });

  it("drag and drop attaches images", async () => {
    const root = $(".nbc-root");
    const over = new Event("dragover", { bubbles: true, cancelable: true });
    Object.defineProperty(over, "dataTransfer", { value: { types: ["Files"] } });
    root.dispatchEvent(over);
    expect(over.defaultPrevented).toBe(true);
    const drop = new Event("drop", { bubbles: true, cancelable: true });
    Object.defineProperty(drop, "dataTransfer", { value: { files: [image("dropped.jpg", "image/jpeg")] } });
    root.dispatchEvent(drop);
    expect(drop.defaultPrevented).toBe(true);
    await attachSent();
    expect(sent(FROM_VIEW.ATTACH)[0].content).toMatchObject({ name: "dropped.jpg", media_type: "image/jpeg" });
  });
});

/** @param {File} file */
async function attachRaw(file) {
  const before = sent(FROM_VIEW.ATTACH).length;
  const drop = new Event("drop", { bubbles: true, cancelable: true });
  Object.defineProperty(drop, "dataTransfer", { value: { files: [file] } });
  $(".nbc-root").dispatchEvent(drop);
  if (checkFile(file) === null) await attachSent(before);
  else await tick();
}

/** @param {File} file */
async function attach(file) {
  await attachRaw(file);
  const msgs = sent(FROM_VIEW.ATTACH);
  const id = msgs[msgs.length - 1].content.id;
  model.message({ type: TO_VIEW.ATTACHED, id, ok: true });
  return id;
}

const ANSWER = "Here:\n\n```python\nprint(1)\n```\n\n$x^2$";
/** @type {Entry[]} */
const ENTRIES = [
  { role: "user", blocks: [{ type: "text", text: "Plot <b>this</b>" }, { type: "image", src: "data:image/png;base64,iVBORw0KGgo=", width: 4, height: 3 }] },
  {
    role: "assistant",
    blocks: [{ type: "text", text: ANSWER }],
    meta: { model: "claude-haiku-4-5", output_tokens: 12, stop_reason: "end_turn" },
  },
];

describe("transcript", () => {
  it("renders history from the transcript trait", () => {
    model.entries(ENTRIES);
    const log = $('[role="log"]');
    const msgs = log.querySelectorAll("article");
    expect(msgs).toHaveLength(2);
    // user text is shown as typed (not as HTML), with our own data: thumbnail
    expect(one(msgs[0], ".nbc-user-text").textContent).toBe("Plot <b>this</b>");
    expect(msgs[0].querySelector("b")).toBeNull();
    expect(one(msgs[0], "img.nbc-thumb").getAttribute("src")).toMatch(/^data:image\/png/);
    expect(one(msgs[0], "img.nbc-thumb").getAttribute("alt")).toBe("Image 4×3");
    // assistant Markdown: code highlighted with a copy button; math; meta line
    expect(msgs[1].querySelector(".nbc-code code.language-python")).not.toBeNull();
    expect(msgs[1].querySelector('.nbc-code [aria-label="Copy code"]')).not.toBeNull();
    // the language and Copy share a row of their own, above the code (never over its first line)
    const code = one(msgs[1], ".nbc-code");
    expect([...code.children].map((c) => c.className || c.tagName)).toEqual(["nbc-code-head", "PRE"]);
    const head = one(code, ".nbc-code-head");
    expect(one(head, ".nbc-code-lang").textContent).toBe("python");
    expect(head.querySelector('[aria-label="Copy code"]')).not.toBeNull();
    expect(msgs[1].querySelector(".katex")).not.toBeNull();
    expect(one(msgs[1], ".nbc-meta").textContent).toContain("claude-haiku-4-5");
    expect(msgs[1].querySelector('[aria-label="Copy message"]')).not.toBeNull();
  });

  it("says 1 token, not 1 tokens, in the meta line", () => {
    const meta = (/** @type {number} */ output_tokens) => {
      model.entries([{ role: "assistant", blocks: [{ type: "text", text: "ok" }], meta: { model: "m", output_tokens } }]);
      return $("article .nbc-meta").textContent;
    };
    expect(meta(1)).toBe("m · 1 token");
    expect(meta(2)).toBe("m · 2 tokens");
    expect(meta(1234)).toBe("m · 1,234 tokens");
    expect(meta(0)).toBe("m"); // nothing counted yet: no count shown
  });

  it("never shows a remote URL as a thumbnail", () => {
    model.entries([{ role: "user", blocks: [{ type: "image", src: "https://x.example/p.png" }] }]);
    expect(el.querySelector("img")).toBeNull();
  });

  it("reuses unchanged messages when the transcript grows", () => {
    model.entries(ENTRIES.slice(0, 1));
    const first = el.querySelector("article");
    model.entries(ENTRIES);
    expect(el.querySelector("article")).toBe(first);
    model.entries([]);
    expect(el.querySelectorAll("article")).toHaveLength(0);
    expect($(".nbc-empty").hidden).toBe(false);
  });

  it("a new view asks once for the whole transcript and says it is loading until it comes", () => {
    expect(sent(FROM_VIEW.SYNC).map((m) => m.content)).toEqual([{ type: "sync", transcript: true }]);
    expect($(".nbc-empty").textContent).toBe("Loading the conversation…");
    model.entries([]);
    expect($(".nbc-empty").textContent).toContain("No messages yet");
  });

  it("applies each change from its start, keeping the messages before it", () => {
    model.entries(ENTRIES);
    const [first, second] = all(el, "article");
    const reply = { role: /** @type {const} */ ("assistant"), blocks: [{ type: /** @type {const} */ ("text"), text: "More." }] };
    model.entries([reply], 2); // appended
    expect(all(el, "article")).toHaveLength(3);
    expect(all(el, "article")[0]).toBe(first);
    expect(all(el, "article")[1]).toBe(second);
    model.entries([], 1); // undo: the last two go
    expect(all(el, "article")).toEqual([first]);
    expect(sent(FROM_VIEW.SYNC)).toHaveLength(1);
  });

  it("another view's copy of the transcript it already holds costs nothing", () => {
    model.entries(ENTRIES);
    const [first] = all(el, "article");
    /** @type {unknown[]} */
    const renders = [];
    el.addEventListener("nbc-transcript", (e) => renders.push(e));
    model.message({ type: TO_VIEW.ENTRIES, seq: model.seq, start: 0, entries: ENTRIES });
    expect(renders).toEqual([]);
    expect(all(el, "article")[0]).toBe(first);
  });

  it("asks again when it missed a change, and waits for all of it", () => {
    model.entries(ENTRIES);
    model.seq += 1; // a change this view never got
    model.entries([{ role: "user", blocks: [{ type: "text", text: "lost" }] }], 2);
    expect(sent(FROM_VIEW.SYNC)).toHaveLength(2);
    expect(sent(FROM_VIEW.SYNC)[1].content).toEqual({ type: "sync", transcript: true });
    expect(all(el, "article")).toHaveLength(2); // the broken change was not applied
    model.entries([{ role: "user", blocks: [{ type: "text", text: "later" }] }], 2);
    expect(all(el, "article")).toHaveLength(2); // nor anything before all of it came again
    model.entries([...ENTRIES, { role: "user", blocks: [{ type: "text", text: "now" }] }]);
    expect(all(el, "article")).toHaveLength(3);
  });

  it("opens a long chat fast: older messages show as plain text until they scroll near", () => {
    /** @type {{notify: (seen: {target: Element, isIntersecting: boolean}[]) => void}} */
    const io = { notify: () => {} };
    /** @type {Element[]} */
    const observed = [];
    class FakeObserver {
      /** @param {(seen: {target: Element, isIntersecting: boolean}[]) => void} cb */
      constructor(cb) {
        io.notify = cb;
      }
      /** @param {Element} node */
      observe(node) {
        observed.push(node);
      }
      unobserve() {}
      disconnect() {}
    }
    vi.stubGlobal("IntersectionObserver", FakeObserver);
    try {
      cleanup();
      el.remove();
      mount();
      /** @type {Entry[]} */
      const long = [];
      for (let i = 0; i < 100; i++) {
        long.push({ role: "user", blocks: [{ type: "text", text: `Question ${i}` }] });
        long.push({ role: "assistant", blocks: [{ type: "text", text: `Answer **${i}**: $x^${i}$` }] });
      }
      model.entries(long);
      const articles = all(el, "article");
      expect(articles).toHaveLength(200);
      const standIns = all(el, "article.nbc-stand-in");
      expect(standIns).toHaveLength(200 - RICH_TAIL);
      expect(observed).toHaveLength(200 - RICH_TAIL);
      // the stand-ins hold the text (find in page and Copy work), rendered nothing yet
      expect(standIns[1].textContent).toContain("Answer **0**: $x^0$");
      expect(standIns[1].querySelector(".katex, strong")).toBeNull();
      expect(articles[199].querySelector(".katex")).not.toBeNull();
      // scrolled near: rendered in full, in place
      io.notify([{ target: standIns[1], isIntersecting: true }]);
      const upgraded = all(el, "article")[1];
      expect(upgraded.classList.contains("nbc-stand-in")).toBe(false);
      expect(one(upgraded, "strong").textContent).toBe("0");
      expect(all(el, "article.nbc-stand-in")).toHaveLength(200 - RICH_TAIL - 1);
      // printing renders every one of them
      window.dispatchEvent(new Event("beforeprint"));
      expect(all(el, "article.nbc-stand-in")).toHaveLength(0);
      expect(all(el, "article .katex")).toHaveLength(100);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("marks an interrupted reply", () => {
    model.entries([{ role: "assistant", blocks: [{ type: "text", text: "partial" }], meta: { interrupted: true } }]);
    expect($(".nbc-tag").textContent).toBe("stopped");
  });

  it("copies a message", async () => {
    /** @type {string[]} */
    const writes = [];
    Object.defineProperty(navigator, "clipboard", { value: { writeText: async (/** @type {string} */ t) => writes.push(t) }, configurable: true });
    model.entries(ENTRIES);
    all(el, '[aria-label="Copy message"]')[1].click();
    $('[aria-label="Copy code"]').click();
    await tick();
    expect(writes).toEqual([ANSWER, "print(1)\n"]);
  });
});

describe("streaming", () => {
  it("shows deltas live and drops the live bubble at the end", async () => {
    model.update("busy", true);
    model.message({ type: TO_VIEW.TURN_START, index: 0, model: "claude-haiku-4-5", prefill: null });
    model.message({ type: TO_VIEW.DELTA, text: "Hello " });
    model.message({ type: TO_VIEW.DELTA, text: "**world**" });
    await painted();
    const live = $(".nbc-live");
    expect(live.getAttribute("aria-busy")).toBe("true");
    expect(one(live, "strong").textContent).toBe("world");
    model.message({ type: TO_VIEW.DELTA, thinking: "hmm" });
    await painted();
    expect(one(live, ".nbc-thinking").hidden).toBe(false);
    model.entries([{ role: "assistant", blocks: [{ type: "text", text: "Hello **world**" }] }]);
    model.message({ type: TO_VIEW.TURN_END, interrupted: false });
    model.update("busy", false);
    expect(el.querySelector(".nbc-live")).toBeNull();
    expect(el.querySelectorAll("article")).toHaveLength(1);
  });

  it("renders at most every 50 ms however many deltas arrive", async () => {
    vi.useFakeTimers();
    model.message({ type: TO_VIEW.TURN_START, index: 0, model: "m", prefill: null });
    const live = $(".nbc-live .nbc-msg-body > .nbc-md");
    let paints = 0;
    el.addEventListener("nbc-painted", () => paints++);
    for (let i = 0; i < 500; i++) model.message({ type: TO_VIEW.DELTA, text: "word " });
    vi.advanceTimersByTime(60);
    expect(paints).toBe(1);
    expect(live.textContent.trim().split(" ")).toHaveLength(500);
  });

  it("a failed reply keeps what streamed, marked with the error, and its question", async () => {
    model.entries([ENTRIES[0]]);
    model.update("busy", true);
    model.message({ type: TO_VIEW.TURN_START, index: 0, model: "m", prefill: null });
    model.message({ type: TO_VIEW.DELTA, text: "One **two** three" });
    await painted();
    model.message({ type: TO_VIEW.TURN_END, interrupted: true, error: "stream error: overloaded" });
    model.entries([]); // the session rolled the turn back
    model.update("busy", false);
    model.message({ type: TO_VIEW.DRAFT, text: "Plot <b>this</b>" });
    const failed = $(".nbc-failed");
    expect(one(failed, "strong").textContent).toBe("two");
    expect(failed.textContent).toContain("stream error: overloaded");
    expect(one(failed, ".nbc-tag").textContent).toBe("failed");
    expect(el.querySelector(".nbc-live")).toBeNull();
    expect($(".nbc-failed-question").textContent).toContain("Plot <b>this</b>");
    expect(textbox().value).toBe("Plot <b>this</b>"); // and the text is back in the box
    expect($(".nbc-empty").hidden).toBe(true);
    // the next turn starts afresh
    model.message({ type: TO_VIEW.TURN_START, index: 0, model: "m", prefill: null });
    expect(el.querySelector(".nbc-failed, .nbc-failed-question")).toBeNull();
  });

  it("a failed reply with nothing streamed leaves nothing behind", () => {
    model.message({ type: TO_VIEW.TURN_START, index: 0, model: "m", prefill: null });
    model.message({ type: TO_VIEW.TURN_END, interrupted: true, error: "529 overloaded_error: Overloaded" });
    expect(el.querySelector(".nbc-failed, .nbc-live")).toBeNull();
  });

  it("a view opened while a tool call waits shows no empty reply bubble", () => {
    model.message({ type: TO_VIEW.LIVE, index: 0, model: "m", prefill: null, text: "", thinking: "", step: true });
    expect($(".nbc-live").hidden).toBe(true);
    model.message({ type: TO_VIEW.DELTA, text: "It is sunny." });
    expect($(".nbc-live").hidden).toBe(false);
  });

  it("a view opened mid-reply asks for the live text and shows it", async () => {
    cleanup();
    el.remove();
    mount({ busy: true });
    expect(sent(FROM_VIEW.SYNC)).toHaveLength(1);
    model.message({ type: TO_VIEW.LIVE, index: 2, model: "m", prefill: "{", text: '"a": 1', thinking: "" });
    await painted();
    expect($(".nbc-live").textContent).toContain('{"a": 1');
  });
});

describe("toolbar, settings, banner", () => {
  it("shows usage and cost", () => {
    model.update("usage", { input_tokens: 1200, output_tokens: 34, cache_read_input_tokens: 10 });
    model.update("cost", 0.01234);
    expect(byLabel("Usage and cost").textContent).toBe("1,210 in · 34 out · $0.01");
    model.update("cost", null);
    expect(byLabel("Usage and cost").textContent).toContain("cost unknown");
  });

  it("Clear and Undo send commands and are disabled while busy", () => {
    button("Clear").click();
    button("Clear it").click();
    button("Undo").click();
    expect(model.sent.map((m) => m.content.type)).toEqual(["sync", "clear", "undo"]);
    model.update("busy", true);
    expect(button("Clear").disabled).toBe(true);
  });

  it("Clear asks first, with the focus on keeping the conversation", () => {
    button("Clear").click();
    const question = $('[role="alertdialog"]');
    expect(question.hidden).toBe(false);
    expect(question.textContent).toContain("%%claude cells share it");
    expect(document.activeElement).toBe(button("Keep the conversation"));
    expect(sent(FROM_VIEW.CLEAR)).toEqual([]);
    // Escape keeps it, and the focus goes back to Clear
    key(document.activeElement || question, "Escape");
    expect(question.hidden).toBe(true);
    expect(document.activeElement).toBe(button("Clear"));
    expect(sent(FROM_VIEW.CLEAR)).toEqual([]);
    // keyboard only: Enter on the focused safe answer keeps it too
    button("Clear").click();
    button("Keep the conversation").click();
    expect(question.hidden).toBe(true);
    expect(sent(FROM_VIEW.CLEAR)).toEqual([]);
    button("Clear").click();
    button("Clear it").click();
    expect(sent(FROM_VIEW.CLEAR)).toHaveLength(1);
    expect(question.hidden).toBe(true);
  });

  it("a widget on its own session asks without mentioning %%claude, and its hint tells the truth", () => {
    cleanup();
    el.remove();
    mount({ shared: false });
    model.entries([]);
    expect($(".nbc-empty").textContent).not.toContain("shows up here too");
    expect($(".nbc-empty").textContent).toContain("session of its own");
    button("Clear").click();
    expect($('[role="alertdialog"]').textContent).toBe("Clear the whole conversation?Keep the conversationClear it");
  });

  it("settings write the traits", () => {
    button("Settings").click();
    const panel = $('[role="group"][aria-label="Settings"]');
    expect(panel.hidden).toBe(false);
    expect(button("Settings").getAttribute("aria-expanded")).toBe("true");
    model.update("models", [{ id: "claude-haiku-4-5" }, { id: "claude-sonnet-5-5", display_name: "Claude Sonnet 5.5" }]);
    const select = one(panel, "select", HTMLSelectElement);
    expect([...select.options].map((o) => o.value)).toEqual(["claude-haiku-4-5", "claude-sonnet-5-5"]);
    select.value = "claude-sonnet-5-5";
    select.dispatchEvent(new Event("change"));
    expect(model.get("model")).toBe("claude-sonnet-5-5");
    const [system, maxTokens] = [one(panel, "textarea", HTMLTextAreaElement), one(panel, "input", HTMLInputElement)];
    system.value = "Be brief.";
    system.dispatchEvent(new Event("change"));
    maxTokens.value = "256";
    maxTokens.dispatchEvent(new Event("change"));
    expect(model.get("system")).toBe("Be brief.");
    expect(model.get("max_tokens")).toBe(256);
    maxTokens.value = "-3";
    maxTokens.dispatchEvent(new Event("change"));
    expect(model.get("max_tokens")).toBe(256);
    expect(model.saved).toBe(3);
  });

  it("an unknown current model still shows in the list", () => {
    model.update("model", "claude-custom-1");
    expect(all(el, "select option", HTMLOptionElement).map((o) => o.value)).toContain("claude-custom-1");
  });

  it("Dismiss keeps the text a failed turn gave back; Retry takes it out (Retry sends it)", () => {
    model.update("error", { message: "529 overloaded_error: Overloaded", retry: true });
    model.message({ type: TO_VIEW.DRAFT, text: "Are you there?" });
    expect(textbox().value).toBe("Are you there?");
    button("Dismiss error").click();
    expect(textbox().value).toBe("Are you there?");
    model.update("error", { message: "529 overloaded_error: Overloaded", retry: true });
    button("Retry").click();
    expect(textbox().value).toBe("");
    // text typed after it came back is the user's: Retry leaves it
    model.message({ type: TO_VIEW.DRAFT, text: "Are you there?" });
    textbox().value = "Are you there? Hello?";
    button("Retry").click();
    expect(textbox().value).toBe("Are you there? Hello?");
  });

  it("errors show as a banner with Retry", () => {
    expect($('[role="alert"]').hidden).toBe(true);
    model.update("error", { message: "429 rate_limit_error: slow down", hint: "Wait a moment.", request_id: "req_1", retry: true });
    const alert = $('[role="alert"]');
    expect(alert.hidden).toBe(false);
    expect(alert.textContent).toContain("slow down");
    expect(alert.textContent).toContain("Wait a moment.");
    expect(alert.textContent).toContain("req_1");
    button("Retry").click();
    button("Dismiss error").click();
    expect(model.sent.map((m) => m.content.type)).toEqual(["sync", "retry", "dismiss"]);
    model.update("error", { message: "No API key", retry: false });
    expect(button("Retry").hidden).toBe(true);
    expect(one(alert, ".nbc-banner-text").textContent).toBe("No API key");
  });
});

it("cleanup removes the view and its listeners", () => {
  const before = model.listenerCount();
  expect(before).toBeGreaterThan(0);
  cleanup();
  expect(model.listenerCount()).toBe(0);
  expect(el.querySelector(".nbc-root")).toBeNull();
  cleanup = () => {};
});

describe("the saved copy", () => {
  const id = "0123456789abcdef0123456789abcdef";
  const rules = () => all(document, `style[data-nbc-hides="${id}"]`);

  it("is hidden while a view shows the live chat, and shown again when the last view goes", () => {
    cleanup();
    el.remove();
    const copy = document.createElement("div");
    copy.className = "nbc-saved";
    copy.dataset.nbcFor = id;
    document.body.append(copy);
    mount({ saved_id: id });
    const first = cleanup;
    expect(rules()).toHaveLength(1);
    expect(getComputedStyle(copy).display).toBe("none");
    mount({ saved_id: id }); // a second view of the same widget
    first();
    expect(rules()).toHaveLength(1);
    cleanup();
    expect(rules()).toHaveLength(0);
    expect(getComputedStyle(copy).display).not.toBe("none");
    copy.remove();
    mount();
  });

  it("hides nothing for an id that is not ours", () => {
    cleanup();
    el.remove();
    mount({ saved_id: '"] , * { x: "' });
    expect(all(document, "style[data-nbc-hides]")).toHaveLength(0);
  });
});

describe("money", () => {
  it("is plain decimals, never scientific notation: the rule of the Python formatter", () => {
    expect(formatCost(0)).toBe("$0.00");
    expect(formatCost(4.6e-5)).toBe("$0.000046");
    expect(formatCost(0.0046)).toBe("$0.0046");
    expect(formatCost(1.2449)).toBe("$1.24");
    expect(formatCost(12.5)).toBe("$12.50");
    expect(formatCost(1234.5)).toBe("$1,234.50");
    expect(formatCost(0.0052)).toBe("$0.0052");
    expect(formatCost(0.00999)).toBe("$0.01");
    expect(formatCost(0.01)).toBe("$0.01");
    expect(formatCost(0.0099999)).toBe("$0.01");
    expect(formatCost(1e-9)).toBe("$0.000000001");
    expect(formatCost(null)).toBe("cost unknown");
    for (const x of [1e-7, 3.3e-6, 4.6e-5, 0.00012]) expect(formatCost(x)).not.toMatch(/e/);
  });

  it("shows spent of budget when the session has a budget", () => {
    model.update("cost", 0.0046);
    expect(byLabel("Usage and cost").textContent).toBe("0 in · 0 out · $0.0046");
    model.update("budget", 2);
    expect(byLabel("Usage and cost").textContent).toBe("0 in · 0 out · $0.0046 of $2.00 budget");
  });

  it("a stopped reply says its tokens are an estimate", () => {
    model.entries([
      { role: "assistant", blocks: [{ type: "text", text: "partial" }], meta: { model: "m", interrupted: true, output_tokens: 57, estimated: true } },
    ]);
    expect($("article .nbc-meta").textContent).toBe("m · ≈57 tokens (stopped)");
  });
});

describe("waiting for a retry", () => {
  it("counts down in the live reply, then text replaces it", () => {
    vi.useFakeTimers();
    model.message({ type: TO_VIEW.TURN_START, index: 0, model: "m", prefill: null });
    model.message({ type: TO_VIEW.RETRY_WAIT, status: 429, reason: "Rate limited", attempt: 2, attempts: 3, wait: 4 });
    const label = $(".nbc-live .nbc-typing");
    expect(label.textContent).toBe("Rate limited (429) — retrying in 4 s (attempt 2 of 3)…");
    expect(label.getAttribute("role")).toBe("status");
    vi.advanceTimersByTime(1100);
    expect(label.textContent).toBe("Rate limited (429) — retrying in 3 s (attempt 2 of 3)…");
    vi.advanceTimersByTime(3000);
    expect(label.textContent).toBe("Rate limited (429) — retrying now (attempt 2 of 3)…");
    model.message({ type: TO_VIEW.DELTA, text: "Hello" });
    expect(label.textContent).toBe("writing…");
  });

  it("names the status once when the session's reason already does", () => {
    vi.useFakeTimers();
    model.message({ type: TO_VIEW.TURN_START, index: 0, model: "m", prefill: null });
    model.message({ type: TO_VIEW.RETRY_WAIT, status: 529, reason: "Overloaded (529)", attempt: 2, attempts: 3, wait: 2 });
    expect($(".nbc-live .nbc-typing").textContent).toBe("Overloaded (529) — retrying in 2 s (attempt 2 of 3)…");
  });

  it("says so for a connection problem too, even before the reply started", () => {
    vi.useFakeTimers();
    model.message({ type: TO_VIEW.RETRY_WAIT, status: null, reason: "Connection problem", attempt: 3, attempts: 3, wait: 1.2 });
    expect($(".nbc-live .nbc-typing").textContent).toBe("Connection problem — retrying in 2 s (attempt 3 of 3)…");
  });
});

describe("counts", () => {
  it("are singular for exactly one, with thousands separators", () => {
    expect(countOf(1, "token")).toBe("1 token");
    expect(countOf(0, "tool")).toBe("0 tools");
    expect(countOf(null, "byte")).toBe("0 bytes");
    expect(countOf(2500, "token")).toBe("2,500 tokens");
    expect(countOf(1, "reply", "replies")).toBe("1 reply");
    expect(countOf(3, "reply", "replies")).toBe("3 replies");
  });
});

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import corpus from "../../tests/xss_corpus.json";
import { FROM_VIEW, TO_VIEW } from "../protocol.js";
import widget from "../widget.js";
import { FakeModel } from "./fake-model.js";
import { all, button as findButton, one, painted } from "./query.js";

/** @typedef {import("../protocol.js").Entry} Entry */
/** @typedef {import("../protocol.js").ToolStatus} ToolStatus */

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

/** @param {string} name */
const button = (name) => findButton(el, name);
/**
 * @template {import("../protocol.js").FromViewMsg["type"]} K
 * @param {K} type
 */
const sent = (type) => model.sentOf(type).map((m) => m.content);
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
const prompt = () => one(el, ".nbc-approval");

/**
 * A question and a reply with one tool call in the middle.
 * @param {Partial<import("../protocol.js").ToolBlock>} tool  changes to the call
 * @returns {Entry[]}
 */
function reply(tool) {
  return [
    { role: "user", blocks: [{ type: "text", text: "What is 1 + 2?" }] },
    {
      role: "assistant",
      blocks: [
        { type: "text", text: "Let me add." },
        { type: "tool", id: "toolu_1", name: "add", input: '{\n  "a": 1,\n  "b": 2\n}', status: "done", result: "3", ...tool },
        { type: "text", text: "It is **3**." },
      ],
    },
  ];
}

beforeEach(() => mount());
afterEach(() => {
  cleanup();
  el.remove();
});

describe("tool calls in the transcript", () => {
  it("are collapsed, keyboard reachable, with name, status, input and result", () => {
    model.entries(reply({}));
    const articles = el.querySelectorAll("article");
    expect(articles).toHaveLength(2);
    const tool = one(articles[1], "details.nbc-tool", HTMLDetailsElement);
    expect(tool.open).toBe(false);
    expect(one(tool, "summary").textContent).toBe("Tooladddone");
    expect(one(tool, ".nbc-tool-status").textContent).toBe("done");
    const [input, result] = tool.querySelectorAll("pre");
    expect(JSON.parse(input.textContent)).toEqual({ a: 1, b: 2 });
    expect(result.textContent).toBe("3");
    // the reply around it still renders as Markdown, in order
    const body = one(articles[1], ".nbc-msg-body");
    expect([...body.children].map((c) => c.className)).toEqual(["nbc-md", "nbc-tool", "nbc-md"]);
    expect(one(body, "strong").textContent).toBe("3");
  });

  it("shows every status; failed calls say so", () => {
    /** @type {ToolStatus[]} */
    const statuses = ["running", "failed", "declined", "not run"];
    for (const status of statuses) {
      model.entries(reply({ status, result: status === "running" ? undefined : "ValueError: x" }));
      const label = one(el, ".nbc-tool-status");
      expect(label.textContent).toBe(status);
      expect(label.className).toContain(`nbc-status-${status.replace(" ", "-")}`);
    }
    expect(el.querySelectorAll(".nbc-tool pre")).toHaveLength(2);
  });

  it("shows our own thumbnails from tool results, never remote images", () => {
    model.entries(
      reply({
        result: "see picture",
        images: [
          { type: "image", src: "data:image/png;base64,iVBORw0KGgo=", width: 60, height: 40 },
          { type: "image", src: "https://attacker.example/x.png" },
        ],
      }),
    );
    const imgs = el.querySelectorAll(".nbc-tool img");
    expect(imgs).toHaveLength(1);
    expect(imgs[0].getAttribute("src")).toMatch(/^data:image\/png/);
  });
});

describe("thinking", () => {
  it("is collapsed in history and while it streams", async () => {
    model.entries([{ role: "assistant", blocks: [{ type: "thinking", text: "Hmm *maybe*" }, { type: "text", text: "Yes." }] }]);
    const box = one(el, "article details.nbc-thinking", HTMLDetailsElement);
    expect(box.open).toBe(false);
    expect(one(box, "summary").textContent).toBe("Thinking");
    model.message({ type: TO_VIEW.TURN_START, index: 2, model: "m", prefill: null });
    model.message({ type: TO_VIEW.DELTA, thinking: "Let me see" });
    await painted();
    const live = one(el, ".nbc-live details.nbc-thinking", HTMLDetailsElement);
    expect(live.hidden).toBe(false);
    expect(live.open).toBe(false);
    expect(live.textContent).toContain("Let me see");
  });
});

describe("tool rounds while a reply streams", () => {
  it("STEP starts the live reply afresh (its text went into the transcript)", async () => {
    model.update("busy", true);
    model.message({ type: TO_VIEW.TURN_START, index: 0, model: "m", prefill: null });
    model.message({ type: TO_VIEW.DELTA, text: "Let me add.", thinking: "plan" });
    await painted();
    model.entries(reply({ status: "running", result: undefined }).slice(0, 2));
    model.message({ type: TO_VIEW.STEP });
    await painted();
    const live = one(el, ".nbc-live");
    expect(one(live, ".nbc-msg-body > .nbc-md").textContent).toBe("");
    expect(one(live, ".nbc-thinking").hidden).toBe(true);
    expect(live.hidden).toBe(true); // no empty "writing…" bubble while a tool runs
    model.message({ type: TO_VIEW.DELTA, text: "It is 3." });
    await painted();
    expect(live.hidden).toBe(false);
    expect(live.textContent).toContain("It is 3.");
    expect(live.textContent).not.toContain("Let me add.");
  });
});

describe("approval prompt", () => {
  const approval = { id: "toolu_1", name: "add", input: '{\n  "a": 1,\n  "b": 2\n}' };

  it("asks with Run tool / Deny tool and answers once", () => {
    expect(prompt().hidden).toBe(true);
    model.update("busy", true);
    model.entries(reply({ status: "running", result: undefined }).slice(0, 2));
    model.update("approval", approval);
    expect(prompt().hidden).toBe(false);
    expect(prompt().getAttribute("role")).toBe("group");
    expect(prompt().textContent).toContain("Claude wants to run add");
    expect(JSON.parse(one(prompt(), "pre").textContent)).toEqual({ a: 1, b: 2 });
    // the call it asks about says so in the transcript
    expect(one(el, "article .nbc-tool-status").textContent).toBe("waiting for you");
    button("Run tool").click();
    button("Run tool").click();
    button("Deny tool").click();
    expect(sent(FROM_VIEW.APPROVE)).toEqual([{ type: "approve", id: "toolu_1", allow: true, always: false }]);
    model.update("approval", null);
    expect(prompt().hidden).toBe(true);
    expect(one(el, "article .nbc-tool-status").textContent).toBe("running");
  });

  it("Deny tool, Escape and Always allow", () => {
    model.update("approval", approval);
    button("Deny tool").click();
    model.update("approval", { ...approval, id: "toolu_2" });
    prompt().dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true }));
    model.update("approval", { ...approval, id: "toolu_3" });
    const always = one(prompt(), 'input[type="checkbox"]', HTMLInputElement);
    expect(always.closest("label")?.textContent).toBe("Always allow add in this chat");
    always.click();
    button("Run tool").click();
    expect(sent(FROM_VIEW.APPROVE)).toEqual([
      { type: "approve", id: "toolu_1", allow: false, always: false },
      { type: "approve", id: "toolu_2", allow: false, always: false },
      { type: "approve", id: "toolu_3", allow: true, always: true },
    ]);
    // a new call starts with the box unticked
    model.update("approval", { ...approval, id: "toolu_4" });
    expect(one(prompt(), 'input[type="checkbox"]', HTMLInputElement).checked).toBe(false);
  });

  it("takes the focus only from inside the widget, and gives it back", () => {
    const outside = document.createElement("input");
    document.body.append(outside);
    outside.focus();
    model.update("approval", approval);
    expect(document.activeElement).toBe(outside);
    model.update("approval", null);
    one(el, '[aria-label="Message Claude"]').focus();
    model.update("approval", { ...approval, id: "toolu_2" });
    expect(document.activeElement).toBe(prompt());
    button("Run tool").focus();
    model.update("approval", null);
    expect(document.activeElement).toBe(el.querySelector('[aria-label="Message Claude"]'));
    outside.remove();
  });

  it("a view opened while a call waits shows the prompt", () => {
    cleanup();
    el.remove();
    mount({ busy: true, approval });
    expect(prompt().hidden).toBe(false);
  });
});

describe("tools switch", () => {
  const settings = () => one(el, '[role="group"][aria-label="Settings"]');
  const toggle = () => all(settings(), 'input[type="checkbox"]', HTMLInputElement)[0];
  const hint = () => one(document, `#${toggle().getAttribute("aria-describedby")}`);

  it("is disabled with a hint when the session has no tools", () => {
    button("Settings").click();
    expect(toggle().closest("label")?.textContent).toBe("Let Claude use tools");
    expect(toggle().disabled).toBe(true);
    expect(hint().textContent).toContain("add Python functions to session.tools");
    expect(one(el, ".nbc-tools-badge").hidden).toBe(true);
  });

  it("lists the tools and writes use_tools", () => {
    button("Settings").click();
    // the view asked for everything when it opened; opening settings re-reads session.tools only
    expect(sent(FROM_VIEW.SYNC)).toEqual([{ type: "sync", transcript: true }, { type: "sync" }]);
    model.update("tool_names", ["add", "get_weather"]);
    model.update("use_tools", true);
    expect(toggle().disabled).toBe(false);
    expect(toggle().checked).toBe(true);
    expect(hint().textContent).toContain("add, get_weather");
    const badge = one(el, ".nbc-tools-badge");
    expect(badge.hidden).toBe(false);
    expect(badge.textContent).toBe("2 tools");
    model.update("tool_names", ["add"]);
    expect(badge.textContent).toBe("1 tool");
    toggle().click();
    expect(model.get("use_tools")).toBe(false);
    expect(badge.hidden).toBe(true);
  });
});

describe("XSS corpus through tool calls and the approval prompt", () => {
  const vectors = corpus.filter((c) => !c.benign);

  /**
   * Anything that could run code or load something.
   * @param {Element} root
   */
  function dangers(root) {
    const found = [];
    for (const node of root.querySelectorAll("*")) {
      const tag = node.localName;
      if (["script", "iframe", "object", "embed", "form", "style", "link", "meta", "base", "svg", "math", "video", "audio"].includes(tag)) {
        found.push(tag);
      }
      if (tag === "img" && !(node.classList.contains("nbc-thumb") && (node.getAttribute("src") || "").startsWith("data:image/"))) {
        found.push(`img ${node.getAttribute("src")}`);
      }
      if (tag === "a") found.push("a");
      for (const attr of node.attributes) if (attr.name.startsWith("on")) found.push(`${tag}[${attr.name}]`);
    }
    return found;
  }

  it.each(vectors.map((c) => [c.id, c]))("%s stays text", (_id, c) => {
    const text = c.markdown;
    model.entries([
      {
        role: "assistant",
        blocks: [{ type: "tool", id: text, name: text, input: text, status: "failed", result: text }],
      },
    ]);
    model.update("approval", { id: text, name: text, input: text });
    const tool = one(el, ".nbc-tool");
    expect(dangers(tool)).toEqual([]);
    expect(dangers(prompt())).toEqual([]);
    const pres = [...tool.querySelectorAll("pre"), one(prompt(), "pre")];
    for (const pre of pres) expect(pre.textContent).toBe(text);
    expect(one(tool, ".nbc-tool-name").textContent).toBe(text);
    expect(one(prompt(), "code").textContent).toBe(text);
  });
});

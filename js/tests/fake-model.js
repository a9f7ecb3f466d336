// A stand-in for anywidget's model: traits, change events, custom messages both ways.

/** @typedef {import("../protocol.js").Traits} Traits */
/** @typedef {import("../protocol.js").FromViewMsg} FromViewMsg */
/** @typedef {import("../protocol.js").ToViewMsg} ToViewMsg */
/** @typedef {import("../view.js").Handler} Handler */
/** @typedef {import("../view.js").ModelEvent} ModelEvent */
/** @typedef {import("../view.js").Model} Model */
/**
 * A message the view sent, with its buffers.
 * @template {FromViewMsg} [M=FromViewMsg]
 * @typedef {{content: M, buffers: ArrayBuffer[] | undefined}} Sent
 */

/** @implements {Model} */
export class FakeModel {
  /** @param {Partial<Traits>} [state]  traits that differ from ChatWidget's defaults */
  constructor(state = {}) {
    /** @type {Traits} */
    this.state = {
      busy: false,
      usage: { input_tokens: 0, output_tokens: 0 },
      cost: null,
      budget: null,
      models: [{ id: "claude-haiku-4-5", display_name: "Claude Haiku 4.5" }],
      model: "claude-haiku-4-5",
      system: "",
      max_tokens: 1024,
      error: null,
      tool_names: [],
      use_tools: true,
      approval: null,
      saved_id: "",
      shared: true,
      ...state,
    };
    /** @type {Map<ModelEvent, Set<Handler>>} */
    this.handlers = new Map();
    /** @type {Sent[]} */
    this.sent = [];
    this.saved = 0;
    this.seq = 0;
  }

  /**
   * @template {keyof Traits} K
   * @param {K} name
   * @returns {Traits[K]}
   */
  get(name) {
    return this.state[name];
  }

  /**
   * @template {keyof Traits} K
   * @param {K} name
   * @param {Traits[K]} value
   */
  set(name, value) {
    this.state[name] = value;
    this.emit(`change:${name}`);
  }

  save_changes() {
    this.saved += 1;
  }

  /** @param {ModelEvent} event @param {Handler} cb */
  on(event, cb) {
    let handlers = this.handlers.get(event);
    if (!handlers) this.handlers.set(event, (handlers = new Set()));
    handlers.add(cb);
  }

  /** @param {ModelEvent} event @param {Handler} cb */
  off(event, cb) {
    this.handlers.get(event)?.delete(cb);
  }

  /** @param {ModelEvent} event @param {unknown[]} args */
  emit(event, ...args) {
    for (const cb of this.handlers.get(event) || []) cb(...args);
  }

  /**
   * View -> Python: recorded in `sent`.
   * @param {FromViewMsg} content
   * @param {undefined} [_callbacks]
   * @param {ArrayBuffer[]} [buffers]
   */
  send(content, _callbacks, buffers) {
    this.sent.push({ content, buffers });
  }

  /**
   * The messages of one kind that the view sent, oldest first.
   * @template {FromViewMsg["type"]} K
   * @param {K} type
   * @returns {Sent<Extract<FromViewMsg, {type: K}>>[]}
   */
  sentOf(type) {
    return this.sent.filter(
      /** @returns {m is Sent<Extract<FromViewMsg, {type: K}>>} */
      (m) => m.content.type === type,
    );
  }

  /**
   * Python -> view: set a trait as the kernel would.
   * @template {keyof Traits} K
   * @param {K} name
   * @param {Traits[K]} value
   */
  update(name, value) {
    this.set(name, value);
  }

  /**
   * Python -> view: a custom message.
   * @param {ToViewMsg} content
   * @param {DataView[]} [buffers]
   */
  message(content, buffers = []) {
    this.emit("msg:custom", content, buffers);
  }

  /**
   * Python -> view: the transcript from entry `start` on (an ENTRIES message, numbered in order).
   * @param {import("../protocol.js").Entry[]} entries
   * @param {number} [start]
   */
  entries(entries, start = 0) {
    this.seq += 1;
    this.message({ type: "entries", seq: this.seq, start, entries });
  }

  listenerCount() {
    let n = 0;
    for (const set of this.handlers.values()) n += set.size;
    return n;
  }
}

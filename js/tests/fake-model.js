// A stand-in for anywidget's model: traits, change events, custom messages both ways.

export class FakeModel {
  /** @param {Record<string, any>} [state] */
  constructor(state = {}) {
    this.state = {
      transcript: [],
      busy: false,
      usage: { input_tokens: 0, output_tokens: 0 },
      cost: null,
      models: [{ id: "claude-haiku-4-5", display_name: "Claude Haiku 4.5" }],
      model: "claude-haiku-4-5",
      system: "",
      max_tokens: 1024,
      error: null,
      ...state,
    };
    /** @type {Map<string, Set<Function>>} */
    this.handlers = new Map();
    /** @type {{content: any, buffers: ArrayBuffer[] | undefined}[]} */
    this.sent = [];
    this.saved = 0;
  }

  get(name) {
    return this.state[name];
  }

  set(name, value) {
    this.state[name] = value;
    this.emit(`change:${name}`);
  }

  save_changes() {
    this.saved += 1;
  }

  on(event, cb) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(cb);
  }

  off(event, cb) {
    this.handlers.get(event)?.delete(cb);
  }

  emit(event, ...args) {
    for (const cb of this.handlers.get(event) || []) cb(...args);
  }

  send(content, _callbacks, buffers) {
    this.sent.push({ content, buffers });
  }

  /** Python -> view: set a trait as the kernel would. */
  update(name, value) {
    this.set(name, value);
  }

  /** Python -> view: a custom message. */
  message(content, buffers = []) {
    this.emit("msg:custom", content, buffers);
  }

  listenerCount() {
    let n = 0;
    for (const set of this.handlers.values()) n += set.size;
    return n;
  }
}

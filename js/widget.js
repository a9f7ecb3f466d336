// nbclaude.ChatWidget front end: the anywidget entry point (bundled into nbclaude/static/).

import { ChatView } from "./view.js";

export default {
  /** @param {{model: import("./view.js").Model, el: HTMLElement}} ctx */
  render({ model, el }) {
    const view = new ChatView(model, el);
    return () => view.destroy();
  },
};

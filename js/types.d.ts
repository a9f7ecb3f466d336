// Types for the highlight.js entry points that its package.json `exports` leave untyped.
// highlight.js ships its types in types/index.d.ts, which declares "highlight.js" and
// "highlight.js/lib/languages/*" but not "highlight.js/lib/core" (the same API without the
// bundled languages: markdown.js registers the ones it wants).

/// <reference types="highlight.js" />

declare module "highlight.js/lib/core" {
  import hljs from "highlight.js";
  export default hljs;
}

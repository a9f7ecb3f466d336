// Bundle the widget: js/widget.js -> nbclaude/_widget/static/widget.js and js/widget.css (with KaTeX's
// CSS and its woff2 fonts inlined as data URLs, so math works offline) -> nbclaude/_widget/static/widget.css.
// `npm run build` once; `npm run dev` watches (use with ANYWIDGET_HMR=1 for live reload).

import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const watch = process.argv.includes("--watch");
const outdir = resolve(root, "nbclaude/_widget/static");
await mkdir(outdir, { recursive: true });

/** Drop the .woff/.ttf fallbacks from KaTeX's @font-face rules: every browser reads woff2. */
const woff2Only = {
  name: "woff2-only",
  setup(build) {
    build.onLoad({ filter: /katex\.css$/ }, async (args) => {
      const { readFile } = await import("node:fs/promises");
      const css = await readFile(args.path, "utf8");
      const contents = css.replace(/,\s*url\([^)]*\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)/g, "");
      return { contents, loader: "css", resolveDir: dirname(args.path) };
    });
  },
};

/** @type {import("esbuild").BuildOptions} */
const common = {
  absWorkingDir: root,
  bundle: true,
  minify: !watch,
  sourcemap: watch ? "inline" : false,
  legalComments: "eof",
  logLevel: "info",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
};

const contexts = [
  await esbuild.context({
    ...common,
    entryPoints: ["js/widget.js"],
    outfile: "nbclaude/_widget/static/widget.js",
    format: "esm",
  }),
  await esbuild.context({
    ...common,
    entryPoints: ["js/widget.css"],
    outfile: "nbclaude/_widget/static/widget.css",
    loader: { ".woff2": "dataurl" },
    plugins: [woff2Only],
  }),
];

if (watch) {
  await Promise.all(contexts.map((ctx) => ctx.watch()));
} else {
  await Promise.all(contexts.map((ctx) => ctx.rebuild()));
  await Promise.all(contexts.map((ctx) => ctx.dispose()));
}

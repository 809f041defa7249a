// One bundle per runtime: the CLI and benchmark (Node), the extension host (Node, vscode
// external), the engine worker (Node), and the browser viewer (webview panel and notebook renderer).
const esbuild = require('esbuild');
const path = require('path');
const fs = require('fs');

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

// Native modules stay outside the bundles and load from node_modules at run time.
const nodeExternal = ['onnxruntime-node', 'sharp', 'vscode'];

// vega-canvas's Node build probes the optional `canvas` package with a top-level await, which a
// CommonJS bundle cannot hold; the reports render SVG without a canvas, so its browser build
// (which finds no canvas in Node) serves.
const vegaCanvasWithoutNodeCanvas = {
  name: 'vega-canvas-browser',
  setup(build) {
    build.onResolve({ filter: /^vega-canvas$/ }, () => ({
      path: require.resolve('vega-canvas').replace(/vega-canvas\.node\.js$/, 'vega-canvas.browser.js'),
    }));
  },
};

const entries = [
  {
    entryPoints: { cli: 'src/cli/main.ts', bench: 'scripts/bench.ts', extension: 'src/extension/extension.ts', engineWorker: 'src/extension/engineWorker.ts' },
    platform: 'node',
    format: 'cjs',
    external: nodeExternal,
    plugins: [vegaCanvasWithoutNodeCanvas],
    // jsonc-parser's `main` is a UMD build whose require('./impl/…') calls esbuild cannot follow
    // (the extension then fails to load); its ES module build bundles.
    alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
  },
  // Notebook renderers are ES modules; the webview panels (explanation, gallery) load classic scripts.
  { entryPoints: { 'renderer/notebook': 'src/renderer/notebook.ts' }, platform: 'browser', format: 'esm' },
  { entryPoints: { 'renderer/panel': 'src/renderer/panel.ts', 'renderer/gallery': 'src/renderer/gallery.ts' }, platform: 'browser', format: 'iife' },
].filter((e) => Object.values(e.entryPoints).every((p) => fs.existsSync(path.join(__dirname, p))));

async function main() {
  const options = entries.map((e) => ({
    bundle: true,
    outdir: path.join(__dirname, 'dist'),
    sourcemap: !production,
    minify: production,
    target: e.platform === 'node' ? 'node20' : 'es2022',
    logLevel: 'warning',
    ...e,
  }));
  if (watch) {
    for (const o of options) await (await esbuild.context(o)).watch();
  } else {
    await Promise.all(options.map((o) => esbuild.build(o)));
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});

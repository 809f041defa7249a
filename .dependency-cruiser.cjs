// The layering check (`npm run lint:deps`, part of `npm test`): no import circles, and each layer
// imports only the layers below it. TypeScript 7 has no compiler API, so the swc parser reads the
// sources.

// The engine's layers from the bottom; a module imports only its own layer and those below it.
// Every engine module belongs to one of them: an import from or to one that does not fails.
const ENGINE_LAYERS = [
  { name: 'base', path: '^src/engine/(onnx/|(files|image|halvings|random|numpyRandom|npy|recentMap|verification|pairList|runtime|embedPool|plots|quantization|trustCheck)\\.ts$)' },
  { name: 'autodiff', path: '^src/engine/autodiff/' },
  { name: 'model', path: '^src/engine/(model|modelCard|shapeCache|batch)\\.ts$' },
  { name: 'xssab-and-faces', path: '^src/engine/((xssab|embeddings)\\.ts$|face/|methods/)' },
  { name: 'engine', path: '^src/engine/(engine|pair|inspect)\\.ts$' },
  { name: 'outputs', path: '^src/engine/(output|runFiles)\\.ts$' },
  { name: 'runs', path: '^src/engine/(explainPairs|patchlfw)/' },
];

const engineLayerRules = ENGINE_LAYERS.slice(1).map((layer, i) => ({
  name: `engine-below-${layer.name}`,
  severity: 'error',
  comment: `The engine's lower layers (${ENGINE_LAYERS.slice(0, i + 1).map((l) => l.name).join(', ')}) do not import the ${layer.name} layer.`,
  from: { path: ENGINE_LAYERS.slice(0, i + 1).map((l) => l.path) },
  to: { path: layer.path },
}));

const unplaced = { path: '^src/engine/', pathNot: ENGINE_LAYERS.map((l) => l.path) };
const placementRules = [
  { name: 'engine-module-placed', severity: 'error', comment: 'Each engine module is placed in one of ENGINE_LAYERS (.dependency-cruiser.cjs).', from: unplaced, to: {} },
  { name: 'engine-import-placed', severity: 'error', comment: 'Each engine module is placed in one of ENGINE_LAYERS (.dependency-cruiser.cjs).', from: {}, to: unplaced },
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...engineLayerRules,
    ...placementRules,
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No two modules import each other, directly or through others.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'engine-is-host-neutral',
      severity: 'error',
      comment: 'The engine runs in the CLI, the extension host and the engine worker: it imports nothing from the layers above it.',
      from: { path: '^src/engine/' },
      to: { path: '^src/(extension|renderer|cli)/' },
    },
    {
      name: 'renderer-is-browser-only',
      severity: 'error',
      comment: 'The renderer runs in a webview: it imports the renderer, the browser-safe shared layer and browser libraries only.',
      from: { path: '^src/renderer/' },
      to: { path: '^src/', pathNot: '^src/(renderer|shared)/' },
    },
    {
      name: 'browser-code-has-no-node',
      severity: 'error',
      comment: 'The renderer and src/shared run in webviews: no Node built-ins.',
      from: { path: '^src/(renderer|shared)/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'shared-is-self-contained',
      severity: 'error',
      comment: 'src/shared is what the engine, the host and the webviews all load: of the sources it imports only itself (browser-safe libraries such as d3 are fine).',
      from: { path: '^src/shared/' },
      to: { path: '^src/', pathNot: '^src/shared/' },
    },
    {
      name: 'vscode-only-in-the-extension',
      severity: 'error',
      comment: 'The engine, the CLI, the renderer and src/shared run without the VS Code API.',
      from: { path: '^src/(engine|cli|renderer|shared)/' },
      to: { path: '^vscode$' },
    },
  ],
  options: {
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|out|node_modules)/' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};

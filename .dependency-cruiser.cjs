// The layering check (`npm run lint:deps`, part of `npm test`): no import circles, and each layer
// imports only the layers below it. TypeScript 7 has no compiler API, so the swc parser reads the
// sources.

// The engine's layers from the bottom; a module imports only its own layer and those below it.
// A module in none of them (new ones, until they are placed here) is not checked.
const ENGINE_LAYERS = [
  { name: 'base', path: '^src/engine/(onnx/|(result|colour|files|image|halvings|random|npy|recentMap|verification|pairList|runtime|plots)\\.ts$)' },
  { name: 'autodiff', path: '^src/engine/autodiff/' },
  { name: 'model', path: '^src/engine/(model|modelCard|shapeCache)\\.ts$' },
  { name: 'xssab-and-faces', path: '^src/engine/((xssab|embeddings)\\.ts$|face/)' },
  { name: 'engine', path: '^src/engine/(engine|pair)\\.ts$' },
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

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...engineLayerRules,
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
      comment: 'The engine runs in the CLI, the extension host and the engine worker: no vscode, and nothing from the layers above it.',
      from: { path: '^src/engine/' },
      to: { path: ['^vscode$', '^src/(extension|renderer|cli)/'] },
    },
    {
      name: 'renderer-is-browser-only',
      severity: 'warn',
      comment: 'The renderer runs in a webview: it imports the renderer, the browser-safe shared layer and browser libraries only.',
      from: { path: '^src/renderer/' },
      to: { path: '^src/', pathNot: '^src/(renderer|shared)/' },
    },
    {
      name: 'renderer-no-node',
      severity: 'error',
      comment: 'The renderer runs in a webview: no Node built-ins, no vscode.',
      from: { path: '^src/renderer/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'shared-is-self-contained',
      severity: 'error',
      comment: 'src/shared is what the host and the webviews both load: it imports only itself.',
      from: { path: '^src/shared/' },
      to: { pathNot: '^src/shared/' },
    },
    {
      name: 'cli-no-vscode',
      severity: 'error',
      comment: 'The CLI runs without VS Code.',
      from: { path: '^src/cli/' },
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

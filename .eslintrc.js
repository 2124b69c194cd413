// ESLint 8 (eslintrc format) with typescript-eslint 8. `npm run lint`.

/*
 * The layers of libs/cache/src, lowest first (docs/architecture.md): a folder may import from its own
 * layer and those below, never from one above. The top layer (`layered: false`) may import from any
 * layer; only the layers below are kept from importing it.
 */
const SRC = './libs/cache/src';
const LAYERS = [
  { folders: ['errors'] },
  { folders: ['ttl', 'keys', 'eviction', 'logging', 'tracing'] },
  { folders: ['serialization', 'events'] },
  { folders: ['security'] },
  { folders: ['backends'] },
  { folders: ['codec'] },
  { folders: ['store'] },
  { folders: ['tiers'] },
  { folders: ['audit', 'access'] },
  { folders: ['observability', 'metrics'] },
  { folders: ['options'] },
  { folders: ['namespace'] },
  {
    folders: ['cache-registry.ts', 'cache.service.ts', 'cache.module.ts', 'cache.module-definition.ts', 'index.ts',
      'decorators', 'http', 'warmup', 'interop', 'admin', 'cli', 'health', 'prometheus', 'otel', 'testing', 'observed-caches.ts'],
    layered: false,
  },
];
const layerZones = LAYERS.flatMap((layer, i) => (layer.layered === false ? [] : layer.folders.map((folder) => ({
  target: `${SRC}/${folder}`,
  from: LAYERS.slice(i + 1).flatMap((above) => above.folders.map((f) => `${SRC}/${f}`)),
  message: `${folder}/ is below these folders (see the layers in docs/architecture.md)`,
}))));

module.exports = {
  root: true,
  parser: '@typescript-eslint/parser',
  parserOptions: { ecmaVersion: 2022, sourceType: 'module' },
  plugins: ['@typescript-eslint', 'import'],
  extends: ['eslint:recommended', 'plugin:@typescript-eslint/recommended'],
  env: { node: true, es2022: true, jest: true },
  settings: { 'import/resolver': { node: { extensions: ['.ts', '.js'] } } },
  ignorePatterns: ['node_modules/', 'dist/', 'libs/cache/dist/', 'bench/results/', 'coverage/'],
  rules: {
    // Folders depend only on folders below them; a cycle means a layering mistake.
    'import/no-cycle': 'error',
    'import/no-restricted-paths': ['error', { zones: layerZones }],
    '@typescript-eslint/no-explicit-any': 'off',
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    'no-control-regex': 'off',
  },
  overrides: [
    {
      // Specs may build a whole module to test a lower folder.
      files: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
      rules: { 'import/no-restricted-paths': 'off' },
    },
    {
      files: ['bench/**/*.js', '*.js'],
      parserOptions: { sourceType: 'script' },
      rules: { '@typescript-eslint/no-require-imports': 'off', '@typescript-eslint/no-var-requires': 'off', 'no-new-func': 'off' },
    },
  ],
};

// ESLint 8 (eslintrc format) with typescript-eslint 8. `npm run lint`.
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
    '@typescript-eslint/no-explicit-any': 'off',
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    'no-control-regex': 'off',
  },
  overrides: [
    {
      files: ['bench/**/*.js', '*.js'],
      parserOptions: { sourceType: 'script' },
      rules: { '@typescript-eslint/no-require-imports': 'off', '@typescript-eslint/no-var-requires': 'off', 'no-new-func': 'off' },
    },
  ],
};

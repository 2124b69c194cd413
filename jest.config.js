// One Jest run: unit (libs/**/*.spec.ts), contract and integration (libs/cache/test) and e2e (test/) suites.
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    // tsconfig's isolatedModules makes ts-jest transpile only; type checking is `npm run typecheck`'s job.
    '^.+\\.ts$': 'ts-jest',
    // Nest 12 and some of its dependencies are ES modules only; see the transform's first lines.
    '/node_modules/.+\\.m?js$': '<rootDir>/test/support/esm-to-cjs-transform.js',
  },
  transformIgnorePatterns: [],
  moduleNameMapper: {
    '^nest-cachekit$': '<rootDir>/libs/cache/src/index.ts',
    '^nest-cachekit/(prometheus|otel)$': '<rootDir>/libs/cache/src/$1/index.ts',
  },
  testTimeout: 30000,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

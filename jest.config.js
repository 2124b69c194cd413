/** One Jest run for unit (libs/**/*.spec.ts), contract and integration (libs/cache/test) and e2e (test/) suites. */
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    // Type checking is `npm run typecheck`'s job; transpiling alone keeps the suite fast.
    '^.+\\.ts$': ['ts-jest', { isolatedModules: true }],
  },
  moduleNameMapper: {
    '^nest-cachekit$': '<rootDir>/libs/cache/src/index.ts',
  },
  testTimeout: 30000,
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

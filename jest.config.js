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
  },
  moduleNameMapper: {
    '^nest-cachekit$': '<rootDir>/libs/cache/src/index.ts',
    '^nest-cachekit/(prometheus|otel)$': '<rootDir>/libs/cache/src/$1/index.ts',
  },
  testTimeout: 30000,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

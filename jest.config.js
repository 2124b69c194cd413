// One Jest run: unit (libs/**/*.spec.ts), contract and integration (libs/cache/test) and e2e (test/) suites.

// Nest 12 and some of its dependencies are ES modules only. From Node 24.9 run with
// --experimental-vm-modules (as CI's Node 24 run does), Jest loads them with Node's own require(esm);
// otherwise they are transpiled to CommonJS (see the transform's first lines).
const vm = require('node:vm');
const [major, minor] = process.versions.node.split('.').map(Number);
const nativeRequireEsm = (major > 24 || (major === 24 && minor >= 9)) && typeof vm.SyntheticModule === 'function';
const esmPackages = nativeRequireEsm
  ? {}
  : { '/node_modules/.+\\.m?js$': '<rootDir>/test/support/esm-to-cjs-transform.js' };

module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    // tsconfig's isolatedModules makes ts-jest transpile only; type checking is `npm run typecheck`'s job.
    '^.+\\.ts$': 'ts-jest',
    ...esmPackages,
  },
  ...(nativeRequireEsm ? {} : { transformIgnorePatterns: [] }),
  moduleNameMapper: {
    '^nest-cachekit$': '<rootDir>/libs/cache/src/index.ts',
    '^nest-cachekit/(prometheus|otel)$': '<rootDir>/libs/cache/src/$1/index.ts',
  },
  testTimeout: 30000,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

// `nest-cachekit/testing`: the backend contract suite, for tests of your own backend (Jest or Vitest).
export { describeBackendContract } from './backend-contract';
export type { BackendContractSubject, ContractTestApi } from './backend-contract';

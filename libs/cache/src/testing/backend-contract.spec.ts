/**
 * The exported contract suite itself: it registers its cases through whatever test API it is given
 * (so that it runs under Vitest as under Jest), and it fails a backend that breaks the contract.
 */
import { AssertionError } from 'node:assert';
import { MapBackendFactory } from '../../test/map-backend.fixture';
import { BackendContext, CacheBackend, CacheBackendFactory } from '../backends/cache-backend.interface';
import { MemoryBackendFactory } from '../backends/memory/memory-backend.factory';
import { InvalidArgumentError } from '../errors/invalid-argument.error';
import { ContractTestApi, describeBackendContract } from './index';

/** A minimal runner: collects the suite's cases and hooks, then runs them one by one. */
function collectingApi() {
  const tests: { name: string; run: () => Promise<void> }[] = [];
  const before: (() => Promise<void>)[] = [];
  const after: (() => Promise<void>)[] = [];
  const suites: string[] = [];
  const api: ContractTestApi = {
    describe: (name, body) => {
      suites.push(name);
      body();
    },
    it: (name, run) => {
      tests.push({ name, run });
    },
    beforeEach: (hook) => {
      before.push(hook);
    },
    afterEach: (hook) => {
      after.push(hook);
    },
  };
  /** Runs every case; resolves each case's error (or undefined), by name. */
  const runAll = async (): Promise<Map<string, unknown>> => {
    const outcomes = new Map<string, unknown>();
    for (const test of tests) {
      for (const hook of before) await hook();
      try {
        await test.run();
        outcomes.set(test.name, undefined);
      } catch (error) {
        outcomes.set(test.name, error);
      } finally {
        for (const hook of after) await hook();
      }
    }
    return outcomes;
  };
  return { api, suites, tests, runAll };
}

/**
 * The Map fixture with a prefix that lacks its terminator (`contract:{ns5` instead of `contract:{ns5}:`):
 * `clear()` of namespace `ns5` also removes the entries of `ns5-other`.
 */
class LeakyClearFactory implements CacheBackendFactory {
  private readonly inner = new MapBackendFactory();

  create(context: BackendContext): CacheBackend {
    return this.inner.create({ ...context, keyPrefix: context.keyPrefix.replace(/}:$/, '') });
  }
}

describe('describeBackendContract (nest-cachekit/testing)', () => {
  it('registers its cases with the test API it is given, and a correct backend passes all of them', async () => {
    const runner = collectingApi();
    const slept: number[] = [];
    describeBackendContract('memory', {
      setUp: async () => new MemoryBackendFactory(),
      tearDown: async () => undefined,
      sleep: (ms) => {
        slept.push(ms);
        return new Promise((resolve) => setTimeout(resolve, ms));
      },
    }, runner.api);
    expect(runner.suites).toEqual(['CacheBackend contract: memory']);
    expect(runner.tests.length).toBe(10);
    const outcomes = await runner.runAll();
    expect([...outcomes].filter(([, error]) => error !== undefined)).toEqual([]);
    // The TTL cases wait through the subject's sleep.
    expect(slept).toEqual([120, 120]);
  });

  it('fails a backend that breaks the contract, saying which check', async () => {
    const runner = collectingApi();
    describeBackendContract('leaky', { setUp: async () => new LeakyClearFactory(), tearDown: async () => undefined }, runner.api);
    const outcomes = await runner.runAll();
    const failed = [...outcomes].filter(([, error]) => error !== undefined);
    expect(failed.map(([name]) => name)).toEqual(['clear removes every entry of its namespace and none of another']);
    expect(failed[0][1]).toBeInstanceOf(AssertionError);
    expect((failed[0][1] as Error).message).toMatch(/^clear\(\) resolves the number removed/);
  });

  it('uses the runner\'s globals by default, and says what to pass when there are none', () => {
    const saved = globalThis.describe;
    try {
      delete (globalThis as { describe?: unknown }).describe;
      expect(() => describeBackendContract('x', { setUp: async () => new MemoryBackendFactory(), tearDown: async () => undefined }))
        .toThrow(InvalidArgumentError);
      expect(() => describeBackendContract('x', { setUp: async () => new MemoryBackendFactory(), tearDown: async () => undefined }))
        .toThrow(/import \{ describe, it, beforeEach, afterEach \} from 'vitest'/);
    } finally {
      globalThis.describe = saved;
    }
  });
});

// The globals path, as a Jest user calls it.
describeBackendContract('memory (Jest globals)', { setUp: async () => new MemoryBackendFactory(), tearDown: async () => undefined });

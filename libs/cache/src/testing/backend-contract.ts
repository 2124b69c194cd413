/**
 * The contract every CacheBackend must meet, written once and run against each backend (memory,
 * Redis, tiers, a user's own). Values are strings so that live-value and byte-storing backends are
 * held to the same checks. It registers its cases with the test runner's own `describe`/`it` and
 * asserts with `node:assert`, so it runs unchanged under Jest, Vitest, or any runner with those four
 * functions.
 */
import assert from 'node:assert/strict';
import { BackendContext, CacheBackend, CacheBackendFactory } from '../backends/cache-backend.interface';
import { InvalidArgumentError } from '../errors/invalid-argument.error';
import { EvictionStrategy } from '../eviction/eviction-strategy.interface';
import { LruStrategy } from '../eviction/lru-strategy';

/** The backend under test, made afresh for each case. */
export interface BackendContractSubject {
  /** Called before each case; the factory must start from an empty store. */
  setUp(): Promise<CacheBackendFactory>;
  /** Called after each case (close the factory's connections here). */
  tearDown(): Promise<void>;
  /** Eviction strategy of the backends under test (memory); LRU when absent. */
  eviction?: () => EvictionStrategy;
  /**
   * Lets `ms` of the backend's time pass, for the TTL cases (entries of 40 ms, checked after 120 ms).
   * Default: a real timer. A store on a server (Redis) needs real time; a backend whose clock the test
   * controls can advance it here.
   */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The test functions the suite registers its cases with: Jest's and Vitest's have these shapes
 * (`import { describe, it, beforeEach, afterEach } from 'vitest'`).
 */
export interface ContractTestApi {
  describe(name: string, body: () => void): void;
  it(name: string, test: () => Promise<void>): void;
  beforeEach(hook: () => Promise<void>): void;
  afterEach(hook: () => Promise<void>): void;
}

let run = 0;

/**
 * Registers the backend contract as one `describe` block named `CacheBackend contract: <name>`.
 * `api` defaults to the runner's globals (Jest; Vitest with `globals: true`).
 *
 * ```ts
 * describeBackendContract('map', { setUp: async () => new MapBackendFactory(), tearDown: async () => undefined });
 * ```
 */
export function describeBackendContract(name: string, subject: BackendContractSubject, api: ContractTestApi = globalTestApi()): void {
  const { describe, it, beforeEach, afterEach } = api;
  const sleep = subject.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  describe(`CacheBackend contract: ${name}`, () => {
    let factory: CacheBackendFactory;
    let backend: CacheBackend;
    let namespace: string;

    const context = (ns: string): BackendContext => ({
      namespace: ns,
      keyPrefix: `contract:{${ns}}:`,
      maxEntries: 1_000,
      maxBytes: 0,
      // Byte backends that bound their reads (Redis) run the whole contract through their bounded read.
      maxPayloadBytes: 64 * 1024,
      eviction: subject.eviction ?? (() => new LruStrategy()),
    });

    beforeEach(async () => {
      factory = await subject.setUp();
      namespace = `ns${++run}`;
      backend = factory.create(context(namespace));
    });
    afterEach(() => subject.tearDown());

    it('returns undefined for a key never set', async () => {
      assert.equal(await backend.get('missing'), undefined, 'get of a key never set');
      assert.equal(await backend.has('missing'), false, 'has of a key never set');
    });

    it('returns what was set, and the newest value after an overwrite', async () => {
      await backend.set('k', 'one', 0, 3);
      assert.equal(await backend.get('k'), 'one', 'get after set');
      await backend.set('k', 'two', 0, 3);
      assert.equal(await backend.get('k'), 'two', 'get after an overwrite');
      assert.equal(await backend.has('k'), true, 'has after set');
    });

    it('keeps keys that look like patterns or hash tags apart', async () => {
      const keys = ['a*', 'a?', '[a]', '{users}:1', 'ключ', 'a b', 'a:b:c'];
      for (const [i, key] of keys.entries()) await backend.set(key, `v${i}`, 0, 2);
      for (const [i, key] of keys.entries()) assert.equal(await backend.get(key), `v${i}`, `get('${key}')`);
    });

    it('deletes, reporting whether there was an entry', async () => {
      await backend.set('k', 'v', 0, 1);
      assert.equal(await backend.delete('k'), true, 'delete of an entry');
      assert.equal(await backend.get('k'), undefined, 'get after delete');
      assert.equal(await backend.delete('k'), false, 'delete of a missing key');
    });

    it('expires an entry after its TTL and keeps one without TTL', async () => {
      await backend.set('short', 'v', 40, 1);
      await backend.set('long', 'v', 60_000, 1);
      await backend.set('forever', 'v', 0, 1);
      assert.equal(await backend.get('short'), 'v', 'get before the TTL ran out');
      await sleep(120);
      assert.equal(await backend.get('short'), undefined, 'get after a 40 ms TTL, 120 ms later');
      assert.equal(await backend.has('short'), false, 'has after the TTL ran out');
      assert.equal(await backend.get('long'), 'v', 'get of an entry with a 60 s TTL');
      assert.equal(await backend.get('forever'), 'v', 'get of an entry without TTL');
    });

    it('mget returns values in key order with undefined for misses', async () => {
      await backend.set('a', 'A', 0, 1);
      await backend.set('c', 'C', 0, 1);
      assert.deepEqual(await backend.mget(['a', 'b', 'c', 'a']), ['A', undefined, 'C', 'A'], "mget(['a', 'b', 'c', 'a'])");
      assert.deepEqual(await backend.mget([]), [], 'mget([])');
    });

    it('mset writes every entry with its own TTL', async () => {
      await backend.mset([
        { key: 'x', value: 'X', ttlMs: 0, sizeBytes: 1 },
        { key: 'y', value: 'Y', ttlMs: 40, sizeBytes: 1 },
      ]);
      assert.deepEqual(await backend.mget(['x', 'y']), ['X', 'Y'], 'mget after mset');
      await sleep(120);
      assert.deepEqual(await backend.mget(['x', 'y']), ['X', undefined], 'mget after the 40 ms TTL of y ran out');
    });

    it('clear removes every entry of its namespace and none of another', async () => {
      const other = factory.create(context(`${namespace}-other`));
      for (let i = 0; i < 25; i++) await backend.set(`k${i}`, 'v', 0, 1);
      await other.set('k0', 'kept', 0, 4);
      assert.equal(await backend.clear(), 25, 'clear() resolves the number removed');
      assert.equal(await backend.get('k0'), undefined, 'get after clear');
      assert.equal(await other.get('k0'), 'kept', "another namespace's entry after clear");
      await other.clear();
    });

    it('invalidates by tag, when the backend supports tags', async () => {
      if (backend.invalidateTag === undefined) return;
      await backend.set('a', 'A', 0, 1, ['artist:1', 'genre:jazz']);
      await backend.set('b', 'B', 60_000, 1, ['artist:1']);
      await backend.set('c', 'C', 0, 1, ['genre:jazz']);
      await backend.mset([{ key: 'd', value: 'D', ttlMs: 0, sizeBytes: 1, tags: ['artist:1'] }]);
      await backend.set('e', 'E', 0, 1);
      assert.equal(await backend.invalidateTag('artist:1'), 3, "invalidateTag('artist:1') resolves how many");
      assert.deepEqual(await backend.mget(['a', 'b', 'c', 'd', 'e']), [undefined, undefined, 'C', undefined, 'E'], "mget after invalidateTag('artist:1')");
      assert.equal(await backend.invalidateTag('artist:1'), 0, 'invalidateTag of a tag already invalidated');
      assert.equal(await backend.invalidateTag('genre:jazz'), 1, "invalidateTag('genre:jazz')");
      assert.equal(await backend.get('c'), undefined, 'get of an entry whose tag was invalidated');
      assert.equal(await backend.clear(), 1, 'clear() after the tag invalidations');
    });

    it("never lets one namespace read, delete or clear another namespace's keys", async () => {
      const other = factory.create(context(`${namespace}x`));
      await backend.set('shared', 'mine', 0, 4);
      await other.set('shared', 'theirs', 0, 6);
      assert.equal(await backend.get('shared'), 'mine', 'get in one namespace');
      assert.equal(await other.get('shared'), 'theirs', 'get of the same key in a namespace whose name extends the first');
      await other.delete('shared');
      assert.equal(await backend.get('shared'), 'mine', "get after the other namespace's delete");
      await other.clear();
    });
  });
}

function globalTestApi(): ContractTestApi {
  const api = globalThis as unknown as Partial<ContractTestApi>;
  if (typeof api.describe === 'function' && typeof api.it === 'function' && typeof api.beforeEach === 'function' && typeof api.afterEach === 'function') {
    return api as ContractTestApi;
  }
  throw new InvalidArgumentError(
    'describeBackendContract: the test runner has no describe/it/beforeEach/afterEach globals (Jest has them; Vitest with globals: true); ' +
      "pass them as the third argument: import { describe, it, beforeEach, afterEach } from 'vitest'",
  );
}

import { MemoryBackend } from '../memory/memory-backend';
import { BackendUnavailableError } from '../../errors/backend-unavailable.error';
import { FaultInjectionBackend, FaultInjectionBackendFactory } from './fault-injection-backend';
import { MemoryBackendFactory } from '../memory/memory-backend.factory';
import { LruStrategy } from '../../eviction/lru-strategy';
import { InvalidArgumentError } from '../../errors/invalid-argument.error';

describe('FaultInjectionBackend', () => {
  const wrap = (options = {}): FaultInjectionBackend => new FaultInjectionBackend(new MemoryBackend({ maxEntries: 10 }), options, 'users');

  it('passes calls through while healthy', async () => {
    const backend = wrap();
    await backend.set('a', 1, 0, 8);
    expect(await backend.get('a')).toBe(1);
    expect(await backend.mget(['a', 'b'])).toEqual([1, undefined]);
    expect(backend.counters).toEqual({ calls: 3, failed: 0, delayed: 0 });
  });

  it('fails every call with BackendUnavailableError after disconnect(), until heal()', async () => {
    const backend = wrap();
    await backend.set('a', 1, 0, 8);
    backend.disconnect();
    await expect(backend.get('a')).rejects.toThrow(BackendUnavailableError);
    await expect(backend.set('b', 2, 0, 8)).rejects.toThrow(/injected disconnect/);
    await expect(backend.clear()).rejects.toMatchObject({ code: 'CACHE_BACKEND_UNAVAILABLE', namespace: 'users', operation: 'clear' });
    backend.heal();
    expect(await backend.get('a')).toBe(1);
    expect(await backend.get('b')).toBeUndefined();
    expect(backend.counters.failed).toBe(3);
  });

  it('times calls out after the given delay', async () => {
    const backend = wrap();
    backend.timeouts(20);
    await expect(backend.get('a')).rejects.toThrow(/injected timeout after 20 ms/);
  });

  it('fails the configured share of calls, drawn from the given random source', async () => {
    const draws = [0.1, 0.9, 0.2, 0.8];
    const backend = wrap({ failureRate: 0.5, random: () => draws.shift()! });
    const outcomes = await Promise.all([0, 1, 2, 3].map((i) => backend.get(`k${i}`).then(() => 'ok', () => 'failed')));
    expect(outcomes).toEqual(['failed', 'ok', 'failed', 'ok']);
  });

  it('adds latency to each call', async () => {
    const backend = wrap({ latencyMs: 5 });
    await backend.get('a');
    expect(backend.counters.delayed).toBe(1);
  });

  it('rejects nonsense settings', () => {
    expect(() => wrap({ failureRate: 2 })).toThrow(InvalidArgumentError);
    expect(() => wrap({ latencyMs: -1 })).toThrow(InvalidArgumentError);
  });

  it('offers invalidateTag only when the wrapped backend has it', () => {
    expect(typeof wrap().invalidateTag).toBe('function');
    const bare = { name: 'bare', storesLiveValues: false, get: () => undefined, set: () => undefined, delete: () => false, has: () => false, mget: () => [], mset: () => undefined, clear: () => 0 };
    expect(new FaultInjectionBackend(bare).invalidateTag).toBeUndefined();
  });

  it('as a factory, switches faults on every backend it built', async () => {
    const factory = new FaultInjectionBackendFactory(new MemoryBackendFactory());
    const context = { namespace: 'n', keyPrefix: 'p:', maxEntries: 10, maxBytes: 0, eviction: () => new LruStrategy() };
    const [a, b] = [factory.create(context), factory.create({ ...context, namespace: 'm' })];
    factory.disconnect();
    await expect(a.get('x')).rejects.toThrow(BackendUnavailableError);
    await expect(b.get('x')).rejects.toThrow(BackendUnavailableError);
    factory.heal();
    expect(await a.get('x')).toBeUndefined();
  });
});

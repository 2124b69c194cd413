import { randomBytes } from 'node:crypto';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import { CacheModuleOptions } from '../options/cache-module-options.interface';
import { resolveCacheOptions } from '../options/resolve-cache-options';
import { resolveBusOptions } from './resilience-options';

const SECRET = randomBytes(32).toString('base64');

function problemsOf(options: unknown): string[] {
  try {
    resolveCacheOptions(options as CacheModuleOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionsError);
    return (error as InvalidOptionsError).problems.map((p) => `${p.path}: ${p.reason}`);
  }
  throw new Error('expected the options to be rejected');
}

describe('tier and resilience options', () => {
  const redis = { port: 1 };

  it('resolves l1, failSafe and lock with their defaults', () => {
    const resolved = resolveCacheOptions({
      redis, bus: { secret: SECRET },
      namespaces: { users: { backend: 'redis', l1: { ttl: '1m' }, failSafe: { grace: '10m', softTimeout: '100ms', hardTimeout: '2s' }, lock: true } },
    });
    expect(resolved.namespaces.get('users')!.resilience).toMatchObject({
      l1: { maxEntries: 10_000, ttlMs: 60_000 }, graceMs: 600_000, softTimeoutMs: 100, hardTimeoutMs: 2_000, lock: { ttlMs: 10_000, pollMs: 25 },
    });
    expect(resolved.namespaces.get('default')!.resilience).toBeUndefined();
  });

  it.each([
    [{ namespaces: { users: { l1: {} } } }, /^namespaces\.users\.l1: is set on a "memory" namespace/],
    [{ redis, namespaces: { users: { backend: 'redis', l1: {} } } }, /^namespaces\.users\.l1: on "redis" needs the invalidation bus/],
    [{ redis, bus: { secret: SECRET }, namespaces: { users: { backend: 'redis', l1: { maxEntries: 0 } } } }, /^namespaces\.users\.l1\.maxEntries: must not be less than 1/],
    [{ redis, bus: { secret: SECRET }, namespaces: { users: { backend: 'redis', l1: { ttl: 'soon' } } } }, /^namespaces\.users\.l1\.ttl: "soon" is not a duration string/],
    [{ redis, bus: { secret: SECRET }, namespaces: { users: { backend: 'redis', l1: { eviction: 'fifo' } } } }, /^namespaces\.users\.l1\.eviction: must be "lru", "lfu", "adaptive"/],
    [{ redis, bus: { secret: SECRET }, namespaces: { users: { backend: 'redis', l1: { size: 5 } } } }, /^namespaces\.users\.l1\.size: is not a known option/],
    [{ redis, bus: { secret: SECRET }, namespaces: { users: { backend: 'redis', l1: 5 } } }, /^namespaces\.users\.l1: must be an object/],
    [{ redis, namespaces: { users: { backend: 'redis', failSafe: { grace: '1m' } } } }, /^namespaces\.users\.failSafe: needs an "l1"/],
    [{ redis, namespaces: { users: { backend: 'redis', lock: true } } }, /^namespaces\.users\.lock: needs an "l1"/],
    [{ redis, bus: { secret: SECRET }, namespaces: { users: { backend: 'redis', l1: {}, failSafe: {} } } }, /^namespaces\.users\.failSafe\.grace: is required/],
    [{ redis, bus: { secret: SECRET }, namespaces: { users: { backend: 'redis', l1: {}, failSafe: { grace: '1m', softTimeout: '2s', hardTimeout: '1s' } } } }, /^namespaces\.users\.failSafe\.softTimeout: is 2000 ms, not below hardTimeout/],
    [{ redis, bus: { secret: SECRET }, namespaces: { users: { backend: 'redis', l1: {}, failSafe: { grace: '1m', hardTimeout: '1h' } } } }, /^namespaces\.users\.failSafe\.hardTimeout: must be from 1 to 600000 ms/],
    [{ redis, bus: { secret: SECRET }, namespaces: { users: { backend: 'redis', l1: {}, lock: { ttl: 5 } } } }, /^namespaces\.users\.lock\.ttl: must be from 10 to 600000 ms/],
    [{ redis, bus: { secret: SECRET }, namespaces: { users: { backend: 'redis', l1: {}, lock: 'yes' } } }, /^namespaces\.users\.lock: must be true or an object/],
    [{ backends: { mine: { create: () => null } }, namespaces: { users: { backend: 'mine', l1: {} } } }, /^namespaces\.users\.l1\.ttl: is required on the "mine" backend/],
    [{ backends: { mine: { create: () => null } }, namespaces: { users: { backend: 'mine', l1: { ttl: '1m' }, lock: true } } }, /^namespaces\.users\.lock: needs the "redis" backend/],
    [{ bus: { secret: 'short' } }, /^bus\.secret: must be a random key written as base64 or hex \(this is neither: a passphrase\?\)/],
    [{ bus: { secret: randomBytes(16).toString('base64') } }, /^bus\.secret: must be a random key of at least 32 bytes \(it decodes to 16\)/],
    [{ bus: { secret: [] } }, /^bus\.secret: must be a random key \(or a non-empty array of them/],
    [{ bus: { secret: 42 } }, /^bus\.secret: must be a string/],
    [{ bus: { secret: [SECRET, 'correct horse battery staple 123'] } }, /^bus\.secret\[1\]: must be a random key written as base64 or hex \(this is neither/],
    [{ bus: { secret: SECRET, heartbeat: '5ms' } }, /^bus\.heartbeat: must be from 10 to 60000 ms/],
    [{ bus: { secret: SECRET, channel: 'a b' } }, /^bus\.channel: must not be empty or contain whitespace/],
    [{ bus: { secret: SECRET, topic: 'x' } }, /^bus\.topic: is not a known option/],
    [{ redis, bus: { secret: SECRET }, namespaces: { users: { backend: 'redis', l1: {}, failSafe: { grace: '1m', earlyRefresh: 1.5 } } } }, /^namespaces\.users\.failSafe\.earlyRefresh: must not be greater than 0\.99/],
    [{ breaker: { failureThreshold: 0 } }, /^breaker\.failureThreshold: must not be less than 1/],
    [{ breaker: { openFor: 'never' } }, /^breaker\.openFor: "never" is not a duration string/],
  ])('rejects %j with a message naming the field', (options, expected) => {
    expect(problemsOf(options)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it('never echoes the bus secret', () => {
    const message = problemsOf({ bus: { secret: 'hunter2-short-secret' } }).join('\n');
    expect(message).toMatch(/bus\.secret/);
    expect(message).not.toMatch(/hunter2/);
  });
});

describe('bus replay window and outage writes', () => {
  const redis = { port: 1 };

  it('resolves bus.replayWindow (default 30 s) and l1.outageWrites (default "l1")', () => {
    const defaults = resolveCacheOptions({ redis, bus: { secret: SECRET }, namespaces: { users: { backend: 'redis', l1: {} } } });
    expect(resolveBusOptions(defaults.raw, 'cache:')).toMatchObject({ replayWindowMs: 30_000, heartbeatMs: 1_000 });
    expect(defaults.namespaces.get('users')!.resilience!.l1.outageWrites).toBe('l1');
    const set = resolveCacheOptions({
      redis, bus: { secret: SECRET, replayWindow: '5s' }, namespaces: { users: { backend: 'redis', l1: { outageWrites: 'throw' } } },
    });
    expect(resolveBusOptions(set.raw, 'cache:')!.replayWindowMs).toBe(5_000);
    expect(set.namespaces.get('users')!.resilience!.l1.outageWrites).toBe('throw');
  });

  it.each([
    [{ bus: { secret: SECRET, replayWindow: '500ms' } }, /^bus\.replayWindow: must be from 1000 to 600000 ms/],
    [{ bus: { secret: SECRET, replayWindow: 'later' } }, /^bus\.replayWindow: "later" is not a duration string/],
    [{ redis, bus: { secret: SECRET }, namespaces: { users: { backend: 'redis', l1: { outageWrites: 'drop' } } } }, /^namespaces\.users\.l1\.outageWrites: must be one of the following values: l1, throw/],
  ])('rejects %j with a message naming the field', (options, expected) => {
    expect(problemsOf(options)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });
});

import { randomBytes } from 'node:crypto';
import { InvalidOptionsError } from '../errors/invalid-options.error';
import { LruStrategy } from '../eviction/lru-strategy';
import { Fernet } from '../security/fernet/fernet';
import { MsgpackSerializer } from '../serialization/msgpack-serializer';
import { CacheModuleOptions } from './cache-module-options.interface';
import { resolveCacheOptions } from './resolve-cache-options';

function problemsOf(options: unknown): string[] {
  try {
    resolveCacheOptions(options as CacheModuleOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionsError);
    return (error as InvalidOptionsError).problems.map((p) => `${p.path}: ${p.reason}`);
  }
  throw new Error('expected the options to be rejected');
}

describe('resolveCacheOptions', () => {
  it('fills in defaults and always creates the default namespace', () => {
    const resolved = resolveCacheOptions({ namespaces: { users: { ttl: '1h' } } });
    expect(resolved.defaultNamespace).toBe('default');
    const users = resolved.namespaces.get('users')!;
    expect(users).toMatchObject({
      backend: 'memory', ttlMs: 3_600_000, maxEntries: 10_000, maxBytes: 0, maxValueBytes: 1_048_576,
      keyPrefix: 'cache:{users}:', evictionName: 'lru', maxKeyLength: 1024,
    });
    expect(resolved.namespaces.get('default')!.ttlMs).toBe(0);
  });

  it('applies defaults under each namespace\'s own settings', () => {
    const resolved = resolveCacheOptions({
      keyPrefix: 'app:',
      defaults: { ttl: 60_000, maxEntries: 5 },
      namespaces: { users: { maxEntries: 7, keyPrefix: 'u:' }, tracks: {} },
    });
    expect(resolved.namespaces.get('users')).toMatchObject({ ttlMs: 60_000, maxEntries: 7, keyPrefix: 'app:u:' });
    expect(resolved.namespaces.get('tracks')).toMatchObject({ ttlMs: 60_000, maxEntries: 5, keyPrefix: 'app:{tracks}:' });
  });

  it('accepts the adaptive eviction strategy by name', () => {
    const resolved = resolveCacheOptions({ namespaces: { users: { eviction: 'adaptive' } } });
    expect(resolved.namespaces.get('users')!.evictionName).toBe('adaptive');
    expect(resolved.namespaces.get('users')!.eviction().name).toBe('adaptive');
  });

  it('accepts a custom eviction factory', () => {
    const resolved = resolveCacheOptions({ namespaces: { users: { eviction: () => new LruStrategy() } } });
    expect(resolved.namespaces.get('users')!.evictionName).toBe('custom');
    expect(resolved.namespaces.get('users')!.eviction().name).toBe('lru');
  });

  it.each([
    [{ namespaces: { users: { ttl: -5 } } }, /^namespaces\.users\.ttl: -5 is not a non-negative integer/],
    [{ namespaces: { users: { ttl: '1 hour' } } }, /^namespaces\.users\.ttl: "1 hour" is not a duration string/],
    [{ namespaces: { users: { maxEntries: 0 } } }, /^namespaces\.users\.maxEntries: must not be less than 1 \(got 0\)/],
    [{ namespaces: { users: { maxEntries: 2.5 } } }, /^namespaces\.users\.maxEntries: must be an integer number \(got 2\.5\)/],
    [{ namespaces: { users: { maxBytes: '1mb' } } }, /^namespaces\.users\.maxBytes: must be an integer number \(got "1mb"\)/],
    [{ namespaces: { users: { eviction: 'fifo' } } }, /^namespaces\.users\.eviction: must be "lru", "lfu", "adaptive" or a function/],
    [{ namespaces: { users: { backend: 'dynamo' } } }, /^namespaces\.users\.backend: unknown backend "dynamo"/],
    [{ namespaces: { users: { backend: 'redis' } } }, /^namespaces\.users\.backend: is "redis" but no "redis" connection options are set/],
    [{ namespaces: { users: { keyPrefix: 'a*' } } }, /^namespaces\.users\.keyPrefix: must not contain whitespace/],
    [{ namespaces: { users: { tll: 5 } } }, /^namespaces\.users\.tll: is not a known option/],
    [{ namespaces: { users: { serializer: {} } } }, /^namespaces\.users\.serializer: must be an object with serialize\(\) and deserialize\(\), or serializeBytes\(\) and deserializeBytes\(\)/],
    [{ namespaces: { users: { serializer: { serializeBytes: () => Buffer.alloc(0) } } } }, /^namespaces\.users\.serializer: must be an object with serialize\(\) and deserialize\(\), or/],
    [{ namespaces: { 'bad name': {} } }, /^namespaces\."bad name": a namespace name must be/],
    [{ namespaces: { users: 'yes' } }, /^namespaces\.users: must be an object/],
    [{ defaults: { ttl: 'soon' } }, /^defaults\.ttl: "soon" is not a duration string/],
    [{ defaultNamespace: 'a:b' }, /^defaultNamespace: must be 1-64 letters/],
    [{ redis: { port: 70000 } }, /^redis\.port: must not be greater than 65535 \(got 70000\)/],
    [{ redis: { url: 'http://x' } }, /^redis\.url: must start with redis:\/\/ or rediss:\/\//],
    [{ redis: { url: 42 } }, /^redis\.url: must be a string/],
    [{ redis: { tls: 'yes' } }, /^redis\.tls: must be a boolean or an object/],
    [{ redis: { tls: { rejectUnauthorized: 'no' } } }, /^redis\.tls\.rejectUnauthorized: must be a boolean value/],
    [{ backends: { memory: { create: () => null } } }, /^backends\.memory: "memory" is a built-in backend name/],
    [{ backends: { mine: 42 } }, /^backends\.mine: must be a CacheBackendFactory/],
    [{ unknownOption: true }, /^unknownOption: is not a known option/],
    [{ keyPrefix: 'app:{x}:' }, /^keyPrefix: must not contain "\{" or "\}"/],
    [{ namespaces: { users: { maxBytes: 1000, maxValueBytes: 2000 } } }, /^namespaces\.users\.maxValueBytes: is 2000, larger than maxBytes \(1000\)/],
    [{ namespaces: { users: { backend: 'constructor' } } }, /^namespaces\.users\.backend: unknown backend "constructor"/],
    [{ namespaces: { users: { backend: 'toString' } }, backends: {} }, /^namespaces\.users\.backend: unknown backend "toString"/],
  ])('rejects %j with a message naming the field', (options, expected) => {
    expect(problemsOf(options)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it('treats names that exist on Object.prototype as ordinary names', () => {
    expect(resolveCacheOptions({ defaultNamespace: 'constructor' }).namespaces.has('constructor')).toBe(true);
  });

  it('caps the default maxValueBytes at maxBytes', () => {
    expect(resolveCacheOptions({ namespaces: { small: { maxBytes: 4096 } } }).namespaces.get('small')!.maxValueBytes).toBe(4096);
  });

  it('reports every problem at once', () => {
    expect(problemsOf({ namespaces: { a: { ttl: 'x' }, b: { maxEntries: -1 } } })).toHaveLength(2);
  });

  it('rejects a non-object', () => {
    expect(problemsOf(null)).toEqual(['(options): must be an object']);
  });

  it('never echoes a password or a URL (which may hold one) in its messages', () => {
    const message = problemsOf({ redis: { password: 12345678, url: 'ftp://user:hunter2@host' } }).join('\n');
    expect(message).toMatch(/redis\.password/);
    expect(message).toMatch(/redis\.url/);
    expect(message).not.toMatch(/12345678|hunter2/);
  });

  it('rejects namespaces whose key prefixes overlap on one shared backend', () => {
    const problems = problemsOf({
      redis: { port: 1 },
      defaults: { backend: 'redis' },
      namespaces: { users: { keyPrefix: 'u:' }, admins: { keyPrefix: 'u:admin:' } },
    });
    expect(problems).toEqual([expect.stringMatching(/^namespaces\.admins\.keyPrefix: key prefix "cache:u:admin:" starts with namespace "users"/)]);
  });

  describe('a byte serializer (namespaces.x.serializer: new MsgpackSerializer())', () => {
    const redis = { url: 'redis://127.0.0.1:9' };
    it('is accepted, and makes binary payloads the default', () => {
      const serializer = new MsgpackSerializer();
      const users = resolveCacheOptions({ redis, namespaces: { users: { backend: 'redis', serializer } } }).namespaces.get('users')!;
      expect(users.serializer).toBe(serializer);
      expect(users.payloadFormat).toBe('binary');
      const sealed = resolveCacheOptions({ redis, namespaces: { users: { backend: 'redis', serializer, encryption: { provider: 'aes-256-gcm', keys: [{ id: 'k1', key: randomBytes(32).toString('base64') }] } } } });
      expect(sealed.namespaces.get('users')!.payloadFormat).toBe('binary');
    });

    it('is refused with text payloads or Fernet, once, on the serializer field', () => {
      expect(problemsOf({ redis, namespaces: { users: { backend: 'redis', serializer: new MsgpackSerializer(), payloadFormat: 'text' } } }))
        .toEqual([expect.stringMatching(/^namespaces\.users\.serializer: "msgpack" writes bytes, which need binary payloads/)]);
      expect(problemsOf({ redis, namespaces: { users: { backend: 'redis', serializer: new MsgpackSerializer(), encryption: { provider: 'fernet', keys: [{ key: Fernet.generateKey() }] } } } }))
        .toEqual([expect.stringMatching(/^namespaces\.users\.serializer: "msgpack" writes bytes, which Fernet tokens cannot carry/)]);
    });
  });
});
